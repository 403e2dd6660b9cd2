"""Auth events: failed and refused log-ins, sign-ups and resets, for staff to review."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class AuthEvent(models.Model):
    class Kind(models.TextChoices):
        LOGIN_FAILED = "login_failed", "log-in failed"
        LOGIN_THROTTLED = "login_throttled", "log-in refused (throttled)"
        SIGNUP_THROTTLED = "signup_throttled", "sign-up refused (throttled)"
        REGISTER_THROTTLED = "register_throttled", "API register refused (throttled)"
        RESET_THROTTLED = "reset_throttled", "password reset refused (throttled)"

    kind = models.CharField(max_length=32, choices=Kind.choices)
    username = models.CharField("user name tried", max_length=150, blank=True)
    address = models.CharField(max_length=64, blank=True)
    path = models.CharField(max_length=200, blank=True)
    user_agent = models.CharField(max_length=200, blank=True)
    created = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created"]
        indexes = [models.Index(fields=["address", "created"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.username or '-'} from {self.address or '?'}"
