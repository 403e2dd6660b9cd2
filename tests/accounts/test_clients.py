"""accounts.clients: which address a request counts as."""

import pytest
from django.test import RequestFactory

from accounts.clients import address_bucket, client_address

rf = RequestFactory()


def address(**meta) -> str:
    return client_address(rf.get("/", **meta))


def test_x_forwarded_for_is_ignored_without_trusted_proxies(settings):
    settings.NOTES_TRUSTED_PROXIES = []
    assert address(REMOTE_ADDR="198.51.100.7", HTTP_X_FORWARDED_FOR="1.2.3.4") == "198.51.100.7"


def test_x_forwarded_for_is_ignored_from_an_untrusted_peer(behind_proxy):
    assert address(REMOTE_ADDR="198.51.100.7", HTTP_X_FORWARDED_FOR="1.2.3.4") == "198.51.100.7"


def test_client_is_the_right_most_untrusted_hop(behind_proxy):
    # The client wrote "1.2.3.4" itself; the proxy appended the address it really came from.
    assert address(**behind_proxy, HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.9") == "203.0.113.9"


def test_chains_of_trusted_proxies_are_walked(behind_proxy):
    assert address(**behind_proxy,
                   HTTP_X_FORWARDED_FOR="203.0.113.9, 10.0.0.7, 10.0.0.3") == "203.0.113.9"


def test_garbage_from_a_trusted_proxy_leaves_the_proxy(behind_proxy):
    assert address(**behind_proxy, HTTP_X_FORWARDED_FOR="not-an-ip") == "10.0.0.2"
    assert address(**behind_proxy) == "10.0.0.2"


def test_ipv6_addresses_count_per_64():
    assert address_bucket("2001:db8:1:2:aaaa::1") == address_bucket("2001:db8:1:2:bbbb::9")
    assert address_bucket("2001:db8:1:3::1") != address_bucket("2001:db8:1:2::1")
    assert address_bucket("::ffff:192.0.2.1") == "192.0.2.1"


def test_bad_trusted_proxy_setting_names_the_variable(settings):
    from django.core.exceptions import ImproperlyConfigured

    settings.NOTES_TRUSTED_PROXIES = ["10.0.0.0/33"]
    with pytest.raises(ImproperlyConfigured, match="NOTES_TRUSTED_PROXIES"):
        address(REMOTE_ADDR="10.0.0.1")
