"""Sign-up and password reset requests: limited per client address; reset links point at the
configured site, whatever Host the request claimed."""

from django.contrib.auth import get_user_model
from django.urls import reverse

from tests.conftest import PASSWORD

User = get_user_model()


def sign_up(client, name, **meta):
    return client.post(reverse("accounts:signup"), {
        "username": name, "email": f"{name}@example.org",
        "password1": PASSWORD, "password2": PASSWORD}, **meta)


def test_sign_up_is_limited_per_address(client_factory, settings, behind_proxy):
    settings.NOTES_SIGNUP_PER_HOUR = 2
    for name in ["u1", "u2"]:
        assert sign_up(client_factory(), name, **behind_proxy,
                       HTTP_X_FORWARDED_FOR="198.51.100.1").status_code == 302
    refused = sign_up(client_factory(), "u3", **behind_proxy,
                      HTTP_X_FORWARDED_FOR="198.51.100.1")
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    assert "Too many attempts from your address." in refused.content.decode()
    assert User.objects.count() == 2
    assert sign_up(client_factory(), "u4", **behind_proxy,
                   HTTP_X_FORWARDED_FOR="198.51.100.2").status_code == 302


def test_password_reset_requests_are_limited_per_address(client, user, settings, mailoutbox):
    settings.NOTES_PASSWORD_RESET_PER_HOUR = 2
    url = reverse("accounts:password_reset")
    for _ in range(2):
        assert client.post(url, {"email": "alice@example.org"}).status_code == 302
    refused = client.post(url, {"email": "alice@example.org"})
    assert refused.status_code == 429
    assert "Too many attempts from your address." in refused.content.decode()
    assert len(mailoutbox) == 2
    other = client.post(url, {"email": "alice@example.org"}, REMOTE_ADDR="203.0.113.5")
    assert other.status_code == 302 and len(mailoutbox) == 3


def test_reset_link_uses_the_site_address_not_the_host_header(client, user, settings,
                                                              mailoutbox):
    settings.ALLOWED_HOSTS = ["127.0.0.1"]  # a port is not part of the check
    settings.NOTES_SITE_URL = "https://notes.example.org"
    response = client.post(reverse("accounts:password_reset"), {"email": "alice@example.org"},
                           HTTP_HOST="127.0.0.1:6666")
    assert response.status_code == 302
    [mail] = mailoutbox
    assert "https://notes.example.org/accounts/password/reset/" in mail.body
    assert "6666" not in mail.body and "127.0.0.1" not in mail.body
