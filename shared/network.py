"""Who is on the other end: the client's address and whether it reached us over https.

A service behind a reverse proxy sees the proxy as its direct peer. The proxy says who the real
client is in `X-Forwarded-For` (and the scheme in `X-Forwarded-Proto`), but any client can send
those headers too. They are therefore believed only when the direct peer is one of the regency's
trusted proxies (`<P>TRUSTED_PROXIES`, a comma-separated list of addresses or CIDR networks;
default: none, so the direct peer is the client).

`X-Forwarded-For` is read from the right: each trusted proxy appends the address it saw, so the
first address from the right that is not a trusted proxy is the client. Whatever a client writes
at the left of the header is never used.

Every place that needs the client's address (the login throttle, the idempotency scope of an
anonymous caller, logs) calls `client_address`; the ASGI server must not rewrite the peer itself
(uvicorn: `--no-proxy-headers`).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, MutableMapping
from typing import Any

from starlette.requests import HTTPConnection

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

UNKNOWN = "unknown"
_STATE_KEY = "client_address"


def parse_trusted_proxies(value: str | Iterable[str]) -> tuple[IPNetwork, ...]:
    """`10.0.0.0/8, 192.168.1.7` -> networks; raises ValueError naming the bad entry."""
    items = value.split(",") if isinstance(value, str) else list(value)
    networks: list[IPNetwork] = []
    for raw in items:
        item = raw.strip()
        if not item:
            continue
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ValueError(
                f"trusted proxy {item!r} is not an IP address or CIDR network"
            ) from None
    return tuple(networks)


def _address(value: str) -> IPAddress | None:
    value = value.strip()
    if value.startswith("[") and "]" in value:  # [2001:db8::1]:443
        value = value[1 : value.index("]")]
    elif value.count(":") == 1:  # 203.0.113.5:1234
        value = value.split(":", 1)[0]
    try:
        return ipaddress.ip_address(value)
    except ValueError:
        return None


def is_trusted(address: str, trusted: tuple[IPNetwork, ...]) -> bool:
    parsed = _address(address)
    return parsed is not None and any(parsed in network for network in trusted)


def trusted_proxies_of(connection: HTTPConnection) -> tuple[IPNetwork, ...]:
    trusted: tuple[IPNetwork, ...] = getattr(connection.app.state, "trusted_proxies", ())
    return trusted


def _peer(scope: MutableMapping[str, Any]) -> str:
    client = scope.get("client")
    return str(client[0]) if client else UNKNOWN


def client_address(connection: HTTPConnection) -> str:
    """The client's IP address as text (`unknown` when the server gives none)."""
    state = connection.scope.setdefault("state", {})
    cached = state.get(_STATE_KEY)
    if isinstance(cached, str):
        return cached
    peer = _peer(connection.scope)
    found = peer
    trusted = trusted_proxies_of(connection)
    if trusted and is_trusted(peer, trusted):
        hops = [
            hop.strip()
            for header in connection.headers.getlist("x-forwarded-for")
            for hop in header.split(",")
            if hop.strip()
        ]
        for hop in reversed(hops):
            parsed = _address(hop)
            if parsed is None:
                break  # garbage: stop at the last address a trusted proxy vouched for
            found = str(parsed)
            if not any(parsed in network for network in trusted):
                break
    state[_STATE_KEY] = found
    return found


def came_over_https(connection: HTTPConnection) -> bool:
    """The client used https: directly, or as a trusted proxy reports in `X-Forwarded-Proto`."""
    if connection.url.scheme in ("https", "wss"):
        return True
    trusted = trusted_proxies_of(connection)
    if trusted and is_trusted(_peer(connection.scope), trusted):
        proto = connection.headers.get("x-forwarded-proto", "")
        # The proxy nearest to us wrote the last value.
        return proto.rsplit(",", 1)[-1].strip().lower() == "https"
    return False


def secure_cookies(connection: HTTPConnection) -> bool:
    """Cookies get `Secure` when the site is public over https or this request came over https."""
    settings = getattr(connection.app.state, "settings", None)
    public_url = str(getattr(settings, "public_url", "") or "")
    if public_url.lower().startswith("https://"):
        return True
    if getattr(settings, "environment", "") == "production":
        return True
    return came_over_https(connection)
