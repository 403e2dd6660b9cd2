"""/api/v1/auth/: register, token, rotate, revoke, me; throttling."""

import pytest
from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token

from tests.api.conftest import assert_error
from tests.conftest import PASSWORD

User = get_user_model()


def test_register_returns_the_user_and_a_working_token(anon):
    response = anon.post("/api/v1/auth/register/", {
        "username": "carol", "email": "carol@example.org", "password": PASSWORD}, format="json")
    assert response.status_code == 201
    body = response.json()
    assert body["username"] == "carol" and body["token"]
    me = anon.get("/api/v1/auth/me/", HTTP_AUTHORIZATION=f"Token {body['token']}")
    assert me.json()["username"] == "carol"


def test_register_validation(anon, user):
    error = assert_error(anon.post("/api/v1/auth/register/", {
        "username": "ALICE", "email": "not-an-email", "password": "123"}, format="json"),
        400, "invalid")
    assert set(error["fields"]) == {"username", "email", "password"}
    assert User.objects.count() == 1


def test_register_is_throttled(anon, monkeypatch):
    from rest_framework.throttling import ScopedRateThrottle

    # The rates are read once, when DRF starts: set this test's rate where they live.
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"register": "2/hour"})
    for i in range(2):
        anon.post("/api/v1/auth/register/", {"username": f"u{i}", "email": "u@example.org",
                                             "password": PASSWORD}, format="json")
    assert_error(anon.post("/api/v1/auth/register/", {
        "username": "u9", "email": "u@example.org", "password": PASSWORD}, format="json"),
        429, "throttled")


def register(client, name, **meta):
    return client.post("/api/v1/auth/register/", {
        "username": name, "email": f"{name}@example.org", "password": PASSWORD},
        format="json", **meta)


def test_register_ignores_x_forwarded_for_from_untrusted_clients(anon, monkeypatch, settings):
    from rest_framework.throttling import ScopedRateThrottle

    settings.NOTES_TRUSTED_PROXIES = []
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"register": "2/hour"})
    for i in range(2):  # a made-up address each time does not buy a fresh allowance
        register(anon, f"u{i}", HTTP_X_FORWARDED_FOR=f"192.0.2.{i}")
    assert_error(register(anon, "u9", HTTP_X_FORWARDED_FOR="192.0.2.99"), 429, "throttled")
    assert User.objects.count() == 2


def test_register_counts_clients_behind_a_trusted_proxy_apart(anon, monkeypatch, settings):
    from rest_framework.throttling import ScopedRateThrottle

    settings.NOTES_TRUSTED_PROXIES = ["10.0.0.2"]
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"register": "2/hour"})
    proxy = {"REMOTE_ADDR": "10.0.0.2"}
    for i in range(2):
        register(anon, f"u{i}", **proxy, HTTP_X_FORWARDED_FOR="198.51.100.1")
    assert_error(register(anon, "u8", **proxy, HTTP_X_FORWARDED_FOR="198.51.100.1"), 429)
    assert register(anon, "u9", **proxy, HTTP_X_FORWARDED_FOR="198.51.100.2").status_code == 201


def test_token_for_good_credentials_only(anon, user):
    response = anon.post("/api/v1/auth/token/", {"username": "alice", "password": PASSWORD},
                         format="json")
    assert response.status_code == 200
    assert response.json() == {"token": Token.objects.get(user=user).key}
    error = assert_error(anon.post("/api/v1/auth/token/", {"username": "alice",
                                                           "password": "nope"}, format="json"),
                         400, "invalid")
    assert error["message"] == "Unable to log in with this user name and password."


def test_token_requests_are_throttled_after_failures(anon, user, settings):
    settings.LOGIN_ATTEMPTS = 3
    for _ in range(3):
        anon.post("/api/v1/auth/token/", {"username": "alice", "password": "x"}, format="json")
    refused = anon.post("/api/v1/auth/token/", {"username": "alice", "password": PASSWORD},
                        format="json")
    error = assert_error(refused, 429, "throttled")
    assert error["message"] == "Too many failed log-in attempts. Try again in 30 seconds."
    assert refused["Retry-After"] == "30"


def test_rotate_and_revoke(api, user):
    old = Token.objects.get(user=user).key
    new = api.post("/api/v1/auth/token/rotate/").json()["token"]
    assert new != old
    assert_error(api.get("/api/v1/auth/me/"), 401, "authentication_failed")  # old one is dead
    api.credentials(HTTP_AUTHORIZATION=f"Token {new}")
    assert api.post("/api/v1/auth/token/revoke/").status_code == 204
    assert_error(api.get("/api/v1/auth/me/"), 401)


@pytest.mark.parametrize("path", ["/api/v1/auth/me/", "/api/v1/notes/", "/api/v1/collections/",
                                  "/api/v1/tags/", "/api/v1/jobs/", "/api/v1/lines/1/"])
def test_anonymous_requests_get_401(anon, path):
    assert_error(anon.get(path), 401, "not_authenticated")


def test_session_authentication_works_too(alice_client):
    assert alice_client.get("/api/v1/auth/me/").json()["username"] == "alice"
