"""Training and evaluation data: real lines from manifests mixed with synthetic lines.

`LineStream` is an endless iterable of ready batches for a DataLoader with workers. Each worker
draws lines (a real one with probability `real_fraction`, else a freshly rendered synthetic one),
keeps a pool of them, sorts the pool by width and cuts it into batches, so little of a batch is
padding. Every worker has its own seeded RNGs: a run is reproducible for a given worker count.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch
from torch.utils.data import DataLoader, IterableDataset, get_worker_info

from ml.charset import Charset
from ml.errors import DataError
from ml.images import batch_lines, prepare_line
from ml.manifest import ManifestEntry, read_manifest
from ml.synth.augment import augment_real
from ml.synth.fields import LABELS, FieldText, render_field
from ml.synth.fonts import Font
from ml.synth.render import render_line
from ml.synth.text import TextSampler, Vocabulary

POOL_BATCHES = 8  # batches drawn at once, then regrouped by width


@dataclass(frozen=True)
class Batch:
    images: torch.Tensor  # (B, 1, H, W)
    widths: torch.Tensor  # (B,)
    targets: torch.Tensor  # (sum of label lengths,) class ids
    target_lengths: torch.Tensor  # (B,)
    texts: tuple[str, ...]

    def pin_memory(self) -> Batch:
        return Batch(
            self.images.pin_memory(), self.widths, self.targets, self.target_lengths, self.texts
        )


def fits_ctc(label: Sequence[int], frames: int) -> bool:
    """CTC can emit the label in `frames` steps (a repeated class needs a blank in between)."""
    repeats = sum(1 for a, b in zip(label, label[1:], strict=False) if a == b)
    return len(label) > 0 and len(label) + repeats <= frames


def make_batch(
    lines: Sequence[np.ndarray], labels: Sequence[list[int]], texts: Sequence[str]
) -> Batch:
    images, widths = batch_lines(lines)
    return Batch(
        images=images,
        widths=widths,
        targets=torch.tensor([c for label in labels for c in label], dtype=torch.long),
        target_lengths=torch.tensor([len(label) for label in labels], dtype=torch.long),
        texts=tuple(texts),
    )


def read_real_lines(manifests: Sequence[str | Path], charset: Charset) -> list[ManifestEntry]:
    """Entries of all manifests, labels normalized onto the charset, empty ones dropped."""
    entries = []
    for manifest in manifests:
        for entry in read_manifest(manifest):
            text = charset.normalize(entry.text)
            if text:
                entries.append(ManifestEntry(entry.image, text))
    return entries


def load_line_gray(path: Path) -> np.ndarray:
    image = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    if image is None:
        raise DataError(f"Cannot read line image {path}")
    return image


class LineStream(IterableDataset):
    """Endless batches of augmented real and synthetic lines."""

    def __init__(
        self,
        *,
        charset: Charset,
        height: int,
        column_reduction: int,
        batch_size: int,
        real: Sequence[ManifestEntry] = (),
        real_fraction: float = 0.0,
        fonts: Sequence[Font] = (),
        vocabulary: Vocabulary | None = None,
        max_words: int = 10,
        field_fraction: float = 0.0,
        print_fraction: float = 0.0,
        seed: int = 0,
    ):
        if real_fraction < 1 and (not fonts or vocabulary is None):
            raise DataError("Synthetic lines need fonts and a vocabulary")
        if real_fraction > 0 and not real:
            raise DataError("real_fraction > 0 but no real lines were given")
        self.charset = charset
        self.height = height
        self.column_reduction = column_reduction
        self.batch_size = batch_size
        self.real = list(real)
        self.real_fraction = real_fraction
        self.hands = [f for f in fonts if f.style != "print"] or list(fonts)
        self.prints = [f for f in fonts if f.style == "print"]
        self.vocabulary = vocabulary
        self.max_words = max_words
        self.field_fraction = field_fraction
        self.print_fraction = print_fraction if self.prints else 0.0
        self.seed = seed

    def __iter__(self) -> Iterator[Batch]:
        worker = get_worker_info()
        worker_id = worker.id if worker else 0
        rng = np.random.default_rng([self.seed, worker_id])
        text_rng = random.Random(f"{self.seed}-{worker_id}")
        sampler = TextSampler(self.vocabulary, text_rng) if self.vocabulary else None
        fields = FieldText(text_rng)
        while True:
            pool = [
                self._sample(rng, sampler, fields) for _ in range(self.batch_size * POOL_BATCHES)
            ]
            pool.sort(key=lambda s: s[0].shape[1])
            batches = [pool[i : i + self.batch_size] for i in range(0, len(pool), self.batch_size)]
            rng.shuffle(batches)
            for chunk in batches:
                lines, labels, texts = zip(*chunk, strict=True)
                yield make_batch(lines, labels, texts)

    def _sample(self, rng: np.random.Generator, sampler: TextSampler | None, fields: FieldText):
        while True:
            if rng.random() < self.real_fraction:
                entry = self.real[int(rng.integers(len(self.real)))]
                image, text = augment_real(load_line_gray(entry.image), rng), entry.text
            else:
                rendered = self._render(rng, sampler, fields)
                if rendered is None:
                    continue
                image, text = rendered.image, self.charset.normalize(rendered.text)
            line = prepare_line(image, self.height)
            label = self.charset.encode(text)
            if fits_ctc(label, line.shape[1] // self.column_reduction):
                return line, label, text


    def _render(self, rng: np.random.Generator, sampler: TextSampler, fields: FieldText):
        """A synthetic line: typed text, a filled-in form field, or a handwritten note line."""
        if rng.random() < self.print_fraction:
            font = self.prints[int(rng.integers(len(self.prints)))]
            return render_line(sampler.line(self.max_words), font, rng)
        font = self.hands[int(rng.integers(len(self.hands)))]
        if rng.random() >= self.field_fraction:
            return render_line(sampler.line(self.max_words), font, rng)
        # Forms are mostly filled in capitals; the same contents also turn up in notes.
        kind, text = fields.capitals() if rng.random() < 0.7 else fields.sample()
        if not self.prints or rng.random() < 0.4:
            return render_line(text, font, rng)
        label_font = self.prints[int(rng.integers(len(self.prints)))]
        label = fields.rng.choice(LABELS[kind]) if rng.random() < 0.75 else ""
        return render_field(text, font, rng, label=label, label_font=label_font)


def batch_loader(stream: IterableDataset, workers: int, pin_memory: bool) -> DataLoader:
    """A loader over a stream that yields whole batches, made by `workers` processes (0: in
    the training process).

    forkserver, not fork: a forked worker inherits OpenCV's and PyTorch's thread pools from
    the main process in whatever state they are, and on a 16-core GPU machine that deadlocked
    every synthetic-data worker.
    """
    return DataLoader(
        stream,
        batch_size=None,
        num_workers=workers,
        prefetch_factor=4 if workers else None,
        worker_init_fn=_single_threaded,
        multiprocessing_context="forkserver" if workers else None,
        pin_memory=pin_memory,
    )


def _single_threaded(_worker_id: int) -> None:
    # Each loader worker is one process on one core; OpenCV's own thread pool would fight them.
    cv2.setNumThreads(1)


EVAL_KINDS = ("notes", "capitals", "modern")


def render_eval_set(
    fonts: Sequence[Font],
    vocabulary: Vocabulary,
    count: int,
    seed: int,
    max_words: int = 10,
    kind: str = "notes",
) -> list[tuple[np.ndarray, str]]:
    """A fixed set of rendered lines (uint8 images, texts) for validation or testing.

    kind "notes": note-like lines in every font given. "capitals": names, addresses, dates and
    codes in block capitals, two in three as form-field crops with a printed label (handwriting
    fonts write, print fonts label). "modern": mixed-case modern notes, half of them names,
    addresses, dates and codes as written in a diary or an address book.
    """
    if kind not in EVAL_KINDS:
        raise ValueError(f"kind must be one of {EVAL_KINDS}, not {kind!r}")
    rng = np.random.default_rng(seed)
    text_rng = random.Random(seed)
    sampler = TextSampler(vocabulary, text_rng)
    fields = FieldText(text_rng)
    hands = [f for f in fonts if f.style != "print"] or list(fonts)
    prints = [f for f in fonts if f.style == "print"]
    out = []
    while len(out) < count:
        if kind == "notes":
            rendered = render_line(sampler.line(max_words), fonts[len(out) % len(fonts)], rng)
        elif kind == "capitals":
            font = hands[len(out) % len(hands)]
            field_kind, text = fields.capitals()
            if prints and text_rng.random() < 2 / 3:
                label = text_rng.choice(LABELS[field_kind])
                label_font = prints[len(out) % len(prints)]
                rendered = render_field(text, font, rng, label=label, label_font=label_font)
            else:
                rendered = render_line(text, font, rng)
        else:
            font = hands[len(out) % len(hands)]
            text = sampler.line(max_words) if text_rng.random() < 0.5 else fields.sample()[1]
            rendered = render_line(text, font, rng)
        if rendered is not None:
            out.append((rendered.image, rendered.text))
    return out
