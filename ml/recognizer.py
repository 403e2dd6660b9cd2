"""Line recognition: a loaded model that turns batches of line images into text.

Load once (a second or two: the LM, and the network's export to ONNX Runtime), then call
`recognize` with any number of lines: they are sorted by width and batched so padding stays
small, then returned in input order. A page is simply the batch of its lines.

The network runs on ONNX Runtime (ml.onnx_runtime: same outputs, ~1.4x faster than PyTorch on a
CPU) in a background thread, reading the next batch while this thread decodes the last one: the
beam search is Python and holds one core, the network releases the GIL and uses the others.
bfloat16 is not used: the CPU measured (AMD EPYC, AVX2) has no native bfloat16, where emulated
autocast was ~10x slower, and it changed 7% of the fr-val readings (CER -0.03 point).
"""

from __future__ import annotations

import contextlib
import copy
import logging
import queue
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_eval

from ml.calibration import Calibration, calibration_for
from ml.charset import Charset
from ml.checkpoint import load_model
from ml.ctc import Decoding, decode
from ml.errors import CheckpointError
from ml.images import ImageInput, batch_lines, prepare_line
from ml.lm import BEAM_WIDTH, CharNgramLM
from ml.model import CRNN
from ml.onnx_runtime import OnnxCRNN
from ml.page.budget import Deadline

log = logging.getLogger(__name__)

DEFAULT_MODEL = Path(__file__).with_name("weights") / "crnn.pt"
LM_FILE_NAME = "charlm.json.gz"  # a model's language model lives beside it
CHUNK_LINES = 256
DEADLINE_CHUNK_LINES = 32  # under a deadline, smaller chunks: the clock is checked more often
BATCH_PIXEL_COLUMNS = 16 * 640  # padded columns per batch: 16 lines of 16x their height
RUNTIMES = ("auto", "onnx", "torch")  # auto: ONNX Runtime if installed, else PyTorch
ERROR_NO_LM = (
    "No language model at {path}: the recognizer decodes with the character LM that ships "
    "beside its model ({name}). Pass use_lm=False (--no-lm) to decode greedily without one."
)


@dataclass(frozen=True)
class RecognizedLine:
    text: str
    # With a calibration (ml.calibration): expected 1 - CER of the line, and each word's
    # confidence is P(word is right). Character confidences and alternatives' probabilities stay
    # raw (peak frame probabilities, ml.ctc), as do all of them without a calibration.
    confidence: float
    char_confidences: tuple[float, ...]  # one per character of `text`, spaces included
    words: tuple  # of ml.ctc.Word: text, confidence, frames, alternatives


def fuse_for_inference(model: CRNN) -> CRNN:
    """An eval-mode copy with batch norm folded into the convolutions, in channels-last layout.

    Measured on a 2-core CPU: about 2x faster than the plain eval model, same outputs.
    """
    fused = copy.deepcopy(model).eval()
    layers, out = list(fused.cnn), []
    while layers:
        layer = layers.pop(0)
        if isinstance(layer, nn.Conv2d) and layers and isinstance(layers[0], nn.BatchNorm2d):
            layer = fuse_conv_bn_eval(layer, layers.pop(0))
        out.append(layer)
    fused.cnn = nn.Sequential(*out)
    return fused.to(memory_format=torch.channels_last)


def line_log_probs(
    model: CRNN | OnnxCRNN,
    lines: Sequence[np.ndarray],
    *,
    batch_size: int = 16,
    device: str | torch.device = "cpu",
) -> list[np.ndarray]:
    """Per-frame log-probabilities (T_i, classes) of each prepared line, in input order."""
    results: list[np.ndarray | None] = [None] * len(lines)
    for indices, log_probs in batch_log_probs(model, lines, batch_size=batch_size, device=device):
        for i, line_log_prob in zip(indices, log_probs, strict=True):
            results[i] = line_log_prob
    return results


def batch_log_probs(
    model: CRNN | OnnxCRNN,
    lines: Sequence[np.ndarray],
    *,
    batch_size: int = 16,
    device: str | torch.device = "cpu",
) -> Iterator[tuple[list[int], list[np.ndarray]]]:
    """(indices, log-probabilities (T_i, classes)) of prepared lines, one batch at a time."""
    for chunk in _batches(lines, batch_size):
        images, widths = batch_lines([lines[i] for i in chunk])
        if isinstance(model, OnnxCRNN):
            log_probs, lengths = model(images, widths)
        else:
            log_probs, lengths = _torch_log_probs(model, images, widths, device)
        yield chunk, [log_probs[: int(lengths[j]), j] for j in range(len(chunk))]


