"""Train the line segmenter (LineNet) on real annotated pages and synthetic note pages.

    python -m ml.train_segmenter prepare --data ../shared/data --out .cache/seg
    python -m ml.train_segmenter prepare-synthetic --out .cache/seg --count 600
    python -m ml.train_segmenter train --seg .cache/seg --steps 6000 --out runs/linenet.pt

`prepare` stores the real pages of `../shared/data` (pages-fr, stanford-memorials) by split
(`fr-train`, `stanford-val`...); `prepare-synthetic` renders synthetic pages (textured papers,
letters, blank pages, artefacts) with exact baselines; `bundle` copies the sets smaller for a
GPU machine (`ml/recipes/gpu_segmenter.sh`). `train` draws random crops from the training sets
(weights per set), optimizes masked BCE + soft Dice on the core band and BCE on the baseline
with AdamW, warm-up and cosine decay *by step*, in bfloat16 autocast where the CPU has it,
validates line detection on the validation pages every `val_every` steps and keeps the best
model at `--out`; `<out>.ckpt` is the resumable checkpoint (`--resume`). `--minutes` stops
early (the schedule stays by step).
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, IterableDataset, get_worker_info

from ml.checkpoint import float_state
from ml.cli import (
    add_dataclass_arguments,
    bf16_pays,
    dataclass_from_args,
    pick_device,
    seed_everything,
)
from ml.data import batch_loader
from ml.page.linenet import (
    BAND,
    LineNet,
    LineNetConfig,
    load_linenet_checkpoint,
    save_linenet,
)
from ml.page.segdata import CropConfig, batches, bundle_sets, load_pages, prepare_real
from ml.page.segeval import evaluate_lines
from ml.page.segmenter import LineSegmenter

LOG_EVERY = 50
# Synthetic pages are rendered on the GPU machine's own cores (fonts and words travel instead).
BUNDLE_SETS = ("fr-train", "stanford-train", "fr-val", "stanford-val")


@dataclass(frozen=True)
class SegTrainConfig:
    seg: str = field(default=".cache/seg", metadata={"help": "prepared page sets"})
    train: tuple[str, ...] = field(
        default=("fr-train:0.45", "stanford-train:0.15", "synth-train:0.4"),
        metadata={"help": "training sets SET:WEIGHT (folders under --seg; missing ones skipped)"},
    )
    val: tuple[str, ...] = field(
        default=("fr-val", "stanford-val", "synth-val"), metadata={"help": "validation sets"}
    )
    steps: int = field(default=6000, metadata={"help": "optimizer steps (the LR schedule)"})
    minutes: float = field(default=0.0, metadata={"help": "stop after this long (0: no limit)"})
    batch_size: int = 8
    crop: int = 512
    lr: float = 2e-3
    warmup_steps: int = 200
    weight_decay: float = 1e-4
    baseline_weight: float = 0.5
    val_every: int = 500
    out: str = "runs/linenet.pt"
    init: str = field(default="", metadata={"help": "start from this model's weights"})
    resume: bool = field(default=False, metadata={"help": "continue <out>.ckpt"})
    threads: int = 2
    workers: int = field(default=0, metadata={"help": "crop-making processes (0: in-process)"})
    device: str = "cpu"
    seed: int = 1
    bf16: bool = field(default=True, metadata={"help": "bfloat16 autocast when supported"})


def learning_rate(config: SegTrainConfig, step: int) -> float:
    if step < config.warmup_steps:
        return config.lr * (step + 1) / config.warmup_steps
    progress = (step - config.warmup_steps) / max(1, config.steps - config.warmup_steps)
    return config.lr * (0.02 + 0.98 * 0.5 * (1 + math.cos(math.pi * min(1.0, progress))))


def segmentation_loss(
    logits: torch.Tensor, targets: torch.Tensor, weights: torch.Tensor, baseline_weight: float
) -> torch.Tensor:
    """Masked BCE on both channels + soft Dice on the band (thin bands are few pixels)."""
    logits = logits.float()
    targets = targets.float()
    mask = weights[:, None].expand_as(logits)
    bce = F.binary_cross_entropy_with_logits(logits, targets, reduction="none") * mask
    channel_weights = torch.tensor([1.0, baseline_weight], device=logits.device)
    bce = (bce.mean(dim=(0, 2, 3)) * channel_weights).sum()
    probs = torch.sigmoid(logits[:, BAND]) * weights
    band = targets[:, BAND] * weights
    dice = 1 - (2 * (probs * band).sum() + 1) / (probs.sum() + band.sum() + 1)
    return bce * 10 + dice


def _set_folders(config: SegTrainConfig, names: tuple[str, ...]) -> list[tuple[Path, float]]:
    out = []
    for entry in names:
        name, _, weight = entry.partition(":")
        folder = Path(config.seg) / name
        if folder.is_dir() and any(folder.glob("*.json")):
            out.append((folder, float(weight or 1)))
        else:
            print(f"set {name}: not found under {config.seg}, skipped", file=sys.stderr)
    return out


class CropStream(IterableDataset):
    """Endless training batches; each loader worker loads the pages and draws its own crops."""

    def __init__(self, folders, crop: CropConfig, batch_size: int, seed: int):
        self.folders, self.crop, self.batch_size, self.seed = folders, crop, batch_size, seed

    def __iter__(self):
        info = get_worker_info()
        rng = np.random.default_rng(self.seed + (info.id * 7919 if info else 0))
        sets = [(load_pages(folder), weight) for folder, weight in self.folders]
        for images, targets, weights in batches(sets, self.crop, self.batch_size, rng):
            yield torch.from_numpy(images), torch.from_numpy(targets), torch.from_numpy(weights)


class SegTrainer:
    def __init__(self, config: SegTrainConfig, model_config: LineNetConfig):
        self.config = config
        seed_everything(config.seed)
        torch.set_num_threads(config.threads)
        self.device = pick_device(config.device)
        self.bf16 = config.bf16 and bf16_pays(self.device)
        self.train_sets = _set_folders(config, config.train)
        self.val_sets = [
            (folder.name, load_pages(folder), weight)
            for folder, weight in _set_folders(config, config.val)
        ]
        if not self.train_sets:
            raise SystemExit(f"No training pages under {config.seg}: run `prepare` first")
        self.model = LineNet(model_config)
        if config.init:
            self.model.load_state_dict(float_state(load_linenet_checkpoint(config.init)))
        self.model.to(self.device).to(memory_format=torch.channels_last)
        self.optimizer = torch.optim.AdamW(
            self.model.parameters(), lr=config.lr, weight_decay=config.weight_decay
        )
        self.step, self.best, self.history = 0, -1.0, []
        if config.resume:
            self._restore()

    def _restore(self) -> None:
        payload = load_linenet_checkpoint(self.config.out + ".ckpt")
        self.model.load_state_dict(float_state(payload))
        self.optimizer.load_state_dict(payload["optimizer"])
        self.step, self.best = payload["step"], payload["best"]
        self.history = payload["metadata"].get("history", [])

    def _loader(self) -> DataLoader:
        stream = CropStream(
            self.train_sets,
            CropConfig(size=self.config.crop, long_side=self.model.config.long_side),
            self.config.batch_size,
            self.config.seed * 1000 + self.step,  # a resumed run draws new crops
        )
        return batch_loader(stream, self.config.workers, self.device.type == "cuda")

    def train(self) -> dict:
        config = self.config
        stream = iter(self._loader())
        start, losses, seen = time.perf_counter(), [], 0
        while self.step < config.steps:
            if config.minutes and time.perf_counter() - start > config.minutes * 60:
                break
            losses.append(self._train_step(next(stream), learning_rate(config, self.step)))
            self.step += 1
            seen += config.batch_size
            if self.step % LOG_EVERY == 0:
                rate = seen / (time.perf_counter() - start)
                print(
                    f"step {self.step} loss {np.mean(losses[-LOG_EVERY:]):.4f} {rate:.1f} crops/s",
                    file=sys.stderr,
                    flush=True,
                )
            if self.step % config.val_every == 0 or self.step == config.steps:
                rate = seen / (time.perf_counter() - start)
                self._validate(float(np.mean(losses)), rate)
                losses = []
        if self.step % config.val_every and self.step < config.steps:
            self._validate(float(np.mean(losses)) if losses else 0.0, 0.0)  # out of time
        return self.history[-1] if self.history else {}

    def _train_step(self, batch, lr: float) -> float:
        images, targets, weights = (t.to(self.device, non_blocking=True) for t in batch)
        images = images.contiguous(memory_format=torch.channels_last)
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        self.model.train()
        with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.bf16):
            logits = self.model(images)
        loss = segmentation_loss(logits, targets, weights, self.config.baseline_weight)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), 5.0)
        self.optimizer.step()
        return loss.item()

    def _validate(self, loss: float, rate: float) -> None:
        segmenter = LineSegmenter(self.model, bf16=self.bf16)
        record = {"step": self.step, "loss": round(loss, 4), "crops_per_s": round(rate, 1)}
        for name, pages, _ in self.val_sets:
            record[name] = evaluate_lines(segmenter, pages)
        self.model.to(memory_format=torch.channels_last)
        scores = [record[name]["f1"] for name, _, _ in self.val_sets]
        score = float(np.mean(scores)) if scores else -loss
        self.history.append(record)
        print(json.dumps(record), file=sys.stderr, flush=True)
        metadata = {"history": self.history, "train_config": asdict(self.config)}
        if score > self.best:
            self.best = score
            save_linenet(self.config.out, self.model, metadata | {"best": record})
        save_linenet(
            self.config.out + ".ckpt",
            self.model,
            metadata,
            optimizer=self.optimizer.state_dict(),
            step=self.step,
            best=self.best,
        )


def run(config: SegTrainConfig, model_config: LineNetConfig | None = None) -> dict:
    """Train; returns the last validation record."""
    if config.resume:
        model_config = LineNetConfig.from_dict(
            load_linenet_checkpoint(config.out + ".ckpt")["model_config"]
        )
    return SegTrainer(config, model_config or LineNetConfig()).train()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ml.train_segmenter", description=__doc__.split("\n\n")[0]
    )
    commands = parser.add_subparsers(dest="command", required=True)
    prepare = commands.add_parser("prepare", help="store the real annotated pages by split")
    prepare.add_argument("--data", type=Path, default=Path("../shared/data"))
    prepare.add_argument("--out", type=Path, default=Path(".cache/seg"))
    synthetic = commands.add_parser("prepare-synthetic", help="render synthetic training pages")
    synthetic.add_argument("--out", type=Path, default=Path(".cache/seg"))
    synthetic.add_argument("--count", type=int, default=600)
    synthetic.add_argument("--val-count", type=int, default=40)
    synthetic.add_argument("--fonts", type=Path, default=Path(".cache/fonts"))
    synthetic.add_argument("--seed", type=int, default=11)
    synthetic.add_argument("--vocabulary", type=Path, default=None, help="word list TSV")
    synthetic.add_argument("--workers", type=int, default=1)
    bundle = commands.add_parser("bundle", help="copy page sets smaller, for a GPU machine")
    bundle.add_argument("--seg", type=Path, default=Path(".cache/seg"))
    bundle.add_argument("--out", type=Path, required=True)
    bundle.add_argument("--sets", nargs="+", default=list(BUNDLE_SETS))
    bundle.add_argument("--long-side", type=int, default=1280)
    bundle.add_argument("--quality", type=int, default=75)
    bundle.add_argument(
        "--fonts", type=Path, default=None, help="also copy these fonts and write vocab.tsv"
    )
    train = commands.add_parser("train", help="train LineNet")
    add_dataclass_arguments(train, SegTrainConfig)
    add_dataclass_arguments(train, LineNetConfig, prefix="net-")
    args = parser.parse_args(argv)
    if args.command == "prepare":
        print(json.dumps(prepare_real(args.data, args.out)))
    elif args.command == "bundle":
        print(json.dumps(bundle_sets(args.seg, args.out, args.sets, args.long_side, args.quality)))
        if args.fonts:
            from ml.synth.text import Vocabulary

            shutil.copytree(args.fonts, args.out / "fonts", dirs_exist_ok=True)
            Vocabulary.from_wordfreq().save(args.out / "vocab.tsv")
    elif args.command == "prepare-synthetic":
        from ml.page.segsynth import prepare_synthetic

        counts = prepare_synthetic(
            args.out, args.count, args.val_count, args.fonts, args.seed, args.vocabulary,
            args.workers,
        )  # fmt: skip
        print(json.dumps(counts))
    else:
        record = run(
            dataclass_from_args(SegTrainConfig, args),
            dataclass_from_args(LineNetConfig, args, "net-"),
        )
        print(json.dumps(record))
    return 0


if __name__ == "__main__":
    sys.exit(main())
