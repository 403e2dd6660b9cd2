"""Forms of the accounts app: sign-up, throttled log-ins, password forms that revoke tokens."""

from __future__ import annotations

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import (
    AdminPasswordChangeForm,
    AuthenticationForm,
    PasswordChangeForm,
    SetPasswordForm,
    UserCreationForm,
)
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction

from accounts import services, throttle
from accounts.clients import client_of


class SignupForm(UserCreationForm):
    email = forms.EmailField(required=True, help_text="For password resets.")

    class Meta(UserCreationForm.Meta):
        model = User
        fields = ("username", "email")


class ThrottledLoginMixin:
    """Refuses tries while this address backs off for this user name (or at all), and counts
    the outcome of the others. `throttle_wait` is set when a try was refused."""

    throttle_wait = 0

    def clean(self):
        username = self.cleaned_data.get("username")
        if not username or not self.cleaned_data.get("password"):
            return super().clean()  # field errors only: nothing was tried
        client = client_of(self.request)
        self.throttle_wait = services.login_attempt_start(client=client, username=username)
        if self.throttle_wait:
            raise ValidationError(throttle.throttled_message(self.throttle_wait),
                                  code="throttled")
        try:
            cleaned = super().clean()
        except ValidationError:
            # A wrong password, or a right one for an inactive (or, at the admin, non-staff)
            # account: both are failures of this pair.
            services.login_attempt_end(client=client, username=username, succeeded=False)
            raise
        services.login_attempt_end(client=client, username=username, succeeded=True)
        return cleaned


class ThrottledAuthenticationForm(ThrottledLoginMixin, AuthenticationForm):
    pass


class ThrottledAdminAuthenticationForm(ThrottledLoginMixin, AdminAuthenticationForm):
    pass


class TokenRevokingMixin:
    """A new password also ends the API token the old one could have fetched."""

    def save(self, commit=True):
        with transaction.atomic():
            user = super().save(commit=commit)
            if commit:
                services.token_revoke(user=user)
        return user


class TokenRevokingPasswordChangeForm(TokenRevokingMixin, PasswordChangeForm):
    pass


class TokenRevokingSetPasswordForm(TokenRevokingMixin, SetPasswordForm):
    pass


class TokenRevokingAdminPasswordChangeForm(TokenRevokingMixin, AdminPasswordChangeForm):
    pass
