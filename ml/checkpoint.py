"""Model files: one `.pt` file holding the weights and everything needed to use and trust them.

Two kinds share the format. A model file (`--out`, committed under ml/weights/) holds the
weights, model config, charset and metadata (metrics, data, training config, code version).
A training checkpoint adds optimizer, scheduler and RNG states, so `--resume` continues a run.
The line segmenter's files (`ml.page.linenet`) are written and read by the same core
(`write_payload`, `read_payload`, `check_payload`), with `kind: linenet` instead of a charset.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import torch

from ml.charset import Charset
from ml.errors import CheckpointError
from ml.model import CRNN, ModelConfig

FORMAT_VERSION = 1
REQUIRED_KEYS = ("format_version", "model_config", "charset", "model_state", "metadata")


def code_version() -> str:
    """The git commit of this code, with '+dirty' when it has uncommitted changes."""
    here = Path(__file__).resolve().parent
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=here,
            capture_output=True,
            text=True,
            timeout=5,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "."],
            cwd=here,
            capture_output=True,
            text=True,
            timeout=5,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return (commit or "unknown") + ("+dirty" if dirty else "")


def save_model(
    path: str | Path,
    model: CRNN,
    charset: Charset,
    metadata: dict[str, Any],
    *,
    half: bool = False,
    **training_state: Any,
) -> None:
    """Write a model file (or, with training_state, a resumable checkpoint) atomically.

    half=True stores float weights as float16 (half the size; loading restores float32).
    """
    header = {"charset": charset.alphabet}
    write_payload(path, model, header, metadata, half=half, **training_state)


def write_payload(
    path: str | Path,
    model: torch.nn.Module,
    header: dict[str, Any],
    metadata: dict[str, Any],
    *,
    half: bool = False,
    **training_state: Any,
) -> None:
    """Atomically write any of our models (its `config` has `to_dict`) with `header` fields,
    provenance metadata and, for a checkpoint, the training state."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "format_version": FORMAT_VERSION,
        **header,
        "model_config": model.config.to_dict(),
        "model_state": {
            k: v.detach().cpu().half() if half and v.is_floating_point() else v.detach().cpu()
            for k, v in model.state_dict().items()
        },
        "metadata": {
            "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "torch_version": str(torch.__version__),
            "code_version": code_version(),
            **metadata,
        },
        **training_state,
    }
    tmp = path.with_name(path.name + ".tmp")
    torch.save(payload, tmp)
    os.replace(tmp, path)


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    """The raw dictionary of a model file, validated."""
    payload = read_payload(path, "model file")
    if not isinstance(payload, dict):
        raise CheckpointError(f"{path} is not a model file")
    check_payload(path, payload, REQUIRED_KEYS)
    return payload


def read_payload(path: str | Path, noun: str) -> Any:
    """What torch stored in a file, or a CheckpointError naming it as `noun` ("model file")."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{noun.capitalize()} {path} does not exist")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # torch raises many types for a corrupt or foreign file
        raise CheckpointError(f"Cannot read {noun} {path}: {err}") from err


def check_payload(path: str | Path, payload: dict, required: tuple[str, ...]) -> None:
    """Every required key present and a format this code reads."""
    missing = [key for key in required if key not in payload]
    if missing:
        raise CheckpointError(f"{path} is missing {', '.join(missing)}")
    if payload["format_version"] > FORMAT_VERSION:
        raise CheckpointError(
            f"{path} has format {payload['format_version']}; this code reads up to {FORMAT_VERSION}"
        )


def float_state(payload: dict) -> dict[str, torch.Tensor]:
    """The stored weights as float32 (model files may keep them as float16)."""
    return {k: v.float() if v.is_floating_point() else v for k, v in payload["model_state"].items()}


def load_model(path: str | Path) -> tuple[CRNN, Charset, dict[str, Any]]:
    """Model (in eval mode, on CPU), charset and metadata of a model file."""
    payload = load_checkpoint(path)
    try:
        config = ModelConfig.from_dict(payload["model_config"])
        charset = Charset(payload["charset"])
        model = CRNN(config)
        model.load_state_dict(float_state(payload))
    except (TypeError, ValueError, KeyError, RuntimeError) as err:
        raise CheckpointError(f"{path} does not match the model code: {err}") from err
    if config.num_classes != len(charset):
        raise CheckpointError(f"{path}: {config.num_classes} outputs for {len(charset)} classes")
    return model.eval(), charset, payload["metadata"]


def export(source: Path, destination: Path) -> None:
    """Copy a model or training checkpoint as a lean float16 model file (for committing)."""
    model, charset, metadata = load_model(source)
    save_model(destination, model, charset, metadata | {"exported_from": str(source)}, half=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ml.checkpoint",
        description="Export a model file as float16 weights without training state.",
    )
    parser.add_argument("source", type=Path)
    parser.add_argument("destination", type=Path)
    args = parser.parse_args(argv)
    export(args.source, args.destination)
    print(json.dumps(load_model(args.destination)[2], indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
