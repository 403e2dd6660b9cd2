"""Confidences that mean something: the decoder's raw confidences mapped to how often it is right.

Raw confidences (ml.ctc) are peak frame probabilities: a word's is its least sure character's, a
line's the geometric mean of its characters'. They rank words fairly well but are no
probabilities: on the validation lines (beam search + LM), words under a raw 0.1 were right 32%
of the time, lines at a raw 0.5 had 79% of their characters right, and "unsure below 0.60"
flagged 55% of the words, 41% of them correct. Monotone maps fitted on validation lines, read as
the Recognizer reads them, give instead:

- word: P(the word is right), a logistic regression on log c and -log(1 - c) of the raw word
  confidence c (beta calibration, Kull et al. 2017; it fits the flat low end that Platt scaling
  misses: ECE 0.021 against 0.038) and on logit of the raw line confidence (words of badly read
  lines are more often wrong: cross-validated log loss 0.517 -> 0.499; word length did not
  help). A word is right when it equals the reference word aligned to it (Levenshtein alignment
  of word lists after NFC and whitespace collapsing, as for WER).
- line: its expected share of characters read right, 1 - CER of the line (clipped at 0), by the
  same regression on the raw line confidence with that share as a soft label, lines weighted by
  length. Not P(line has no error): only 24% of validation lines were perfect.

Weights are kept >= 0, so a calibrated confidence never falls as a raw one rises. Character
confidences and alternatives' probabilities stay raw. The maps are stored beside the model
(`calibration.json`) with its `created` stamp and the LM's settings and size; `Recognizer.load`
uses them only if those match.

    python -m ml.calibration fit --model ml/weights/crnn.pt \
        --val .cache/data/stanford-val.tsv .cache/data/fr-val.tsv
    python -m ml.calibration report --model ml/weights/crnn.pt --test .cache/data/fr-test.tsv
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import sys
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from rapidfuzz.distance import Levenshtein

from ml.charset import collapse_whitespace
from ml.errors import CheckpointError
from ml.lm import BEAM_WIDTH

if TYPE_CHECKING:
    from ml.recognizer import RecognizedLine, Recognizer

log = logging.getLogger(__name__)

FILE_NAME = "calibration.json"  # beside the model file it was fitted for
FORMAT_VERSION = 1
WORD_FEATURES = ("log(c)", "-log(1-c)", "logit(line c)")  # c: raw word confidence
LINE_FEATURES = ("log(c)", "-log(1-c)")  # c: raw line confidence
PRODUCT_THRESHOLD = 0.60  # settings.NOTES_LOW_CONFIDENCE: a word below it is marked unsure
TARGET_PRECISION = 0.60  # of the words marked unsure, this share should really be wrong ...
TARGET_RECALL = 0.70  # ... while this share of the wrong words is marked
REPORT_THRESHOLDS = (0.3, 0.4, 0.5, 0.55, 0.6, 0.65, 0.7, 0.8)
EPSILON = 1e-6  # raw confidences are clipped to [EPSILON, 1 - EPSILON] before any log
STALE = (
    "{path} was fitted for another model or LM ({fitted}); this recognizer is {actual}. "
    "Confidences stay uncalibrated until it is refitted: python -m ml.calibration fit "
    "--model {model} --val VAL.tsv ..."
)


def logit(p) -> np.ndarray:
    """log(p / (1 - p)), with p clipped away from 0 and 1."""
    p = np.clip(np.asarray(p, np.float64), EPSILON, 1 - EPSILON)
    return np.log(p) - np.log1p(-p)


def confidence_features(confidence) -> np.ndarray:
    """(N, 2): log c and -log(1 - c) of raw confidences c (both rise with c); the line map's."""
    c = np.clip(np.asarray(confidence, np.float64).reshape(-1), EPSILON, 1 - EPSILON)
    return np.stack([np.log(c), -np.log1p(-c)], axis=1)


def word_features(confidence, line_confidence) -> np.ndarray:
    """(N, 3): confidence_features of raw word confidences, then logit of their lines' raw ones."""
    return np.column_stack([confidence_features(confidence), logit(line_confidence).reshape(-1)])


