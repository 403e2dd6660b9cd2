"""API test clients: token-authenticated, as a phone app is."""

import pytest
from django.core.cache import cache
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient


def token_client(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")
    return client


@pytest.fixture
def api(user):
    return token_client(user)


@pytest.fixture
def bob_api(other_user):
    return token_client(other_user)


@pytest.fixture
def anon():
    return APIClient()


@pytest.fixture(autouse=True)
def fresh_throttles(db):
    """Throttle counters live in the cache; each test starts with none."""
    cache.clear()
    yield
    cache.clear()


def assert_error(response, status: int, code: str | None = None) -> dict:
    """The one error shape of the API."""
    assert response.status_code == status, response.content[:500]
    assert response["Content-Type"].startswith("application/json")
    error = response.json()["error"]
    assert set(error) >= {"code", "message", "fields"} and error["message"]
    if code:
        assert error["code"] == code, error
    return error
