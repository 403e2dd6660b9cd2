"""Cleaning of the one-line labels people type: note titles, collection and tag names.

A label is shown in lists, page titles and exports, and compared for uniqueness. Invisible
characters there are only trouble: a right-to-left override (U+202E) makes "gpj.exe" read as
"exe.jpg", a zero-width space makes two tags that look the same, and a control character can
break a Markdown or CSV export. So every service that stores a label passes it through
`clean_label`, whichever door it came in by (web form, API, import).
"""

from __future__ import annotations

import unicodedata

# Cc: C0/C1 controls; Cf: format characters (bidi embeddings, overrides and isolates, zero-width
# space, word joiner, BOM, soft hyphen, ...); Cs: lone surrogates, which JSON can carry but no
# database encoding can store.
_INVISIBLE = frozenset({"Cc", "Cf", "Cs"})
# Joiners that spelling needs: ZWNJ in Persian and Indic words, ZWJ in emoji sequences. Kept
# between two visible characters, where they join; anywhere else they only hide.
_JOINERS = frozenset({"\u200c", "\u200d"})


def clean_label(value: str) -> str:
    """The label on one line: whitespace runs (tabs, newlines) as one space, invisible control
    and format characters dropped, no surrounding spaces, NFC-normalized."""
    # Whitespace first: a newline (Cc) means "a break", so it becomes a space, not nothing.
    text = " ".join(value.split())
    kept = [char for i, char in enumerate(text)
            if char == " " or _visible(text, i)
            or (char in _JOINERS and _visible(text, i - 1) and _visible(text, i + 1))]
    # Removing characters can bring a base letter and a combining mark together, so NFC last.
    return unicodedata.normalize("NFC", " ".join("".join(kept).split()))


def _visible(text: str, index: int) -> bool:
    """Whether text[index] exists and is a printed character: neither invisible nor a space."""
    if not 0 <= index < len(text):
        return False
    char = text[index]
    return not char.isspace() and unicodedata.category(char) not in _INVISIBLE