@torch.inference_mode()
def _torch_log_probs(
    model: CRNN, images: torch.Tensor, widths: torch.Tensor, device: str | torch.device
) -> tuple[np.ndarray, torch.Tensor]:
    images = images.to(device)
    if next(model.parameters()).is_contiguous(memory_format=torch.channels_last):
        images = images.contiguous(memory_format=torch.channels_last)
    logits, lengths = model(images, widths.to(device))
    return logits.float().log_softmax(-1).cpu().numpy(), lengths.cpu()  # (T, B, C), (B,)


def _batches(lines: Sequence[np.ndarray], batch_size: int) -> list[list[int]]:
    """Indices of lines grouped by similar width, each batch within a pixel budget.

    The budget keeps the convolutions' memory flat: 16 lines of ordinary width, fewer of the
    very wide ones (a batch of 16 lines of 2,400 px took ~300 MB more at its peak).
    """
    order = sorted(range(len(lines)), key=lambda i: lines[i].shape[1])
    batches: list[list[int]] = []
    for i in order:
        if batches:
            batch = batches[-1]
            widest = lines[i].shape[1]  # sorted: the newcomer is the widest
            if len(batch) < batch_size and widest * (len(batch) + 1) <= BATCH_PIXEL_COLUMNS:
                batch.append(i)
                continue
        batches.append([i])
    return batches


class Recognizer:
    """A model ready for inference, with its language model (unless loaded with use_lm=False).

    With a language model, lines are decoded by beam search with it (slower, fewer errors);
    without, greedily. `recognize(..., beam_width=1)` is always greedy.
    """

    def __init__(
        self,
        model: CRNN,
        charset: Charset,
        metadata: dict | None = None,
        *,
        lm: CharNgramLM | None = None,
        batch_size: int = 16,
        runtime: str = "auto",
    ):
        self.model = fuse_for_inference(model)
        self.network = _network(self.model, runtime)  # what reads the lines: ORT or the model
        self.charset = charset
        self.metadata = metadata or {}
        self.lm = lm
        self.batch_size = batch_size
        self.calibration: Calibration | None = None  # `load` sets the one fitted for the model

    @classmethod
    def load(
        cls,
        path: str | Path | None = None,
        *,
        lm_path: str | Path | None = None,
        use_lm: bool = True,
        batch_size: int = 16,
        runtime: str = "auto",
    ) -> Recognizer:
        """Load a model file and, unless use_lm is False, its LM (by default beside it).

        Raises:
            CheckpointError: a file is missing or unreadable, the LM included: a missing LM
                would silently cost ~20% more errors, so only use_lm=False goes without.
        """
        path = Path(path or DEFAULT_MODEL)
        model, charset, metadata = load_model(path)
        lm = None
        if use_lm:
            lm_path = Path(lm_path) if lm_path else path.with_name(LM_FILE_NAME)
            if not lm_path.exists():
                raise CheckpointError(ERROR_NO_LM.format(path=lm_path, name=LM_FILE_NAME))
            lm = CharNgramLM.load(lm_path)
        recognizer = cls(model, charset, metadata, lm=lm, batch_size=batch_size, runtime=runtime)
        recognizer.calibration = calibration_for(path, metadata, lm)  # None if absent or stale
        return recognizer

    @property
    def height(self) -> int:
        return self.model.config.height

    def recognize(
        self,
        images: Sequence[ImageInput],
        *,
        beam_width: int | None = None,
        alternatives: int = 0,
        deadline: Deadline | None = None,
    ) -> list[RecognizedLine]:
        """Text, confidences and (if alternatives > 1) alternative readings of each word.

        beam_width None: beam search with the LM if there is one, else greedy. With a deadline,
        lines decoded after its beam share are decoded greedily, and lines it leaves no time
        for come back as None.
        """
        results: list[RecognizedLine | None] = [None] * len(images)
        # In chunks: memory stays bounded however many lines come in, and each chunk is still
        # large enough to sort into batches of similar widths. Under a deadline, lines are
        # decoded in input order (a page's unread lines are its last ones), so a chunk is
        # decoded once all of it is read; otherwise each batch is decoded as it comes.
        chunk = CHUNK_LINES if deadline is None else DEADLINE_CHUNK_LINES
        with _Prefetched(self._read(images, chunk, whole_chunks=deadline is not None)) as outputs:
            for indices, log_probs in outputs:
                if deadline is not None and deadline.expired():
                    break
                for i, line_log_prob in zip(indices, log_probs, strict=True):
                    if deadline is not None and deadline.expired():
                        break
                    cheap = deadline is not None and not deadline.beam_allowed()
                    results[i] = self._decode(
                        line_log_prob, 1 if cheap else beam_width, alternatives
                    )
        return results

    def _read(
        self, images: Sequence[ImageInput], chunk: int, *, whole_chunks: bool
    ) -> Iterator[tuple[list[int], list[np.ndarray]]]:
        """(indices, log-probabilities) per batch, or per chunk in input order."""
        for start in range(0, len(images), chunk):
            lines = [prepare_line(image, self.height) for image in images[start : start + chunk]]
            batches = batch_log_probs(self.network, lines, batch_size=self.batch_size)
            if whole_chunks:
                by_line = dict(pair for batch in batches for pair in zip(*batch, strict=True))
                batches = [(list(range(len(lines))), [by_line[i] for i in range(len(lines))])]
            for indices, log_probs in batches:
                yield [start + i for i in indices], log_probs

    def _decode(
        self, log_probs: np.ndarray, beam_width: int | None, alternatives: int
    ) -> RecognizedLine:
        options = self._decode_options(beam_width, alternatives)
        decoding = decode(log_probs, self.charset, **options)
        return _to_result(decoding, self.calibration, with_lm="lm" in options)

    def _decode_options(self, beam_width: int | None, alternatives: int) -> dict:
        if beam_width is None:
            beam_width = BEAM_WIDTH if self.lm else 1
        options = {"beam_width": beam_width, "alternatives": alternatives}
        if self.lm and beam_width > 1:
            options |= {
                "lm": self.lm,
                "lm_weight": self.lm.weight,
                "length_bonus": self.lm.length_bonus,
            }
        return options


