"""Throttles of the accounts app, shared by every web process through the cache.

Log-in failures are counted per (user name, client address) pair and per client address, never
per user name alone: an attacker's failures slow the attacker down and nobody else (issue 13:
five wrong passwords from anywhere used to lock the account's owner out). Past the free
failures, every further failure doubles the wait, up to the window; a window without failures
forgets them. LOGIN_USERNAME_CEILING, off by default, adds a per-name ceiling for operators who
would rather risk a distributed lock-out than distributed guessing.
"""

from __future__ import annotations

import hashlib
import math
import time

from django.conf import settings
from django.core.cache import cache
from rest_framework.throttling import ScopedRateThrottle

from accounts.clients import address_bucket, client_address

ERROR_THROTTLED = "Too many failed log-in attempts. Try again in {wait}."
ERROR_RATE = "Too many attempts from your address. Try again in {wait}."
# How long one attempt holds its pair's turn: concurrent guesses for the same pair are refused,
# so a burst fired the moment a wait ends cannot slip past the counter.
TURN_SECONDS = 10
HOUR = 3600


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _keys(username: str, address: str) -> dict[str, str]:
    name = _digest(username.strip().casefold())  # "Alice" and "alice " are the same guesses
    bucket = _digest(address_bucket(address))
    return {"pair": f"login:pair:{name}:{bucket}", "address": f"login:addr:{bucket}",
            "name": f"login:name:{name}"}


def backoff_seconds(failures: int, free: int) -> int:
    """How long to refuse after `failures` failures: `free` tries, then 1x, 2x, 4x... the base."""
    if failures < free:
        return 0
    doubled = settings.LOGIN_BACKOFF_SECONDS * 2 ** min(failures - free, 32)
    return min(doubled, settings.LOGIN_ATTEMPTS_WINDOW)


def _wait(values: dict, key: str, seconds: int, now: float) -> int:
    last = values.get(f"{key}:t")
    return 0 if last is None or not seconds else max(0, math.ceil(last + seconds - now))


def login_attempt_start(username: str, address: str, *, now: float | None = None) -> int:
    """Seconds this address must wait before trying this user name; 0: try now, then report
    the outcome with login_attempt_failed or login_attempt_succeeded."""
    now = time.time() if now is None else now
    keys = _keys(username, address)
    values = cache.get_many([f"{keys[k]}:{p}" for k in keys for p in "nt"])
    count = {kind: values.get(f"{key}:n", 0) for kind, key in keys.items()}
    ceiling = settings.LOGIN_USERNAME_CEILING
    wait = max(
        _wait(values, keys["pair"], backoff_seconds(count["pair"], settings.LOGIN_ATTEMPTS), now),
        _wait(values, keys["address"],
              backoff_seconds(count["address"], settings.LOGIN_ADDRESS_ATTEMPTS), now),
        _wait(values, keys["name"], settings.LOGIN_ATTEMPTS_WINDOW
              if ceiling and count["name"] >= ceiling else 0, now),
    )
    if not wait and not cache.add(f"{keys['pair']}:turn", 1, timeout=TURN_SECONDS):
        wait = 1  # another attempt for this pair is being checked right now
    return wait


def _count(key: str, now: float) -> None:
    window = settings.LOGIN_ATTEMPTS_WINDOW
    cache.add(f"{key}:n", 0, timeout=window)
    try:
        cache.incr(f"{key}:n")  # atomic where the cache is (Redis): parallel failures all count
    except ValueError:  # expired between add and incr
        cache.set(f"{key}:n", 1, timeout=window)
    cache.touch(f"{key}:n", window)
    cache.set(f"{key}:t", now, timeout=window)


def login_attempt_failed(username: str, address: str, *, now: float | None = None) -> None:
    """Count a wrong password for the pair, the address and (when capped) the user name."""
    now = time.time() if now is None else now
    keys = _keys(username, address)
    _count(keys["pair"], now)
    _count(keys["address"], now)
    if settings.LOGIN_USERNAME_CEILING:
        _count(keys["name"], now)
    cache.delete(f"{keys['pair']}:turn")


def login_attempt_succeeded(username: str, address: str) -> None:
    """Forget the pair's failures. The address keeps its count: logging in to one's own account
    between guesses at others must not reset it."""
    pair = _keys(username, address)["pair"]
    cache.delete_many([f"{pair}:n", f"{pair}:t", f"{pair}:turn"])


def rate_attempt(scope: str, address: str, *, per_hour: int, now: float | None = None) -> int:
    """Count one attempt of `scope` from the address in the current clock hour; the seconds
    until the next hour when it went over `per_hour` (0 disables the limit), else 0."""
    if per_hour <= 0:
        return 0
    now = time.time() if now is None else now
    hour = int(now // HOUR)
    key = f"rate:{scope}:{_digest(address_bucket(address))}:{hour}"
    cache.add(key, 0, timeout=HOUR + 60)
    try:
        attempts = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=HOUR + 60)
        attempts = 1
    return 0 if attempts <= per_hour else math.ceil((hour + 1) * HOUR - now)


def _duration(seconds: int) -> str:
    if seconds < 120:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    return f"{math.ceil(seconds / 60)} minutes"


def throttled_message(wait: int) -> str:
    """The log-in refusal shown to people (pages and API alike)."""
    return ERROR_THROTTLED.format(wait=_duration(wait))


def rate_message(wait: int) -> str:
    """The refusal of a sign-up or reset request over its hourly limit."""
    return ERROR_RATE.format(wait=_duration(wait))


class ClientRateThrottle(ScopedRateThrottle):
    """DRF's scoped rate, counted per client address the way every other throttle counts it
    (DRF's own get_ident believes any X-Forwarded-For)."""

    def get_ident(self, request) -> str:
        return address_bucket(client_address(request))