@dataclass(frozen=True)
class Logistic:
    """p = sigmoid(weights · x + bias)."""

    weights: tuple[float, ...]
    bias: float

    def __call__(self, x: np.ndarray) -> np.ndarray:
        z = np.asarray(x, np.float64) @ np.asarray(self.weights) + self.bias
        return 1.0 / (1.0 + np.exp(-z))


def fit_logistic(
    x: np.ndarray, y: np.ndarray, weight: np.ndarray | None = None, l2: float = 1e-3
) -> Logistic:
    """Weighted logistic regression of soft labels y in [0, 1] on x (N, F), weights >= 0.

    Every feature rises with a confidence, so non-negative weights make p non-decreasing in each.
    A weight that comes out negative (the data cannot tell) is fixed at 0 and the rest refitted.
    """
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    w = np.ones(len(y)) if weight is None else np.asarray(weight, np.float64)
    w = w / max(w.mean(), 1e-12)  # so that l2 means the same whatever the amount of data
    free = np.ones(x.shape[1], bool)
    while True:
        beta = _newton(np.column_stack([x[:, free], np.ones(len(y))]), y, w, l2)
        weights = np.zeros(x.shape[1])
        weights[free] = beta[:-1]
        if (weights >= 0).all():
            return Logistic(tuple(float(v) for v in weights), float(beta[-1]))
        free &= weights > 0


def _newton(a: np.ndarray, y: np.ndarray, w: np.ndarray, l2: float) -> np.ndarray:
    penalty = np.full(a.shape[1], l2)
    penalty[-1] = 0.0  # the bias is not shrunk
    beta = np.zeros(a.shape[1])
    for _ in range(100):
        p = 1.0 / (1.0 + np.exp(-(a @ beta)))
        gradient = a.T @ (w * (p - y)) + penalty * beta
        hessian = (a * (w * p * (1 - p))[:, None]).T @ a + np.diag(penalty + 1e-9)
        step = np.linalg.solve(hessian, gradient)
        beta -= step
        if np.abs(step).max() < 1e-8:
            break
    return beta


def word_correctness(hypothesis: str, reference: str) -> list[bool]:
    """For each word of the hypothesis, whether it equals the reference word aligned to it."""
    hyp = collapse_whitespace(hypothesis).split()
    ref = collapse_whitespace(reference).split()
    right = [False] * len(hyp)
    for op in Levenshtein.opcodes(hyp, ref):
        if op.tag == "equal":
            right[op.src_start : op.src_end] = [True] * (op.src_end - op.src_start)
    return right


def line_accuracy(hypothesis: str, reference: str) -> tuple[float, int]:
    """(1 - CER of the line clipped at 0, reference characters)."""
    hyp, ref = collapse_whitespace(hypothesis), collapse_whitespace(reference)
    if not ref:
        return (1.0 if not hyp else 0.0), 0
    return max(0.0, 1.0 - Levenshtein.distance(hyp, ref) / len(ref)), len(ref)


@dataclass
class Observations:
    """Raw confidences of decoded lines and how right they were, word by word and line by line."""

    word_confidence: list[float] = field(default_factory=list)
    word_line_confidence: list[float] = field(default_factory=list)
    word_right: list[bool] = field(default_factory=list)
    line_confidence: list[float] = field(default_factory=list)
    line_accuracy: list[float] = field(default_factory=list)
    line_chars: list[int] = field(default_factory=list)

    def add(self, line: RecognizedLine, reference: str) -> None:
        """Record one line read with raw (uncalibrated) confidences, against its reference."""
        self.word_confidence += [w.confidence for w in line.words]
        self.word_line_confidence += [line.confidence] * len(line.words)
        self.word_right += word_correctness(line.text, reference)
        accuracy, chars = line_accuracy(line.text, reference)
        self.line_confidence.append(line.confidence)
        self.line_accuracy.append(accuracy)
        self.line_chars.append(chars)

    def merge(self, other: Observations) -> None:
        """Add another set's observations to this one."""
        for name, values in vars(other).items():
            getattr(self, name).extend(values)


