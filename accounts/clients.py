"""Who is asking: the client address every throttle counts, and what an auth event records.

X-Forwarded-For is only believed when the request came from a configured proxy
(NOTES_TRUSTED_PROXIES): anybody can send the header, so a client that reaches us directly
could otherwise pick a fresh address for every request.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address

USER_AGENT_CHARS = 200
PATH_CHARS = 200


@dataclass(frozen=True)
class Client:
    address: str
    user_agent: str
    path: str


@lru_cache(maxsize=8)
def trusted_networks(proxies: tuple[str, ...]) -> tuple[Network, ...]:
    """The parsed NOTES_TRUSTED_PROXIES (a tuple, so the parse is cached per value)."""
    try:
        return tuple(ipaddress.ip_network(item, strict=False) for item in proxies)
    except ValueError as err:
        raise ImproperlyConfigured(f"NOTES_TRUSTED_PROXIES: {err}") from err


def _parse(text: str) -> Address | None:
    try:
        return ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None


def client_address(request) -> str:
    """The client's IP: REMOTE_ADDR, or the right-most untrusted hop of X-Forwarded-For when
    REMOTE_ADDR is a trusted proxy. Works for Django and DRF requests alike."""
    meta = request.META
    remote = _parse(meta.get("REMOTE_ADDR", ""))
    if remote is None:
        return meta.get("REMOTE_ADDR", "")
    networks = trusted_networks(tuple(settings.NOTES_TRUSTED_PROXIES))
    client = remote
    # Each proxy appends the address it got the request from, so read right to left and stop
    # at the first hop that is not ours: whatever stands left of it the client wrote itself.
    hops = meta.get("HTTP_X_FORWARDED_FOR", "").split(",")
    while any(client in network for network in networks) and hops:
        hop = _parse(hops.pop())
        if hop is None:
            break  # a proxy of ours passed on garbage: the last proxy is all we know
        client = hop
    return str(client)


def address_bucket(address: str) -> str:
    """What throttles count per: the address, or its /64 for IPv6 (one subscriber's range)."""
    parsed = _parse(address)
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    return str(parsed) if parsed else address


def client_of(request) -> Client:
    """The request's client address, user agent and path, trimmed for storage."""
    return Client(
        address=client_address(request),
        user_agent=request.META.get("HTTP_USER_AGENT", "")[:USER_AGENT_CHARS],
        path=request.path[:PATH_CHARS],
    )
