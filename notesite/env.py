"""Typed reads of environment variables, for settings.py only.

A bad value raises ImproperlyConfigured naming the variable, so a typo in a deployment fails at
start-up with a message instead of running with a silently wrong setting.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {raw!r}")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError as err:
        raise ImproperlyConfigured(f"{name} must be an integer, not {raw!r}") from err


def env_float(name: str, default: float, *, minimum: float | None = None) -> float:
    """A finite number, at least `minimum` when one is given."""
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw)
    except ValueError as err:
        raise ImproperlyConfigured(f"{name} must be a number, not {raw!r}") from err
    if not math.isfinite(value):
        raise ImproperlyConfigured(f"{name} must be a finite number, not {raw!r}")
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum:g}, not {raw!r}")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_path(name: str, default: Path) -> Path:
    raw = os.environ.get(name)
    return Path(raw).expanduser() if raw else default


def env_secret_file(name: str) -> str:
    """The stripped contents of the file a variable names, or "" when it names none."""
    raw = os.environ.get(name)
    if not raw:
        return ""
    try:
        return Path(raw).expanduser().read_text().strip()
    except OSError as err:
        raise ImproperlyConfigured(f"{name}: cannot read {raw}: {err.strerror}") from err