@dataclass(frozen=True)
class Maps:
    """The word and line maps fitted for one way of decoding."""

    word: Logistic
    line: Logistic

    def word_probability(self, confidence, line_confidence) -> np.ndarray:
        """P(word is right) from raw word confidences and their lines' raw confidences."""
        return self.word(word_features(confidence, line_confidence))

    def line_probability(self, confidence) -> np.ndarray:
        """Expected share of a line's characters read right, from raw line confidences."""
        return self.line(confidence_features(confidence))

    @classmethod
    def from_dict(cls, data: dict) -> Maps:
        word, line = (
            Logistic(tuple(data[k]["weights"]), data[k]["bias"]) for k in ("word", "line")
        )
        return cls(word, line)


@dataclass(frozen=True)
class Calibration:
    """Maps for lines read with the LM and greedily, and the model and LM they were fitted for.

    Greedy readings need their own: they take each frame's likeliest class, so their peaks are
    high even on misread words (with the LM's maps, 0.60 flagged 26% of their wrong words).
    """

    identity: dict
    with_lm: Maps | None  # beam search with the LM (the default); None if the model has no LM
    greedy: Maps  # greedy decoding: beam_width=1, or lines past a page deadline's beam share
    fitted_on: dict = field(default_factory=dict)

    def maps(self, with_lm: bool) -> Maps:
        """The maps for lines read with the LM or without."""
        return self.with_lm if with_lm and self.with_lm else self.greedy

    def apply(self, line: RecognizedLine, *, with_lm: bool) -> RecognizedLine:
        """The line with calibrated word and line confidences (characters' and alternatives'
        stay as decoded)."""
        maps = self.maps(with_lm)
        raw = [w.confidence for w in line.words]
        probs = maps.word_probability(raw, [line.confidence] * len(raw)).tolist()
        words = tuple(replace(w, confidence=p) for w, p in zip(line.words, probs, strict=True))
        confidence = float(maps.line_probability(line.confidence)[0])
        return replace(line, confidence=confidence, words=words)

    def to_dict(self) -> dict:
        return {
            "format_version": FORMAT_VERSION,
            "targets": {"word": "P(word is right)", "line": "expected 1 - CER of the line"},
            "features": {"word": WORD_FEATURES, "line": LINE_FEATURES},
            "identity": self.identity,
            "with_lm": asdict(self.with_lm) if self.with_lm else None,
            "greedy": asdict(self.greedy),
            "fitted_on": self.fitted_on,
        }

    @classmethod
    def from_dict(cls, data: dict) -> Calibration:
        """Raises ValueError, KeyError or TypeError when `data` is not a calibration of this
        code's format and features."""
        expected = (FORMAT_VERSION, {"word": [*WORD_FEATURES], "line": [*LINE_FEATURES]})
        features = {k: list(v) for k, v in data["features"].items()}
        if (data["format_version"], features) != expected:
            raise ValueError("its format or features are not this code's")
        with_lm = Maps.from_dict(data["with_lm"]) if data["with_lm"] else None
        greedy = Maps.from_dict(data["greedy"])
        return cls(data["identity"], with_lm, greedy, data.get("fitted_on", {}))

    def save(self, path: str | Path) -> None:
        text = json.dumps(self.to_dict(), indent=2, ensure_ascii=False)
        Path(path).write_text(text + "\n")

    @classmethod
    def load(cls, path: str | Path) -> Calibration:
        try:
            return cls.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))
        except (OSError, ValueError, KeyError, TypeError) as err:
            raise CheckpointError(f"Cannot read calibration {path}: {err}") from err


def model_identity(metadata: dict, lm) -> dict:
    """What calibrated confidences depend on: the model (its creation stamp) and its LM with the
    settings beam search uses it with (None: decoded greedily)."""
    settings = None
    if lm is not None:
        settings = {"weight": lm.weight, "length_bonus": lm.length_bonus, "order": lm.order}
        settings |= {"contexts": len(lm.counts), "beam_width": BEAM_WIDTH}
    return {"model_created": metadata.get("created"), "lm": settings}


def load_calibration(path: str | Path, identity: dict, model: str | Path = "MODEL") -> Calibration:
    """The calibration in `path` if it fits a recognizer of `identity` (same model; same LM
    unless the recognizer reads without one, then the greedy maps serve), else CheckpointError."""
    calibration = Calibration.load(path)
    fitted = calibration.identity
    same_lm = identity["lm"] is None or fitted.get("lm") == identity["lm"]
    if fitted.get("model_created") != identity["model_created"] or not same_lm:
        actual = json.dumps(identity)
        raise CheckpointError(
            STALE.format(path=path, fitted=json.dumps(fitted), actual=actual, model=model)
        )
    return calibration


