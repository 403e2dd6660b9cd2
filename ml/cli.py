"""Command-line flags generated from config dataclasses, so a flag and a field never disagree.

`--some-field VALUE` sets `some_field`; booleans get `--flag` / `--no-flag`; tuple fields take
one or more values (`--train a.tsv b.tsv`). Help texts come from `field(metadata={"help": ...})`.
"""

from __future__ import annotations

import argparse
import dataclasses
import random
import types
import typing
from functools import cache
from typing import Any

import numpy as np
import torch


def add_dataclass_arguments(
    parser: argparse.ArgumentParser, cls: type, prefix: str = "", skip: tuple[str, ...] = ()
) -> None:
    hints = typing.get_type_hints(cls)
    for field in dataclasses.fields(cls):
        if field.name in skip or not field.init:
            continue
        kind = hints[field.name]
        flag = "--" + prefix + field.name.replace("_", "-")
        default = (
            field.default if field.default is not dataclasses.MISSING else field.default_factory()
        )
        help_text = field.metadata.get("help", "")
        help_text = f"{help_text} (default: {default!r})" if help_text else f"default: {default!r}"
        dest = prefix.replace("-", "_") + field.name
        if kind is bool:
            parser.add_argument(
                flag,
                dest=dest,
                action=argparse.BooleanOptionalAction,
                default=argparse.SUPPRESS,
                help=help_text,
            )
        elif typing.get_origin(kind) is tuple:
            item = typing.get_args(kind)[0]
            if typing.get_origin(item) is tuple:
                continue  # nested tuples (e.g. pooling shapes) are not flags
            parser.add_argument(
                flag, dest=dest, type=item, nargs="+", default=argparse.SUPPRESS, help=help_text
            )
        else:
            parser.add_argument(
                flag, dest=dest, type=_scalar(kind), default=argparse.SUPPRESS, help=help_text
            )


def dataclass_from_args(cls: type, args: argparse.Namespace, prefix: str = "", **overrides):
    """Build `cls` from parsed flags: given flags override defaults, `overrides` override both."""
    values: dict[str, Any] = {}
    for field in dataclasses.fields(cls):
        key = prefix.replace("-", "_") + field.name
        if hasattr(args, key):
            value = getattr(args, key)
            values[field.name] = tuple(value) if isinstance(value, list) else value
    values.update(overrides)
    return cls(**values)


def _scalar(kind: Any):
    if isinstance(kind, types.UnionType) or typing.get_origin(kind) is typing.Union:
        kind = next(a for a in typing.get_args(kind) if a is not type(None))
    return kind


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def pick_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


@cache
def bf16_supported() -> bool:
    """Whether this CPU computes bfloat16 natively (else autocast would be slower)."""
    capability = torch.backends.cpu.get_cpu_capability()
    if capability not in ("AVX512", "AVX512_BF16", "AMX"):
        return False
    try:
        with open("/proc/cpuinfo", encoding="ascii") as cpuinfo:
            flags = cpuinfo.read()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def bf16_pays(device: torch.device) -> bool:
    """Whether bfloat16 autocast makes training faster on `device`: a GPU, or a CPU with it."""
    return device.type == "cuda" or bf16_supported()
