"""Anonymous callers' idempotency keys are scoped by the citizen's address, behind a gateway too."""

from __future__ import annotations

import ipaddress
from types import SimpleNamespace

from starlette.requests import Request

from shared.idempotency import caller_of


def _request(peer: str, forwarded: str | None, trusted: tuple[str, ...]) -> Request:
    app = SimpleNamespace(
        state=SimpleNamespace(trusted_proxies=tuple(ipaddress.ip_network(t) for t in trusted))
    )
    headers = [(b"x-forwarded-for", forwarded.encode())] if forwarded else []
    scope = {"type": "http", "client": (peer, 40000), "headers": headers, "app": app}
    return Request(scope)


def test_two_citizens_behind_a_trusted_gateway_have_their_own_key_scope() -> None:
    gateway = ("10.9.0.0/16",)
    first = caller_of(_request("10.9.0.1", "198.51.100.7", gateway), None)
    second = caller_of(_request("10.9.0.1", "198.51.100.8", gateway), None)
    assert first == "anonymous@198.51.100.7"
    assert first != second


def test_a_forged_forwarded_for_from_an_untrusted_peer_is_ignored() -> None:
    scope = caller_of(_request("203.0.113.5", "198.51.100.7", ()), None)
    assert scope == "anonymous@203.0.113.5"