def calibration_for(model_path: str | Path, metadata: dict, lm) -> Calibration | None:
    """The calibration that fits this model and LM: the one stored in the model file itself
    (a fine-tune's, `ml.finetune`), else the one beside it; None, with a warning when one exists
    but is stale or unreadable, if neither fits."""
    if "calibration" in metadata:
        try:
            return embedded_calibration(metadata, lm, model_path)
        except CheckpointError as err:
            log.warning("%s", err)
            return None
    path = Path(model_path).with_name(FILE_NAME)
    if not path.exists():
        return None
    try:
        return load_calibration(path, model_identity(metadata, lm), model_path)
    except CheckpointError as err:
        log.warning("%s", err)
        return None


def embedded_calibration(metadata: dict, lm, model: str | Path = "MODEL") -> Calibration:
    """The calibration a model file carries in its metadata, if fitted with this LM (the
    weights are those of the very file, so only the LM can differ), else CheckpointError."""
    try:
        calibration = Calibration.from_dict(metadata["calibration"])
    except (ValueError, KeyError, TypeError) as err:
        raise CheckpointError(f"Cannot read the calibration stored in {model}: {err}") from err
    fitted, actual = calibration.identity.get("lm"), model_identity(metadata, lm)["lm"]
    if actual is not None and fitted != actual:
        raise CheckpointError(
            STALE.format(
                path=model, fitted=json.dumps(fitted), actual=json.dumps(actual), model=model
            )
        )
    return calibration


def flag_quality(p_right, right, threshold: float) -> tuple[float, float, float]:
    """(precision, recall, share flagged) of "unsure" = p_right < threshold, finding wrong words
    (precision NaN when nothing is flagged)."""
    flagged, wrong = np.asarray(p_right) < threshold, ~np.asarray(right, bool)
    caught = int((flagged & wrong).sum())
    precision = caught / flagged.sum() if flagged.any() else float("nan")
    return float(precision), caught / max(int(wrong.sum()), 1), float(flagged.mean())


def recommend_threshold(p_right, right) -> tuple[float, bool]:
    """The "unsure below" threshold closest to PRODUCT_THRESHOLD that meets both targets (and
    True), or, if none does, the one with the best F1 of the flag (and False)."""
    grid = np.round(np.arange(0.05, 0.96, 0.01), 2)
    scores = np.nan_to_num([flag_quality(p_right, right, t)[:2] for t in grid])
    meets = grid[(scores[:, 0] >= TARGET_PRECISION) & (scores[:, 1] >= TARGET_RECALL)]
    if len(meets):
        return float(meets[np.argmin(np.abs(meets - PRODUCT_THRESHOLD))]), True
    f1 = 2 * scores.prod(axis=1) / np.maximum(scores.sum(axis=1), 1e-12)
    return float(grid[int(np.argmax(f1))]), False


def reliability(predicted, observed, weight=None, bins: int = 10) -> list[tuple]:
    """Rows (bin low, count, mean predicted, mean observed) over equal-width bins of predicted;
    `weight` weighs the means (characters, for lines)."""
    predicted, observed = np.asarray(predicted, np.float64), np.asarray(observed, np.float64)
    weight = np.ones(len(predicted)) if weight is None else np.asarray(weight, np.float64)
    index = np.minimum((predicted * bins).astype(int), bins - 1)
    rows = []
    for b in range(bins):
        w = np.where(index == b, weight, 0.0)
        if w.any():
            means = (np.average(v, weights=w) for v in (predicted, observed))
            rows.append((b / bins, int((w > 0).sum()), *map(float, means)))
    return rows


def fit_maps(observations: Observations) -> Maps:
    """Fit the word and line maps on validation observations of one decoding."""
    obs = observations
    x = word_features(obs.word_confidence, obs.word_line_confidence)
    x_line = confidence_features(obs.line_confidence)
    line = fit_logistic(x_line, obs.line_accuracy, obs.line_chars)
    return Maps(fit_logistic(x, obs.word_right), line)


