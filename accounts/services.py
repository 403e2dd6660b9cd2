"""Writes of the accounts app: API tokens, auth events and the throttled attempts behind them."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from rest_framework.authtoken.models import Token

from accounts import throttle
from accounts.clients import Client
from accounts.models import AuthEvent

SIGNUP = "signup"
PASSWORD_RESET = "reset"
_RATE_SCOPES = {
    SIGNUP: ("NOTES_SIGNUP_PER_HOUR", AuthEvent.Kind.SIGNUP_THROTTLED),
    PASSWORD_RESET: ("NOTES_PASSWORD_RESET_PER_HOUR", AuthEvent.Kind.RESET_THROTTLED),
}
# Refused requests cost nothing to send: one row per this many seconds per (kind, address,
# name) however fast they come, so a flood cannot fill the table.
REFUSAL_LOG_SECONDS = 60
PRUNE_EVERY_SECONDS = 3600


@transaction.atomic
def token_rotate(*, user) -> Token:
    """Replace the user's API token with a new one (the old one stops working at once)."""
    return token_issue(user=user)[0]


@transaction.atomic
def token_issue(*, user) -> tuple[Token, bool]:
    """A new API token for the user, and whether it replaced one (which stops working)."""
    deleted, _ = Token.objects.filter(user=user).delete()
    return Token.objects.create(user=user), bool(deleted)


def token_revoke(*, user) -> None:
    """Delete the user's API token (every client using it is logged out)."""
    Token.objects.filter(user=user).delete()


def auth_event_record(*, kind: str, client: Client, username: str = "") -> AuthEvent:
    """Store one failed or refused attempt; now and then drop events past their keeping time."""
    event = AuthEvent(kind=kind, username=username[:150], address=client.address[:64],
                      path=client.path, user_agent=client.user_agent)
    event.full_clean()
    event.save()
    # Pruned on write, at most hourly: bounded without a scheduled task to forget.
    if cache.add("auth-events:pruned", 1, timeout=PRUNE_EVERY_SECONDS):
        auth_events_prune()
    return event


def auth_events_prune() -> int:
    """Delete the events older than NOTES_AUTH_EVENT_DAYS; how many went."""
    cutoff = timezone.now() - timedelta(days=settings.NOTES_AUTH_EVENT_DAYS)
    deleted, _ = AuthEvent.objects.filter(created__lt=cutoff).delete()
    return deleted


def auth_refusal_record(*, kind: str, client: Client, username: str = "") -> None:
    """Log a throttled request, at most once a minute per kind, address and user name."""
    who = hashlib.sha256(f"{client.address}\0{username.casefold()}".encode()).hexdigest()[:32]
    if cache.add(f"auth-event:{kind}:{who}", 1, timeout=REFUSAL_LOG_SECONDS):
        auth_event_record(kind=kind, client=client, username=username)


def login_attempt_start(*, client: Client, username: str) -> int:
    """Seconds the client must wait before trying this user name (logged); 0: go ahead, then
    call login_attempt_end."""
    wait = throttle.login_attempt_start(username, client.address)
    if wait:
        auth_refusal_record(kind=AuthEvent.Kind.LOGIN_THROTTLED, client=client, username=username)
    return wait


def login_attempt_end(*, client: Client, username: str, succeeded: bool) -> None:
    """Count the outcome of an attempt login_attempt_start let through; failures are logged."""
    if succeeded:
        throttle.login_attempt_succeeded(username, client.address)
        return
    throttle.login_attempt_failed(username, client.address)
    auth_event_record(kind=AuthEvent.Kind.LOGIN_FAILED, client=client, username=username)


def client_attempt(*, client: Client, scope: str) -> int:
    """Count a sign-up or reset request (SIGNUP, PASSWORD_RESET) from the client's address;
    seconds to wait when it went over the hourly limit (logged), else 0."""
    setting, kind = _RATE_SCOPES[scope]
    wait = throttle.rate_attempt(scope, client.address, per_hour=getattr(settings, setting))
    if wait:
        auth_refusal_record(kind=kind, client=client)
    return wait
