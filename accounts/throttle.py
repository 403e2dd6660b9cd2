"""Failed log-in counting, shared by every web process through the cache."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core.cache import cache

ERROR_THROTTLED = "Too many failed log-in attempts. Try again in {minutes} minutes."


def _keys(username: str, address: str) -> list[str]:
    user = hashlib.sha256(username.strip().lower().encode()).hexdigest()[:32]
    return [f"login-fail:user:{user}", f"login-fail:addr:{address}"]


def login_blocked(username: str, address: str) -> bool:
    """True when the username or the client address used up its failed attempts."""
    return any(cache.get(key, 0) >= settings.LOGIN_ATTEMPTS for key in _keys(username, address))


def login_failed(username: str, address: str) -> None:
    for key in _keys(username, address):
        cache.add(key, 0, timeout=settings.LOGIN_ATTEMPTS_WINDOW)
        try:
            cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, timeout=settings.LOGIN_ATTEMPTS_WINDOW)


def login_succeeded(username: str, address: str) -> None:
    cache.delete(_keys(username, address)[0])


def throttled_message() -> str:
    return ERROR_THROTTLED.format(minutes=max(1, settings.LOGIN_ATTEMPTS_WINDOW // 60))