def observe(recognizer: Recognizer, manifest: Path, max_lines=0, beam_width=None) -> Observations:
    """Observations of a manifest's lines (max_lines of them evenly spaced, if set: the first N
    would be a few pages) read as `recognizer.recognize(beam_width=...)` reads them, raw."""
    from ml.manifest import read_manifest

    entries = read_manifest(manifest)
    if max_lines and len(entries) > max_lines:
        entries = [entries[i] for i in np.linspace(0, len(entries) - 1, max_lines).astype(int)]
    return observe_entries(recognizer, entries, beam_width, desc=manifest.stem)


def observe_entries(
    recognizer: Recognizer, entries, beam_width=None, *, desc: str = "", progress: bool = True
) -> Observations:
    """Observations of manifest entries read as `recognizer.recognize(beam_width=...)` reads
    them, with raw confidences."""
    from tqdm import tqdm

    saved, recognizer.calibration = recognizer.calibration, None
    obs = Observations()
    try:
        starts = range(0, len(entries), 64)
        for start in tqdm(starts, desc=desc, unit="batch", disable=not progress):
            batch = entries[start : start + 64]
            lines = recognizer.recognize([e.image for e in batch], beam_width=beam_width)
            for entry, line in zip(batch, lines, strict=True):
                obs.add(line, entry.text)
    finally:
        recognizer.calibration = saved
    return obs


def fit_calibration(
    with_lm: Observations | None, greedy: Observations, identity: dict, **fitted_on
) -> Calibration:
    """A calibration fitted on observations of both decodings, with the "unsure" flag's
    quality at the threshold that suits it best recorded in `fitted_on`."""
    calibration = Calibration(identity, fit_maps(with_lm) if with_lm else None, fit_maps(greedy))
    default = with_lm or greedy  # what the Recognizer reads with unless told otherwise
    maps = calibration.maps(with_lm is not None)
    p_right = maps.word_probability(default.word_confidence, default.word_line_confidence)
    threshold, met = recommend_threshold(p_right, default.word_right)
    precision, recall, _ = flag_quality(p_right, default.word_right, threshold)
    calibration.fitted_on.update(
        **fitted_on,
        size=f"{len(default.line_chars)} lines, {len(default.word_right)} words",
        fitted=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        unsure_below=threshold,
        targets_met=met,
        precision=round(precision, 4),
        recall=round(recall, 4),
    )
    return calibration


def describe(name: str, obs: Observations, maps: Maps, recommended: float | None = None) -> str:
    """Plain-text tables: the unsure flag's precision and recall at several thresholds, raw and
    calibrated, and reliability (confidence bins against what was observed)."""
    raw, right = np.asarray(obs.word_confidence), np.asarray(obs.word_right, bool)
    calibrated = maps.word_probability(raw, obs.word_line_confidence)
    chars = np.asarray(obs.line_chars)
    cer = 1 - np.average(obs.line_accuracy, weights=chars)  # lines' CER clipped at 1
    out = [
        f"## {name}: {len(chars)} lines (CER {cer:.4f}), {len(right)} words "
        f"({1 - right.mean():.1%} wrong)",
        "unsure below | raw: flagged precision recall | calibrated: flagged precision recall",
    ]
    for t in sorted({*REPORT_THRESHOLDS, *([recommended] if recommended else [])}):
        (rp, rr, rf), (cp, cr, cf) = flag_quality(raw, right, t), flag_quality(calibrated, right, t)
        mark = " (recommended)" if t == recommended else ""
        out.append(
            f"{t:12.2f} | {rf:12.1%} {rp:9.1%} {rr:6.1%} | {cf:19.1%} {cp:9.1%} {cr:6.1%}{mark}"
        )
    line_p = maps.line_probability(obs.line_confidence)
    for label, unit, predicted, observed, weight in (
        ("raw word confidence -> share of words right", "words", raw, right, None),
        ("calibrated P(word right) -> share right", "words", calibrated, right, None),
        ("raw line confidence -> 1 - CER", "lines", obs.line_confidence, obs.line_accuracy, chars),
        ("calibrated line confidence -> 1 - CER", "lines", line_p, obs.line_accuracy, chars),
    ):
        rows = reliability(predicted, observed, weight)
        ece = sum(n * abs(p - o) for _, n, p, o in rows) / max(sum(r[1] for r in rows), 1)
        out.append(f"{label} (expected calibration error {ece:.3f}):")
        out += [
            f"  {lo:.1f}-{lo + 0.1:.1f}: {n:6d} {unit}, mean {p:.3f}, observed {o:.3f}"
            for lo, n, p, o in rows
        ]
    return "\n".join(out)


