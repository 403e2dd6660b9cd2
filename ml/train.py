"""Train the CRNN: synthetic handwriting plus real lines, on a time budget, resumable.

    python -m ml.train --train .cache/data/fr-train.tsv .cache/data/stanford-train.tsv \
        --val .cache/data/stanford-val.tsv .cache/data/fr-val.tsv --minutes 60 --out runs/crnn.pt

Recipe (see ../shared/docs/htr-facts.md for why): a curriculum that starts on single rendered
words and grows to full lines before real lines are mixed in (a from-scratch CRNN otherwise sits
on the CTC plateau for a long time), AdamW with warm-up and cosine decay over `--steps` (by step,
not by the clock: a run stopped by `--minutes` and resumed follows the same schedule, on any
machine), bfloat16 autocast and channels-last tensors where the CPU computes bfloat16 natively
(denormal floats flushed to zero on the CPU),
validation CER every `val_every` steps, and the best model by mean validation CER kept at
`--out`. With `--init` (fine-tuning a trained model), the defaults are those of the
fine-tuning recipe (`ml.finetune.FineTuneRecipe`: lower learning rate, shorter schedule). A
resumable checkpoint (`<out>.ckpt`) is written at every validation; `--resume` takes
the model's architecture and charset from it, whatever the command line says.

Synthetic lines are note-like text in handwriting fonts, typed lines in print and typewriter
fonts (`--print-fraction`), and names, addresses, dates and codes as written into forms, mostly
in capitals, often one letter per printed box beside a printed label (`--field-fraction`,
`ml.synth.fields`).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader
from tqdm import tqdm

from ml.charset import DEFAULT_CHARSET, Charset
from ml.checkpoint import load_checkpoint, load_model, save_model
from ml.cli import (
    add_dataclass_arguments,
    bf16_pays,
    dataclass_from_args,
    pick_device,
    seed_everything,
)
from ml.ctc import greedy_path
from ml.data import LineStream, batch_loader, read_real_lines, render_eval_set
from ml.images import prepare_line
from ml.manifest import read_manifest
from ml.metrics import ErrorCounter
from ml.model import CRNN, ModelConfig
from ml.recognizer import line_log_probs
from ml.synth.fonts import load_fonts
from ml.synth.text import Vocabulary


@dataclass(frozen=True)
class TrainConfig:
    train: tuple[str, ...] = field(
        default=(), metadata={"help": "manifests of real lines; MANIFEST:N repeats one N times"}
    )
    val: tuple[str, ...] = field(default=(), metadata={"help": "validation manifests"})
    synthetic: bool = field(default=True, metadata={"help": "mix in rendered lines"})
    real_fraction: float = field(
        default=0.5, metadata={"help": "share of real lines once the curriculum is over"}
    )
    fonts: str = field(default=".cache/fonts", metadata={"help": "fetched fonts folder"})
    vocabulary: str = field(
        default="", metadata={"help": "word list TSV (default: built from wordfreq)"}
    )
    synthetic_val: int = field(
        default=300, metadata={"help": "rendered validation lines (training fonts, unseen text)"}
    )
    val_lines: int = field(default=600, metadata={"help": "at most this many lines per val set"})
    out: str = field(default="runs/crnn.pt", metadata={"help": "where the best model goes"})
    checkpoint: str = field(
        default="", metadata={"help": "resumable training state (default: <out>.ckpt)"}
    )
    resume: bool = field(default=False, metadata={"help": "continue from the checkpoint"})
    init: str = field(default="", metadata={"help": "start from these weights (fine-tuning)"})
    minutes: float = field(default=10.0, metadata={"help": "time budget"})
    steps: int = field(
        default=20_000,
        metadata={"help": "learning-rate schedule length; training stops there (or at --minutes)"},
    )
    fit_to_budget: bool = field(
        default=False,
        metadata={"help": "shorten the schedule to the steps --minutes allows on this machine"},
    )
    field_fraction: float = field(
        default=0.3, metadata={"help": "share of handwritten synthetic lines that are form fields"}
    )
    print_fraction: float = field(
        default=0.25, metadata={"help": "share of synthetic lines typed in print fonts"}
    )
    bf16: bool = field(default=True, metadata={"help": "bfloat16 autocast where supported"})
    batch_size: int = 32
    lr: float = field(default=2e-3, metadata={"help": "peak learning rate"})
    weight_decay: float = 1e-2
    warmup_steps: int = 200
    min_lr_ratio: float = field(default=0.05, metadata={"help": "final lr as a share of peak"})
    curriculum: tuple[str, ...] = field(
        default=("1:300", "3:700"),
        metadata={"help": "MAX_WORDS:UNTIL_STEP stages of synthetic-only training"},
    )
    max_words: int = field(default=10, metadata={"help": "words per synthetic line afterwards"})
    val_every: int = 500
    workers: int = 2
    device: str = field(default="auto", metadata={"help": "cpu, cuda, or auto"})
    threads: int = field(default=2, metadata={"help": "CPU threads for torch"})
    seed: int = 1
    progress: bool = field(default=True, metadata={"help": "show a tqdm progress bar"})


def stage_for(config: TrainConfig, step: int) -> tuple[int, int, float]:
    """(stage index, max words, real fraction) at a step of the curriculum.

    The curriculum only shapes synthetic lines: real-only training has a single stage, and so
    has fine-tuning (`--init`): a trained model is past the CTC plateau the curriculum is for,
    and a short fine-tune spent on rendered single words would never see the lines it is for.
    """
    if not config.synthetic:
        return 0, config.max_words, 1.0
    if config.init:
        return (
            len(config.curriculum),
            config.max_words,
            (config.real_fraction if config.train else 0.0),
        )
    for index, stage in enumerate(config.curriculum):
        words, until = (int(v) for v in stage.split(":"))
        if step < until:
            return index, words, 0.0
    return len(config.curriculum), config.max_words, config.real_fraction if config.train else 0.0


def expand_weights(manifests: tuple[str, ...]) -> list[str]:
    """`path:N` stands for N copies of path: how a small, precious source is weighted up."""
    out = []
    for item in manifests:
        path, _, times = item.rpartition(":")
        out += [path] * int(times) if path and times.isdigit() else [item]
    return out


def learning_rate(config: TrainConfig, step: int, steps: int | None = None) -> float:
    """Linear warm-up, then cosine decay to min_lr_ratio at `steps` (default `config.steps`)."""
    steps = steps or config.steps
    if step < config.warmup_steps:
        return config.lr * (step + 1) / config.warmup_steps
    progress = (step - config.warmup_steps) / max(1, steps - config.warmup_steps)
    cosine = 0.5 * (1 + math.cos(math.pi * min(progress, 1.0)))
    return config.lr * (config.min_lr_ratio + (1 - config.min_lr_ratio) * cosine)


class BudgetFit:
    """The schedule length a time budget allows, from the seconds the steps take here.

    A fine-tune with a 10-minute budget and a 400-step schedule stopped after 113-170 steps on
    one slow CPU thread, its learning rate still at 60% of the peak, and managed all 400 on
    another machine: the same recipe must end its cosine decay wherever it runs. The schedule
    stays a function of the step (reproducible, resumable); only its length is fitted, from the
    mean step time after a few warm-up steps, refitted as training goes (other load on the
    machine slows it down).
    """

    SKIP = 3  # the first steps pay for allocations and thread pools
    EVERY = 10

    def __init__(self, config: TrainConfig, first_step: int):
        self.config, self.steps = config, config.steps
        self.mark: tuple[int, float] | None = None
        self.first_step = first_step

    def update(self, step: int, elapsed: float) -> int:
        """The schedule length after `step` steps done in `elapsed` seconds of this run."""
        if not self.config.fit_to_budget:
            return self.steps
        if step == self.first_step + self.SKIP:
            self.mark = (step, elapsed)
        elif self.mark and (step - self.mark[0]) % self.EVERY == 0:
            per_step = (elapsed - self.mark[1]) / (step - self.mark[0])
            left = self.config.minutes * 60 - elapsed
            fitted = step + int(left / max(per_step, 1e-9))
            self.steps = max(self.config.warmup_steps + 1, min(self.config.steps, fitted))
        return self.steps


class ValidationSet:
    """Prepared lines and references of one validation source."""

    def __init__(self, name: str, lines: list[np.ndarray], texts: list[str]):
        self.name, self.lines, self.texts = name, lines, texts

    @classmethod
    def from_manifest(cls, path: str, charset: Charset, height: int, limit: int):
        entries = read_manifest(path)
        step = max(1, len(entries) // limit) if limit else 1
        entries = entries[::step][:limit] if limit else entries
        return cls(
            Path(path).stem,
            [prepare_line(e.image, height) for e in entries],
            [charset.normalize(e.text) for e in entries],
        )

    def evaluate(self, model: CRNN, charset: Charset, device: torch.device) -> ErrorCounter:
        counter = ErrorCounter()
        for log_probs, reference in zip(
            line_log_probs(model, self.lines, batch_size=32, device=device),
            self.texts,
            strict=True,
        ):
            counter.add("".join(s.char for s in greedy_path(log_probs, charset)), reference)
        return counter


class Trainer:
    def __init__(self, config: TrainConfig, model_config: ModelConfig):
        self.config = config
        self.device = pick_device(config.device)
        torch.set_num_threads(config.threads)
        # Tiny gradients of the recurrent layers become denormal floats, which x86 CPUs compute
        # in microcode: measured on an AVX2 machine, a CPU training step took 13x longer.
        torch.set_flush_denormal(True)
        seed_everything(config.seed)
        self.out = Path(config.out)
        self.out.parent.mkdir(parents=True, exist_ok=True)
        self.checkpoint_path = Path(
            config.checkpoint or self.out.with_name(self.out.name + ".ckpt")
        )
        self.log_path = self.out.with_name(self.out.name + ".log.jsonl")
        saved = load_checkpoint(self.checkpoint_path) if config.resume else None
        self.charset, self.model = self._build_model(model_config, saved)
        self.bf16 = config.bf16 and bf16_pays(self.device)
        self.model.to(self.device)
        # Channels-last helps only with native bfloat16 (2x with it, measured with AVX-512 BF16);
        # in float32 on an AVX2 CPU, its backward pass was 4x slower.
        self.channels_last = self.bf16 and self.device.type == "cpu"
        if self.channels_last:
            self.model.to(memory_format=torch.channels_last)
        self.optimizer = torch.optim.AdamW(
            self.model.parameters(), lr=config.lr, weight_decay=config.weight_decay
        )
        self.step, self.elapsed_before, self.best_cer = 0, 0.0, math.inf
        self.first_text_step: int | None = None
        self.history: list[dict] = []
        if saved is not None:
            self._restore(saved)
        self.real = read_real_lines(expand_weights(config.train), self.charset)
        self.fonts = load_fonts(Path(config.fonts), split="train") if config.synthetic else []
        self.vocabulary = self._vocabulary() if config.synthetic else None
        self.val_sets = self._validation_sets()
        if self.device.type == "cuda":  # TF32 matmuls: full speed, no mixed-precision code
            torch.backends.cuda.matmul.allow_tf32 = True
            torch.backends.cudnn.allow_tf32 = True

    def _build_model(self, model_config: ModelConfig, saved: dict | None) -> tuple[Charset, CRNN]:
        if saved is not None:  # the architecture the run started with, not today's defaults
            return Charset(saved["charset"]), CRNN(ModelConfig.from_dict(saved["model_config"]))
        if self.config.init:
            model, charset, _ = load_model(self.config.init)
            return charset, model.train()
        return DEFAULT_CHARSET, CRNN(model_config)

    def _vocabulary(self) -> Vocabulary:
        if self.config.vocabulary:
            return Vocabulary.load(Path(self.config.vocabulary))
        return Vocabulary.from_wordfreq(self.charset)

    def _validation_sets(self) -> list[ValidationSet]:
        height = self.model.config.height
        sets = [
            ValidationSet.from_manifest(path, self.charset, height, self.config.val_lines)
            for path in self.config.val
        ]
        if self.config.synthetic and self.config.synthetic_val:
            rendered = render_eval_set(
                self.fonts,
                self.vocabulary,
                self.config.synthetic_val,
                seed=self.config.seed + 1_000_003,
            )
            sets.append(
                ValidationSet(
                    "synthetic-val",
                    [prepare_line(i, height) for i, _ in rendered],
                    [self.charset.normalize(t) for _, t in rendered],
                )
            )
        return sets

    def _restore(self, state: dict) -> None:
        self.model.load_state_dict(state["model_state"])
        self.optimizer.load_state_dict(state["optimizer_state"])
        self.step = state["step"]
        self.elapsed_before = state["elapsed"]
        self.best_cer = state["best_cer"]
        self.first_text_step = state.get("first_text_step")
        self.history = state.get("history", [])
        torch.set_rng_state(state["torch_rng"])

    def _loader(self, stage: int, max_words: int, real_fraction: float) -> DataLoader:
        stream = LineStream(
            charset=self.charset,
            height=self.model.config.height,
            column_reduction=self.model.config.column_reduction,
            batch_size=self.config.batch_size,
            real=self.real,
            real_fraction=real_fraction,
            fonts=self.fonts,
            vocabulary=self.vocabulary,
            max_words=max_words,
            field_fraction=self.config.field_fraction,
            print_fraction=self.config.print_fraction,
            seed=self.config.seed * 1000 + stage * 100 + self.step % 97,
        )
        return batch_loader(stream, self.config.workers, self.device.type == "cuda")

    def train(self) -> dict:
        config = self.config
        budget = config.minutes * 60
        start = time.monotonic()
        lines_seen, loss_avg = 0, None
        bar = tqdm(
            total=config.steps,
            initial=self.step,
            disable=not config.progress,
            unit="step",
            dynamic_ncols=True,
        )
        fit = BudgetFit(config, self.step)
        done = False
        while not done:
            stage, max_words, real_fraction = stage_for(config, self.step)
            for batch in self._loader(stage, max_words, real_fraction):
                elapsed = time.monotonic() - start
                loss = self._train_step(batch, learning_rate(config, self.step, fit.steps))
                self.step += 1
                lines_seen += len(batch.texts)
                loss_avg = loss if loss_avg is None else 0.98 * loss_avg + 0.02 * loss
                bar.update(1)
                bar.set_postfix(
                    loss=f"{loss_avg:.3f}",
                    lines_s=f"{lines_seen / max(elapsed, 1e-9):.0f}",
                    stage=stage,
                )
                elapsed = time.monotonic() - start
                done = elapsed >= budget or self.step >= fit.update(self.step, elapsed)
                if done or self.step % config.val_every == 0:
                    self._validate(
                        loss_avg, lines_seen / max(elapsed, 1e-9), self.elapsed_before + elapsed
                    )
                if done or stage_for(config, self.step)[0] != stage:
                    break
        bar.close()
        return {
            "steps": self.step,
            "schedule_steps": fit.steps,
            "best_cer": self.best_cer,
            "history": self.history,
            "first_text_step": self.first_text_step,
        }

    def _train_step(self, batch, lr: float) -> float:
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        self.model.train()
        images = batch.images.to(self.device, non_blocking=True)
        if self.channels_last:
            images = images.contiguous(memory_format=torch.channels_last)
        widths = batch.widths.to(self.device)
        with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.bf16):
            logits, lengths = self.model(images, widths)
        log_probs = logits.float().log_softmax(-1)  # CTC in float32
        loss = F.ctc_loss(
            log_probs,
            batch.targets.to(self.device),
            lengths,
            batch.target_lengths.to(self.device),
            blank=0,
            reduction="mean",
            zero_infinity=True,
        )
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), 5.0)
        self.optimizer.step()
        return loss.item()

    def _validate(self, loss: float, lines_per_second: float, elapsed: float) -> None:
        self.model.eval()
        record = {
            "step": self.step,
            "minutes": round(elapsed / 60, 2),
            "loss": round(loss, 4),
            "train_lines_per_second": round(lines_per_second, 1),
        }
        cers = []
        for val in self.val_sets:
            counter = val.evaluate(self.model, self.charset, self.device)
            record[f"{val.name}/cer"] = round(counter.cer, 4)
            record[f"{val.name}/wer"] = round(counter.wer, 4)
            cers.append(counter.cer)
        mean_cer = float(np.mean(cers)) if cers else loss
        record["mean_cer"] = round(mean_cer, 4)
        if self.first_text_step is None and cers and min(cers) < 0.95:
            self.first_text_step = self.step
            record["first_text"] = True
        self.history.append(record)
        with open(self.log_path, "a", encoding="utf-8") as f:
            f.write(json.dumps(record) + "\n")
        tqdm.write(json.dumps(record), file=sys.stderr)
        if mean_cer < self.best_cer:
            self.best_cer = mean_cer
            save_model(self.out, self.model, self.charset, self._metadata(record))
        save_model(
            self.checkpoint_path,
            self.model,
            self.charset,
            self._metadata(record),
            optimizer_state=self.optimizer.state_dict(),
            step=self.step,
            elapsed=elapsed,
            best_cer=self.best_cer,
            first_text_step=self.first_text_step,
            history=self.history,
            torch_rng=torch.get_rng_state(),
        )

    def _metadata(self, record: dict) -> dict:
        return {
            "step": self.step,
            "metrics": record,
            "best_metric": {"mean_val_cer": record["mean_cer"]},
            "train_config": asdict(self.config),
            "seed": self.config.seed,
            "data": {
                "real_lines": len(self.real),
                "train_manifests": list(self.config.train),
                "val_sets": [v.name for v in self.val_sets],
                "fonts": [f.name for f in self.fonts],
            },
            "first_text_step": self.first_text_step,
        }


def fine_tune_defaults() -> dict:
    """With `--init`, the defaults of the fine-tuning recipe (ml.finetune) instead of the
    from-scratch ones: a trained model needs a low learning rate and a short schedule."""
    from ml.finetune import FineTuneRecipe

    recipe = FineTuneRecipe()
    return {
        "lr": recipe.lr,
        "warmup_steps": recipe.warmup_steps,
        "steps": recipe.steps,
        "fit_to_budget": recipe.fit_to_budget,
        "batch_size": recipe.batch_size,
        "real_fraction": recipe.writer_fraction,
        "synthetic_val": 0,
        "val_every": 100,
    }


def run(config: TrainConfig, model_config: ModelConfig | None = None) -> dict:
    """Train according to `config`; returns a summary (steps, best CER, validation history)."""
    return Trainer(config, model_config or ModelConfig()).train()


def parse(argv: list[str] | None = None) -> tuple[TrainConfig, ModelConfig]:
    """The configurations a command line asks for (with `--init`, fine-tuning defaults)."""
    parser = argparse.ArgumentParser(
        prog="python -m ml.train",
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    add_dataclass_arguments(parser, TrainConfig)
    add_dataclass_arguments(parser, ModelConfig, prefix="model-", skip=("num_classes",))
    if getattr(parser.parse_known_args(argv)[0], "init", ""):
        parser.set_defaults(**fine_tune_defaults())
    args = parser.parse_args(argv)
    return (
        dataclass_from_args(TrainConfig, args),
        dataclass_from_args(ModelConfig, args, prefix="model-"),
    )


def main(argv: list[str] | None = None) -> int:
    summary = run(*parse(argv))
    print(json.dumps({k: v for k, v in summary.items() if k != "history"}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