def _to_result(
    decoding: Decoding, calibration: Calibration | None = None, *, with_lm: bool = False
) -> RecognizedLine:
    line = RecognizedLine(
        text=decoding.text,
        confidence=decoding.confidence,
        char_confidences=tuple(s.confidence for s in decoding.chars),
        words=decoding.words,
    )
    # Greedy readings (beam_width=1, past a deadline's beam share) have maps of their own.
    return calibration.apply(line, with_lm=with_lm) if calibration else line


def _network(model: CRNN, runtime: str) -> CRNN | OnnxCRNN:
    """ONNX Runtime's copy of the model, or the PyTorch model itself (same outputs)."""
    if runtime not in RUNTIMES:
        raise ValueError(f"Unknown runtime {runtime!r}; expected one of {', '.join(RUNTIMES)}")
    if runtime == "torch":
        return model
    try:
        return OnnxCRNN(model)
    except ImportError as err:  # onnxruntime or onnx (for the export) not installed
        if runtime == "onnx":
            raise
        log.warning("Reading lines with PyTorch, ~1.4x slower: %s", err)
        return model


class _Prefetched:
    """Iterates `items` in a background thread, at most `ahead` items before they are asked for.

    A context manager: the thread starts on entry; leaving, even early, stops it after its
    current item and waits for it, so no work outlives the call. An exception raised by
    `items` is raised again where the items are consumed.
    """

    _END = object()

    def __init__(self, items: Iterable, ahead: int = 2):
        self._queue: queue.Queue = queue.Queue(maxsize=ahead)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._produce, args=(items,), daemon=True)

    def _produce(self, items: Iterable) -> None:
        try:
            for item in items:
                if self._stop.is_set():
                    return
                self._queue.put((item, None))
        except Exception as err:  # not handled here: raised again in the consuming thread
            self._queue.put((self._END, err))
        else:
            self._queue.put((self._END, None))

    def __iter__(self) -> Iterator:
        while True:
            item, error = self._queue.get()
            if item is self._END:
                if error is not None:
                    raise error
                return
            yield item

    def __enter__(self) -> _Prefetched:
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        while self._thread.is_alive():  # unblock a producer waiting for room in the queue
            with contextlib.suppress(queue.Empty):
                self._queue.get(timeout=0.05)
        self._thread.join()