@dataclass(frozen=True)
class CalibrationConfig:
    model: Path
    manifests: tuple[Path, ...]  # validation manifests to fit on, or test manifests to report on
    calibration: Path | None = None  # written by fit, read by report; default: beside the model
    max_lines: int = 0  # per manifest, evenly spaced; 0: all
    threads: int = 2


def _recognizer(model: Path, threads: int) -> Recognizer:
    import torch

    from ml.recognizer import Recognizer

    torch.set_num_threads(threads)
    return Recognizer.load(model)


def run_fit(config: CalibrationConfig) -> Calibration:
    """Read the validation manifests both ways, fit, save, and print how the flag does."""
    recognizer = _recognizer(config.model, config.threads)
    with_lm, greedy = (Observations() if recognizer.lm else None), Observations()
    for manifest in config.manifests:
        if with_lm is not None:
            with_lm.merge(observe(recognizer, manifest, config.max_lines))
        greedy.merge(observe(recognizer, manifest, config.max_lines, beam_width=1))
    calibration = fit_calibration(
        with_lm,
        greedy,
        model_identity(recognizer.metadata, recognizer.lm),
        manifests=[m.name for m in config.manifests],
        max_lines_per_manifest=config.max_lines,
    )
    fitted = calibration.fitted_on
    threshold, met = fitted["unsure_below"], fitted["targets_met"]
    precision, recall = fitted["precision"], fitted["recall"]
    out = config.calibration or Path(config.model).with_name(FILE_NAME)
    calibration.save(out)
    for name, obs in (("with the LM", with_lm), ("greedy", greedy)):
        if obs is not None:
            print(describe(f"validation, {name}", obs, calibration.maps(obs is with_lm), threshold))
    verdict = "meets the targets" if met else "best F1: no threshold meets the targets"
    print(f"\nunsure below {threshold:.2f} ({verdict}): P {precision:.1%}, R {recall:.1%} -> {out}")
    return calibration


def run_report(config: CalibrationConfig) -> Observations:
    """Read test manifests and print the raw and calibrated flag quality on each and all."""
    recognizer = _recognizer(config.model, config.threads)
    path = config.calibration or Path(config.model).with_name(FILE_NAME)
    identity = model_identity(recognizer.metadata, recognizer.lm)
    calibration = load_calibration(path, identity, config.model)
    maps = calibration.maps(with_lm=recognizer.lm is not None)
    recommended = calibration.fitted_on.get("unsure_below")
    pooled = Observations()
    for manifest in config.manifests:
        obs = observe(recognizer, manifest, config.max_lines)
        print(describe(manifest.stem, obs, maps, recommended) + "\n", flush=True)
        pooled.merge(obs)
    if len(config.manifests) > 1:
        print(describe("all", pooled, maps, recommended))
    return pooled


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ml.calibration", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("command", choices=("fit", "report"), help="fit and save, or report")
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--val", "--test", dest="manifests", type=Path, nargs="+", required=True)
    parser.add_argument("--out", "--calibration", dest="calibration", type=Path)  # or beside
    # A fit reads 200 lines per manifest (twice: with the LM and greedily), a few minutes on 2
    # busy cores; fitted on 100, 200 or all validation lines, the test flag moved by < 3 points.
    parser.add_argument("--max-lines", type=int, help="per manifest (default: fit 200, report all)")
    parser.add_argument("--threads", type=int, default=2)
    args = vars(parser.parse_args(argv))
    fitting = args.pop("command") == "fit"
    if args["max_lines"] is None:
        args["max_lines"] = 200 if fitting else 0
    run = run_fit if fitting else run_report
    try:
        run(CalibrationConfig(**{**args, "manifests": tuple(args["manifests"])}))
    except CheckpointError as err:
        print(err, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
