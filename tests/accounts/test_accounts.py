"""Sign-up, log-in (throttled), log-out, password change and reset, API tokens."""

import re

from django.contrib.auth import get_user_model
from django.urls import reverse
from rest_framework.authtoken.models import Token

from tests.conftest import PASSWORD

User = get_user_model()


def test_sign_up_logs_the_new_user_in(client):
    response = client.post(reverse("accounts:signup"), {
        "username": "carol", "email": "carol@example.org",
        "password1": PASSWORD, "password2": PASSWORD})
    assert response.status_code == 302 and response["Location"] == reverse("recognition:home")
    assert client.get(reverse("recognition:home")).context["user"].username == "carol"


def test_sign_up_refuses_weak_passwords_and_taken_names(client, user):
    response = client.post(reverse("accounts:signup"), {
        "username": "alice", "email": "a@example.org", "password1": "123", "password2": "123"})
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert "username" in errors and "password2" in errors
    assert User.objects.count() == 1


def test_log_in_and_out(client, user):
    response = client.post(reverse("accounts:login"),
                           {"username": "alice", "password": PASSWORD})
    assert response.status_code == 302
    assert client.get(reverse("recognition:home")).context["user"].is_authenticated
    client.post(reverse("accounts:logout"))
    assert not client.get(reverse("recognition:home")).context["user"].is_authenticated
    assert client.get(reverse("accounts:profile")).status_code == 302  # to the log-in page


def test_login_is_throttled_after_repeated_failures(client, user, settings):
    settings.LOGIN_ATTEMPTS = 3
    for _ in range(3):
        response = client.post(reverse("accounts:login"),
                               {"username": "alice", "password": "wrong"})
        assert response.status_code == 200  # the form again, with an error
    blocked = client.post(reverse("accounts:login"), {"username": "alice", "password": PASSWORD})
    assert blocked.status_code == 429
    assert blocked["Retry-After"] == str(settings.LOGIN_BACKOFF_SECONDS)
    assert "Too many failed log-in attempts. Try again in 30 seconds." in blocked.content.decode()
    assert not client.get(reverse("recognition:home")).context["user"].is_authenticated


def test_throttle_counts_per_address_too(client, user, other_user, settings):
    settings.LOGIN_ADDRESS_ATTEMPTS = 2
    for name in ["nobody1", "nobody2"]:  # a different username each time, same address
        client.post(reverse("accounts:login"), {"username": name, "password": "x"})
    response = client.post(reverse("accounts:login"), {"username": "bob", "password": PASSWORD})
    assert response.status_code == 429


def test_password_change(alice_client, user):
    response = alice_client.post(reverse("accounts:password_change"), {
        "old_password": PASSWORD, "new_password1": "a new long passphrase",
        "new_password2": "a new long passphrase"})
    assert response["Location"] == reverse("accounts:password_change_done")
    user.refresh_from_db()
    assert user.check_password("a new long passphrase")


def test_password_reset_by_email(client, user, mailoutbox, settings):
    response = client.post(reverse("accounts:password_reset"), {"email": "alice@example.org"})
    assert response["Location"] == reverse("accounts:password_reset_done")
    [mail] = mailoutbox
    assert mail.to == ["alice@example.org"]
    site = re.escape(settings.NOTES_SITE_URL)
    link = re.search(site + r"(/accounts/password/reset/\S+/)", mail.body).group(1)
    form_url = client.get(link)["Location"]  # Django swaps the token for a session marker
    response = client.post(form_url, {"new_password1": "reset passphrase 42",
                                      "new_password2": "reset passphrase 42"})
    assert response["Location"] == reverse("accounts:password_reset_complete")
    user.refresh_from_db()
    assert user.check_password("reset passphrase 42")


def test_password_reset_does_not_reveal_unknown_addresses(client, mailoutbox):
    response = client.post(reverse("accounts:password_reset"), {"email": "who@example.org"})
    assert response["Location"] == reverse("accounts:password_reset_done")
    assert mailoutbox == []


def test_api_token_create_rotate_revoke(alice_client, user):
    assert "You have no API token" in alice_client.get(reverse("accounts:profile")).content.decode()
    alice_client.post(reverse("accounts:token-rotate"))
    first = Token.objects.get(user=user).key
    assert first in alice_client.get(reverse("accounts:profile")).content.decode()

    alice_client.post(reverse("accounts:token-rotate"))
    second = Token.objects.get(user=user).key
    assert second != first and not Token.objects.filter(key=first).exists()

    alice_client.post(reverse("accounts:token-revoke"))
    assert not Token.objects.filter(user=user).exists()


def test_token_changes_need_post(alice_client, user):
    assert alice_client.get(reverse("accounts:token-rotate")).status_code == 405
    assert not Token.objects.filter(user=user).exists()
