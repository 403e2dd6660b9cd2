"""Fine-tune a trained recognizer on one writer's lines, and measure it against its base.

    python -m ml.finetune --init ml/weights/crnn.pt --train mine-train.tsv --val mine-val.tsv \
        --minutes 10 --out runs/mine.pt

One recipe (`FineTuneRecipe`) serves the platform's personal models and the command line: the
writer's lines, weighted up, mixed with a replay sample of what the base learned from (rendered
lines in the training fonts, and optionally real lines of a base manifest) so that it does not
forget other hands; a low learning rate with a short warm-up and cosine decay over a fixed
number of steps; the final weights, never a checkpoint picked on the held-out lines (those
lines decide whether the new model is better, so they must not also choose it). Both models
are then read on the held-out lines as a user's notes are read (beam search with the LM), and
`FineTuneResult.improved` says whether the new model should replace its base. The same reading
fits the new model's confidence calibration (`ml.calibration`), stored in its file: a
fine-tuned model is surer of itself than its base on the writer's lines, so the base's maps
would misplace the "unsure" marks, and raw confidences mean nothing.
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch

from ml.calibration import (
    Calibration,
    Observations,
    fit_calibration,
    model_identity,
    observe_entries,
)
from ml.checkpoint import load_model, save_model
from ml.cli import add_dataclass_arguments, dataclass_from_args
from ml.errors import DataError
from ml.manifest import ManifestEntry, read_manifest, write_manifest
from ml.memory import limit_kernel_cache, release_memory
from ml.metrics import ErrorCounter
from ml.recognizer import LM_FILE_NAME, Recognizer
from ml.train import TrainConfig, Trainer


@dataclass(frozen=True)
class FineTuneRecipe:
    """What a fine-tune does besides its data; the defaults are the measured recipe
    (bench/personal_model.py)."""

    minutes: float = field(default=10.0, metadata={"help": "time budget of the training"})
    steps: int = field(
        default=1000, metadata={"help": "learning-rate schedule length (at most, see fit)"}
    )
    fit_to_budget: bool = field(
        default=True, metadata={"help": "shorten the schedule to what --minutes allows here"}
    )
    batch_size: int = 16
    lr: float = field(default=1e-3, metadata={"help": "peak learning rate"})
    warmup_steps: int = 30
    writer_fraction: float = field(
        default=0.7, metadata={"help": "share of the writer's lines in a batch; the rest replays"}
    )
    replay_lines: int = field(
        default=500, metadata={"help": "real lines sampled from --replay, if given"}
    )
    threads: int = field(default=2, metadata={"help": "CPU threads for torch"})
    workers: int = field(
        default=0, metadata={"help": "data loader processes (0: in the training process)"}
    )
    seed: int = 1


MIN_CALIBRATION_WORDS = 100  # held-out words below which the new model keeps raw confidences


@dataclass(frozen=True)
class FineTuneResult:
    train_lines: int
    held_out_lines: int
    base_cer: float
    cer: float
    steps: int
    seconds: float
    calibration: dict | None = None  # what it was fitted on and how its "unsure" flag does

    @property
    def improved(self) -> bool:
        return self.cer < self.base_cer


def fine_tune(
    *,
    init: str | Path,
    train: str | Path,
    held_out: str | Path,
    out: str | Path,
    recipe: FineTuneRecipe = FineTuneRecipe(),
    fonts: str | Path | None = None,
    replay: str | Path | None = None,
    lm: str | Path | None = None,
    progress: bool = False,
) -> FineTuneResult:
    """Train `init` on the lines of `train` (a manifest), write the result to `out`, and read
    `held_out` with both. `fonts` (a fetched fonts folder) adds rendered replay lines, `replay`
    (a manifest of base training lines) real ones; `lm` is the language model both are read
    with (default: the one beside `init`).

    Raises DataError when a manifest has no usable line.
    """
    started = time.monotonic()
    writer = read_manifest(train)
    held = read_manifest(held_out)
    if not writer or not held:
        raise DataError("Fine-tuning needs lines to train on and held-out lines to measure on")
    lm_path = Path(lm) if lm else Path(init).with_name(LM_FILE_NAME)
    limit_kernel_cache()
    with tempfile.TemporaryDirectory(prefix="finetune-") as scratch:
        manifests = [f"{train}:{_weight(len(writer), recipe)}"]
        if replay:
            manifests.append(str(_replay_sample(Path(replay), recipe, Path(scratch))))
        synthetic = bool(fonts) and any(Path(fonts).glob("*.json"))
        config = TrainConfig(
            train=tuple(manifests),
            val=(),
            synthetic=synthetic,
            real_fraction=recipe.writer_fraction if synthetic else 1.0,
            fonts=str(fonts or ""),
            synthetic_val=0,
            out=str(Path(scratch) / "model.pt"),
            init=str(init),
            minutes=recipe.minutes,
            steps=recipe.steps,
            fit_to_budget=recipe.fit_to_budget,
            batch_size=recipe.batch_size,
            lr=recipe.lr,
            warmup_steps=recipe.warmup_steps,
            val_every=recipe.steps + 1,  # no selection on held-out lines: the final weights
            workers=recipe.workers,
            threads=recipe.threads,
            seed=recipe.seed,
            progress=progress,
        )
        trainer = Trainer(config, model_config=None)
        summary = trainer.train()
        trainer.model.eval()
        metadata = {
            "fine_tuned_from": str(init),
            "fine_tune": {**asdict(recipe), "train_lines": len(writer), "steps": summary["steps"]},
        }
        save_model(out, trainer.model.float(), trainer.charset, metadata, half=True)
        del trainer  # its fonts, optimizer and data: the two evaluations need the memory
        gc.collect()
        release_memory()
    base_cer = held_out_cer(init, held, lm_path=lm_path, threads=recipe.threads)
    cer, calibration = _measure_and_calibrate(out, held, lm_path=lm_path, threads=recipe.threads)
    if calibration is not None:
        model, charset, saved = load_model(out)
        save_model(out, model, charset, {**saved, "calibration": calibration.to_dict()}, half=True)
    return FineTuneResult(
        train_lines=len(writer),
        held_out_lines=len(held),
        base_cer=base_cer,
        cer=cer,
        steps=summary["steps"],
        seconds=round(time.monotonic() - started, 1),
        calibration=calibration.fitted_on if calibration else None,
    )


def _measure_and_calibrate(
    model: Path | str, entries: list[ManifestEntry], *, lm_path: Path, threads: int
) -> tuple[float, Calibration | None]:
    """The model's CER on the held-out lines, and a calibration fitted on the same reading
    (None with fewer than MIN_CALIBRATION_WORDS words: four weights fitted on a few dozen
    words would be noise)."""
    recognizer, counter, with_lm = _read(model, entries, lm_path=lm_path, threads=threads)
    if len(with_lm.word_right) < MIN_CALIBRATION_WORDS:
        return round(counter.cer, 4), None
    greedy = observe_entries(recognizer, entries, beam_width=1, progress=False)
    identity = model_identity(recognizer.metadata, recognizer.lm)
    calibration = fit_calibration(with_lm, greedy, identity, held_out_lines=len(entries))
    return round(counter.cer, 4), calibration


def _weight(lines: int, recipe: FineTuneRecipe) -> int:
    """How many times the writer's manifest counts beside the replay sample, so that about
    `writer_fraction` of the real lines drawn are theirs."""
    if recipe.replay_lines <= 0:
        return 1
    share = recipe.writer_fraction / max(1e-6, 1 - recipe.writer_fraction)
    return max(1, round(share * recipe.replay_lines / max(1, lines)))


def _replay_sample(replay: Path, recipe: FineTuneRecipe, folder: Path) -> Path:
    entries = read_manifest(replay)
    sample = random.Random(recipe.seed).sample(entries, min(len(entries), recipe.replay_lines))
    path = folder / "replay.tsv"
    write_manifest(path, [ManifestEntry(e.image, e.text) for e in sample])
    return path


def held_out_cer(
    model: str | Path,
    entries: list[ManifestEntry],
    *,
    lm_path: str | Path,
    threads: int = 2,
) -> float:
    """Corpus CER of a model file on manifest entries, decoded with the LM as notes are."""
    _, counter, _ = _read(model, entries, lm_path=lm_path, threads=threads)
    return round(counter.cer, 4)


def _read(
    model: str | Path, entries: list[ManifestEntry], *, lm_path: str | Path, threads: int
) -> tuple[Recognizer, ErrorCounter, Observations]:
    """Read the entries with a model file as notes are read (beam search with the LM): the
    recognizer, its errors, and its raw confidences against the references."""
    torch.set_num_threads(threads)
    recognizer = Recognizer.load(model, lm_path=lm_path, runtime="torch")
    recognizer.calibration = None  # raw confidences (the text does not depend on them)
    counter, observations = ErrorCounter(), Observations()
    for entry, line in zip(entries, recognizer.recognize([e.image for e in entries]), strict=True):
        counter.add(line.text, entry.text)
        observations.add(line, entry.text)
    return recognizer, counter, observations


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ml.finetune",
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--init", required=True, help="the model to start from")
    parser.add_argument("--train", required=True, help="manifest of the writer's lines")
    parser.add_argument("--val", required=True, help="manifest of held-out lines of the writer")
    parser.add_argument("--out", required=True, help="where the fine-tuned model goes")
    parser.add_argument("--fonts", default=".cache/fonts", help="fonts for rendered replay")
    parser.add_argument("--replay", default="", help="manifest of base lines to replay")
    parser.add_argument("--lm", default="", help="language model (default: beside --init)")
    parser.add_argument("--progress", action=argparse.BooleanOptionalAction, default=True)
    add_dataclass_arguments(parser, FineTuneRecipe)
    args = parser.parse_args(argv)
    result = fine_tune(
        init=args.init,
        train=args.train,
        held_out=args.val,
        out=args.out,
        recipe=dataclass_from_args(FineTuneRecipe, args),
        fonts=args.fonts or None,
        replay=args.replay or None,
        lm=args.lm or None,
        progress=args.progress,
    )
    print(json.dumps({**asdict(result), "improved": result.improved}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
