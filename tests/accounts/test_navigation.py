"""The header's navigation (templates/base.html) is a named landmark that marks the page the
visitor is on."""

from django.urls import reverse


def test_profile_link_is_marked_as_the_current_page(alice_client):
    page = alice_client.get(reverse("accounts:profile")).content.decode()
    assert '<nav aria-label="Main">' in page
    assert f'<a href="{reverse("accounts:profile")}" aria-current="page">alice' in page
    assert page.count('aria-current="page"') == 1


def test_log_in_link_is_marked_as_the_current_page_for_visitors(client):
    page = client.get(reverse("accounts:login")).content.decode()
    assert '<nav aria-label="Account">' in page
    assert f'<a href="{reverse("accounts:login")}" aria-current="page">Log in</a>' in page
    assert page.count('aria-current="page"') == 1
