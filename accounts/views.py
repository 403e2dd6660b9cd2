"""Sign-up, log-in and password reset (throttled), the profile page with API token management."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import LoginView, PasswordResetView
from django.core.exceptions import NON_FIELD_ERRORS
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST
from rest_framework.authtoken.models import Token

from accounts import services, throttle
from accounts.clients import client_of
from accounts.forms import SignupForm, ThrottledAuthenticationForm

# The key of a token just made waits in the session for the one profile page that shows it.
TOKEN_ONCE_KEY = "accounts:token-once"
TOKEN_CREATED = "Your API token was created. Copy it now: it is shown only this once."
TOKEN_REPLACED = ("A new API token was created and the old one no longer works. "
                  "Copy it now: it is shown only this once.")
TOKEN_REVOKED = "API token revoked."


def _mark_throttled(response: HttpResponse, form) -> HttpResponse:
    """429 and Retry-After when the form refused a throttled log-in."""
    if form is not None and form.has_error(NON_FIELD_ERRORS, "throttled"):
        response.status_code = 429
        response["Retry-After"] = str(form.throttle_wait)
    return response


class ThrottledLoginView(LoginView):
    """Django's log-in; a client backing off gets the form again with HTTP 429."""

    template_name = "registration/login.html"
    redirect_authenticated_user = True
    form_class = ThrottledAuthenticationForm

    def form_invalid(self, form):
        return _mark_throttled(super().form_invalid(form), form)


def admin_login(request: HttpRequest) -> HttpResponse:
    """The admin's log-in (throttled by its form, see accounts/admin.py), with HTTP 429."""
    response = admin.site.login(request)
    context = getattr(response, "context_data", None) or {}
    return _mark_throttled(response, context.get("form"))


def _refused(request: HttpRequest, template: str, form, wait: int) -> HttpResponse:
    messages.error(request, throttle.rate_message(wait))
    response = render(request, template, {"form": form}, status=429)
    response["Retry-After"] = str(wait)
    return response


@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        wait = services.client_attempt(client=client_of(request), scope=services.SIGNUP)
        if wait:
            return _refused(request, "accounts/signup.html", SignupForm(), wait)
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, "Welcome! Upload a photo of your notes to begin.")
        return redirect("recognition:home")
    return render(request, "accounts/signup.html", {"form": form},
                  status=400 if form.errors else 200)


class ThrottledPasswordResetView(PasswordResetView):
    """Django's reset request, limited per address; links point at NOTES_SITE_URL."""

    def post(self, request, *args, **kwargs):
        wait = services.client_attempt(client=client_of(request), scope=services.PASSWORD_RESET)
        if wait:
            return _refused(request, self.template_name, self.form_class(), wait)
        return super().post(request, *args, **kwargs)

    @property
    def extra_email_context(self) -> dict:
        # The e-mail's context is built from the request's Host (any port, any host the
        # ALLOWED_HOSTS pattern lets through); these values replace it.
        site = urlsplit(settings.NOTES_SITE_URL)
        return {"domain": site.netloc, "site_name": site.netloc, "protocol": site.scheme}


@never_cache  # the page may show a new API token: no copy in any cache
@login_required
def profile(request: HttpRequest) -> HttpResponse:
    token = Token.objects.filter(user=request.user).first()
    new_key = request.session.pop(TOKEN_ONCE_KEY, None)
    return render(request, "accounts/profile.html", {
        "token": token,
        # Only the token that still exists is shown (not one replaced or revoked meanwhile).
        "new_key": new_key if token is not None and new_key == token.key else None,
    })


@never_cache
@login_required
@require_POST
def token_rotate(request: HttpRequest) -> HttpResponse:
    token, replaced = services.token_issue(user=request.user)
    request.session[TOKEN_ONCE_KEY] = token.key
    messages.success(request, TOKEN_REPLACED if replaced else TOKEN_CREATED)
    return redirect("accounts:profile")


@login_required
@require_POST
def token_revoke(request: HttpRequest) -> HttpResponse:
    services.token_revoke(user=request.user)
    request.session.pop(TOKEN_ONCE_KEY, None)
    messages.success(request, TOKEN_REVOKED)
    return redirect("accounts:profile")
