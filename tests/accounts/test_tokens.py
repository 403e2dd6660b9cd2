"""API tokens end with the password that could fetch them; pages and answers that show a
token are never stored by a cache."""

import re

from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.conftest import PASSWORD

NEW = "a new long passphrase 7"


def test_password_change_revokes_the_api_token(alice_client, user):
    Token.objects.create(user=user)
    response = alice_client.post(reverse("accounts:password_change"), {
        "old_password": PASSWORD, "new_password1": NEW, "new_password2": NEW})
    assert response.status_code == 302
    assert not Token.objects.filter(user=user).exists()


def test_failed_password_change_keeps_the_api_token(alice_client, user):
    token = Token.objects.create(user=user)
    response = alice_client.post(reverse("accounts:password_change"), {
        "old_password": "wrong", "new_password1": NEW, "new_password2": NEW})
    assert response.status_code == 200
    assert Token.objects.filter(key=token.key).exists()


def test_password_reset_revokes_the_api_token(client, user, settings, mailoutbox):
    token = Token.objects.create(user=user)
    client.post(reverse("accounts:password_reset"), {"email": "alice@example.org"})
    path = re.search(re.escape(settings.NOTES_SITE_URL) + r"(\S+/)", mailoutbox[0].body).group(1)
    form_url = client.get(path)["Location"]
    response = client.post(form_url, {"new_password1": NEW, "new_password2": NEW})
    assert response["Location"] == reverse("accounts:password_reset_complete")
    assert not Token.objects.filter(user=user).exists()
    me = APIClient().get("/api/v1/auth/me/", HTTP_AUTHORIZATION=f"Token {token.key}")
    assert me.status_code == 401


def test_admin_password_change_revokes_the_api_token(client, staff, user):
    Token.objects.create(user=user)
    client.force_login(staff)
    response = client.post(reverse("admin:auth_user_password_change", args=[user.pk]), {
        "password1": NEW, "password2": NEW, "usable_password": "true"})
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password(NEW)
    assert not Token.objects.filter(user=user).exists()


def assert_no_store(response):
    assert "no-store" in response["Cache-Control"], response.get("Cache-Control")


def test_profile_page_is_not_stored(alice_client, user):
    Token.objects.create(user=user)
    assert_no_store(alice_client.get(reverse("accounts:profile")))


def test_token_rotate_page_answer_is_not_stored(alice_client):
    assert_no_store(alice_client.post(reverse("accounts:token-rotate")))


def test_api_token_answers_are_not_stored(user):
    anon = APIClient()
    response = anon.post("/api/v1/auth/token/", {"username": "alice", "password": PASSWORD},
                         format="json")
    assert response.status_code == 200
    assert_no_store(response)
    anon.credentials(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")
    rotated = anon.post("/api/v1/auth/token/rotate/")
    assert rotated.status_code == 200
    assert_no_store(rotated)
    registered = APIClient().post("/api/v1/auth/register/", {
        "username": "carol", "email": "carol@example.org", "password": PASSWORD}, format="json")
    assert registered.status_code == 201
    assert_no_store(registered)
