"""Log-in throttling on the log-in page, the admin's log-in and the API token endpoint:
an attacker slows down only itself."""

from django.urls import reverse
from rest_framework.test import APIClient

from tests.conftest import PASSWORD

ATTACKER, OWNER = "198.51.100.66", "203.0.113.10"


def log_in(client, password, username="alice", **meta):
    return client.post(reverse("accounts:login"), {"username": username, "password": password},
                       **meta)


def test_attackers_failures_do_not_stop_the_owner_elsewhere(client, client_factory, user,
                                                            settings):
    settings.LOGIN_ATTEMPTS = 3
    for _ in range(3):
        log_in(client, "guess", REMOTE_ADDR=ATTACKER)
    assert log_in(client, PASSWORD, REMOTE_ADDR=ATTACKER).status_code == 429
    owner = client_factory()
    assert log_in(owner, PASSWORD, REMOTE_ADDR=OWNER).status_code == 302


def test_owner_keeps_getting_api_tokens_during_an_attack(user, settings):
    settings.LOGIN_ATTEMPTS = 3
    attacker = APIClient(REMOTE_ADDR=ATTACKER)
    for _ in range(4):
        attacker.post("/api/v1/auth/token/", {"username": "ALICE", "password": "x"},
                      format="json")
    refused = attacker.post("/api/v1/auth/token/", {"username": "alice", "password": PASSWORD},
                            format="json")
    assert refused.status_code == 429
    owner = APIClient(REMOTE_ADDR=OWNER)
    response = owner.post("/api/v1/auth/token/", {"username": "alice", "password": PASSWORD},
                          format="json")
    assert response.status_code == 200 and response.json()["token"]


def test_clients_behind_a_trusted_proxy_are_counted_apart(client, client_factory, user,
                                                          settings, behind_proxy):
    settings.LOGIN_ATTEMPTS = 2
    for _ in range(2):
        log_in(client, "guess", **behind_proxy, HTTP_X_FORWARDED_FOR=ATTACKER)
    assert log_in(client, PASSWORD, **behind_proxy,
                  HTTP_X_FORWARDED_FOR=ATTACKER).status_code == 429
    owner = client_factory()
    assert log_in(owner, PASSWORD, **behind_proxy,
                  HTTP_X_FORWARDED_FOR=OWNER).status_code == 302


def test_untrusted_clients_cannot_dodge_the_count_with_x_forwarded_for(client, user, settings,
                                                                       behind_proxy):
    settings.LOGIN_ATTEMPTS = 2
    for i in range(2):  # straight to us, not through the proxy, a new "address" each time
        log_in(client, "guess", REMOTE_ADDR=ATTACKER, HTTP_X_FORWARDED_FOR=f"192.0.2.{i}")
    assert log_in(client, PASSWORD, REMOTE_ADDR=ATTACKER,
                  HTTP_X_FORWARDED_FOR="192.0.2.99").status_code == 429


def test_waits_grow_after_each_further_failure(client, user, settings, monkeypatch):
    import time

    settings.LOGIN_ATTEMPTS, settings.LOGIN_BACKOFF_SECONDS = 2, 30
    clock = [time.time()]
    monkeypatch.setattr("accounts.throttle.time.time", lambda: clock[0])
    assert [log_in(client, "guess").status_code for _ in range(2)] == [200, 200]  # free
    waits = []
    for _ in range(3):
        refused = log_in(client, "guess")
        assert refused.status_code == 429
        waits.append(int(refused["Retry-After"]))
        clock[0] += waits[-1]
        assert log_in(client, "guess").status_code == 200  # let through once more: fails
    assert waits == [30, 60, 120]


def test_admin_log_in_is_throttled(client, staff, settings):
    settings.LOGIN_ATTEMPTS = 2
    url = reverse("admin:login")
    for _ in range(2):
        response = client.post(url, {"username": "root", "password": "guess"})
        assert response.status_code == 200 and b"Please enter the correct" in response.content
    refused = client.post(url, {"username": "root", "password": PASSWORD})
    assert refused.status_code == 429
    assert b"Too many failed log-in attempts" in refused.content
    assert client.get(reverse("admin:index")).status_code == 302  # still not logged in


def test_admin_log_in_still_works(client, staff):
    response = client.post(reverse("admin:login"), {"username": "root", "password": PASSWORD})
    assert response.status_code == 302
    assert client.get(reverse("admin:index")).status_code == 200
