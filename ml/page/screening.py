"""Text or not text: dropping line candidates that are not writing, after reading them.

The segmenter learned that paper grain, ruling, holes, stains and rulers are not lines (see
`ml.page.lines.MIN_SCORE` for the candidates it is unsure of). What is left is checked once
read: a candidate read as one to three characters must have been found with high confidence
(on blank pages such candidates are colour-chart labels, ruler digits and stray marks, read as
"7", "C", "->"); a line read with almost no confidence, or without any ink darker than the
paper around it, is noise that a character language model would turn into invented words.

Calibrated on the validation pages (real and synthetic) plus 30 blank synthetic pages with
the committed models (`ml/weights/README.md`): these rules removed 14 of the 17 candidates that
matched no true line on synthetic pages (the 3 left were real text lines split or misplaced)
and 3 of 1,028 true lines (two read with confidence below 0.15, unreadable either way).
"""

from __future__ import annotations

import numpy as np

from ml.recognizer import RecognizedLine

# Line confidence as the recognizer reports it: calibrated (ml.calibration) to the expected
# 1 - CER of the line. 0.35 is where the raw geometric mean of 0.15, chosen on blank and
# textured pages, lands after calibration with the LM.
MIN_CONFIDENCE = 0.35
SHORT_TEXT = 3  # characters (spaces not counted): a reading this short needs a sure line
SHORT_MIN_SCORE = 0.78  # segmenter's mean band probability for such a short line
MIN_INK_CONTRAST = 40  # grey levels between the paper and the darkest ink of the line


def is_text(result: RecognizedLine, crop: np.ndarray, score: float) -> bool:
    """Whether a recognized line candidate (found with mean band probability `score`) is
    writing worth keeping."""
    characters = len(result.text.replace(" ", ""))
    if characters == 0 or result.confidence < MIN_CONFIDENCE:
        return False
    if characters <= SHORT_TEXT and score < SHORT_MIN_SCORE:
        return False
    paper, ink = np.percentile(crop, [50, 1])
    return paper - ink >= MIN_INK_CONTRAST
