"""Fixtures of the accounts tests: an empty cache, a trusted proxy, a staff account."""

import pytest
from django.core.cache import cache

from tests.factories import UserFactory

PROXY = "10.0.0.2"


@pytest.fixture(autouse=True)
def empty_cache(db):
    """Throttle counters live in the cache; every test starts without any."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def behind_proxy(settings):
    """The site sits behind one reverse proxy at PROXY (requests come from it)."""
    settings.NOTES_TRUSTED_PROXIES = ["10.0.0.0/24"]
    return {"REMOTE_ADDR": PROXY}


@pytest.fixture
def staff(db):
    return UserFactory(username="root", is_staff=True, is_superuser=True)
