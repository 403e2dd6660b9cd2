"""Auth events: failures and refusals are written, bounded, and shown to staff read-only."""

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from accounts import services
from accounts.clients import Client
from accounts.models import AuthEvent
from tests.factories import UserFactory

BROWSER = "Mozilla/5.0 " + "x" * 300


def test_failed_log_in_writes_an_event(client, user):
    client.post(reverse("accounts:login"), {"username": "alice", "password": "guess"},
                REMOTE_ADDR="198.51.100.66", HTTP_USER_AGENT=BROWSER)
    [event] = AuthEvent.objects.all()
    assert (event.kind, event.username, event.address, event.path) == (
        "login_failed", "alice", "198.51.100.66", reverse("accounts:login"))
    assert event.user_agent == BROWSER[:200]


def test_successful_log_in_writes_none(client, user):
    from tests.conftest import PASSWORD

    client.post(reverse("accounts:login"), {"username": "alice", "password": PASSWORD})
    assert AuthEvent.objects.count() == 0


def test_refusals_are_logged_once_a_minute_not_per_request(client, user, settings):
    settings.LOGIN_ATTEMPTS = 1
    for _ in range(6):
        client.post(reverse("accounts:login"), {"username": "alice", "password": "guess"})
    kinds = sorted(AuthEvent.objects.values_list("kind", flat=True))
    assert kinds == ["login_failed", "login_throttled"]


def test_throttled_sign_up_writes_an_event(client, settings):
    settings.NOTES_SIGNUP_PER_HOUR = 1
    for name in ["u1", "u2"]:
        client.post(reverse("accounts:signup"), {"username": name, "email": "u@example.org",
                                                 "password1": "x", "password2": "x"})
    assert list(AuthEvent.objects.values_list("kind", flat=True)) == ["signup_throttled"]


def test_old_events_are_pruned(db, settings):
    settings.NOTES_AUTH_EVENT_DAYS = 30
    client = Client(address="198.51.100.66", user_agent="", path="/accounts/login/")
    old = services.auth_event_record(kind=AuthEvent.Kind.LOGIN_FAILED, client=client)
    AuthEvent.objects.filter(pk=old.pk).update(created=timezone.now() - timedelta(days=31))
    kept = services.auth_event_record(kind=AuthEvent.Kind.LOGIN_FAILED, client=client)
    assert services.auth_events_prune() == 1
    assert list(AuthEvent.objects.values_list("pk", flat=True)) == [kept.pk]


def test_staff_see_events_in_the_admin(client, user, staff):
    client.post(reverse("accounts:login"), {"username": "mallory-tried-this", "password": "x"})
    client.force_login(staff)
    url = reverse("admin:accounts_authevent_changelist")
    page = client.get(url, {"kind__exact": "login_failed"})
    assert page.status_code == 200 and b"mallory-tried-this" in page.content
    assert b"mallory-tried-this" not in client.get(url, {"kind__exact": "signup_throttled"}).content
    assert client.get(reverse("admin:accounts_authevent_add")).status_code == 403


def test_non_staff_cannot_see_events(client, db):
    client.force_login(UserFactory(username="plain"))
    response = client.get(reverse("admin:accounts_authevent_changelist"))
    assert response.status_code == 302  # to the admin's log-in
