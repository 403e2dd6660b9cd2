"""The profile page shows an API token's key once, right after it was made; afterwards only
its date and last four characters."""

from django.urls import reverse
from rest_framework.authtoken.models import Token

from accounts.views import TOKEN_CREATED, TOKEN_REPLACED, TOKEN_REVOKED

PROFILE = reverse("accounts:profile")
ROTATE = reverse("accounts:token-rotate")


def page_of(client) -> str:
    return client.get(PROFILE).content.decode()


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def test_new_token_is_shown_on_the_next_profile_page(alice_client, user):
    response = alice_client.post(ROTATE, follow=True)
    key = Token.objects.get(user=user).key
    assert f'<code class="token" id="new-token">{key}</code>' in response.content.decode()


def test_new_token_is_not_shown_on_a_second_visit(alice_client, user):
    alice_client.post(ROTATE, follow=True)
    token = Token.objects.get(user=user)
    page = page_of(alice_client)
    assert token.key not in page
    assert f"ending in\n      <code>…{token.key[-4:]}</code>" in page


def test_first_token_message_does_not_mention_an_old_one(alice_client):
    response = alice_client.post(ROTATE, follow=True)
    assert messages_of(response) == [TOKEN_CREATED]
    assert "old one" not in response.content.decode()


def test_replacing_a_token_says_the_old_one_stops_working(alice_client, user):
    old = Token.objects.create(user=user).key
    response = alice_client.post(ROTATE, follow=True)
    new = Token.objects.get(user=user).key
    assert messages_of(response) == [TOKEN_REPLACED]
    assert new != old and new in response.content.decode()
    assert old not in response.content.decode()


def test_a_token_made_elsewhere_is_never_shown_in_clear(alice_client, user):
    token = Token.objects.create(user=user)  # e.g. by the app, through /api/v1/auth/token/
    page = page_of(alice_client)
    assert token.key not in page and f"…{token.key[-4:]}" in page


def test_a_token_revoked_before_it_was_seen_is_not_shown(alice_client, user):
    alice_client.post(ROTATE)  # the profile page that would show it is not loaded
    key = Token.objects.get(user=user).key
    response = alice_client.post(reverse("accounts:token-revoke"), follow=True)
    assert messages_of(response)[-1] == TOKEN_REVOKED
    assert key not in response.content.decode() and key not in page_of(alice_client)
    assert "You have no API token" in page_of(alice_client)


def test_a_token_is_shown_only_to_the_session_that_made_it(alice_client, client_factory, user):
    alice_client.post(ROTATE)
    key = Token.objects.get(user=user).key
    other_device = client_factory()
    other_device.force_login(user)
    assert key not in page_of(other_device)
    assert key in page_of(alice_client)


def test_the_shown_token_has_a_copy_button_from_a_script_file(alice_client):
    page = alice_client.post(ROTATE, follow=True).content.decode()
    button = '<button type="button" class="secondary" data-copy="new-token" hidden>Copy</button>'
    assert button in page
    assert "/static/js/token.js" in page
