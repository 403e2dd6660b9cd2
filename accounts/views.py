"""Sign-up, throttled log-in and the profile page with API token management."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import LoginView
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST
from rest_framework.authtoken.models import Token

from accounts import services, throttle
from accounts.forms import SignupForm


class ThrottledLoginView(LoginView):
    """Django's log-in, refusing further tries after too many failures (HTTP 429)."""

    template_name = "registration/login.html"
    redirect_authenticated_user = True

    def post(self, request, *args, **kwargs):
        username = request.POST.get("username", "")
        address = request.META.get("REMOTE_ADDR", "")
        if throttle.login_blocked(username, address):
            form = self.get_form()
            form.errors.clear()
            form.add_error(None, throttle.throttled_message())
            return self.render_to_response(self.get_context_data(form=form), status=429)
        response = super().post(request, *args, **kwargs)
        if request.user.is_authenticated:
            throttle.login_succeeded(username, address)
        else:
            throttle.login_failed(username, address)
        return response


@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, "Welcome! Upload a photo of your notes to begin.")
        return redirect("recognition:home")
    return render(request, "accounts/signup.html", {"form": form},
                  status=400 if form.errors else 200)


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    token = Token.objects.filter(user=request.user).first()
    return render(request, "accounts/profile.html", {"token": token})


@login_required
@require_POST
def token_rotate(request: HttpRequest) -> HttpResponse:
    services.token_rotate(user=request.user)
    messages.success(request, "A new API token was created; the old one no longer works.")
    return redirect("accounts:profile")


@login_required
@require_POST
def token_revoke(request: HttpRequest) -> HttpResponse:
    services.token_revoke(user=request.user)
    messages.success(request, "API token revoked.")
    return redirect("accounts:profile")
