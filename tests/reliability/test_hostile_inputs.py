"""Inputs the databases cannot take: a 4xx problem, never a 500.

PostgreSQL refuses a NUL byte in text (SQLSTATE 22021), so a string that reaches a query
unchecked is a 500 there while SQLite stores it; an id beyond BIGINT overflows both drivers.
The schemathesis run found the first of each; these cases pin them down on both backends.
"""

from __future__ import annotations

from typing import Any

import pytest
from reliability_helpers import hayu_filing

from shared.testing import add_account, bearer, client_for

NUL = "a\x00b"
HUGE = str(2**64)  # beyond BIGINT
CASES: list[tuple[str, str, str, dict[str, Any]]] = [
    ("hayu", "GET", f"/api/v1/applications/{HUGE}", {}),
    ("hayu", "POST", f"/api/v1/applications/{HUGE}/transitions", {"json": {"action": "accept"}}),
    ("sabilulungan", "GET", f"/api/v1/proposals/{HUGE}", {}),
    ("erk", "GET", f"/api/v1/activities/{HUGE}/evidence", {}),
    ("hayu", "GET", "/api/v1/applications", {"params": {"status": NUL}}),
    ("hayu", "GET", "/api/v1/applications", {"params": {"permit_type_code": NUL}}),
    ("hayu", "GET", "/api/v1/kbli", {"params": {"q": NUL}}),
    ("hayu", "GET", "/api/v1/public/verify/REG%00X", {}),
    ("hayu", "GET", "/api/v1/permits/REG%00X/qr", {}),
    ("hayu", "GET", "/api/v1/permits/REG%00X/certificate.pdf", {}),
    ("hayu", "POST", "/api/v1/applications", {"json": hayu_filing(name="Usaha\x00Nul")}),
    ("hayu", "GET", "/api/v1/audit/events", {"params": {"entity_type": NUL}}),
    ("hayu", "POST", "/api/v1/auth/token", {"data": {"username": NUL, "password": "x"}}),
    ("sabilulungan", "GET", "/api/v1/proposals", {"params": {"status": NUL}}),
    ("sabilulungan", "GET", "/api/v1/public/verify/N%00X", {}),
    ("sabilulungan", "GET", "/api/v1/audit/events", {"params": {"entity_type": NUL}}),
    ("sabilulungan", "POST", "/api/v1/auth/token", {"data": {"username": NUL, "password": "x"}}),
    ("erk", "GET", "/api/v1/activities", {"params": {"status": NUL}}),
    ("erk", "GET", "/api/v1/recaps/2026-01", {"params": {"unit_code": NUL}}),
    ("erk", "GET", "/api/v1/audit/events", {"params": {"entity_type": NUL}}),
    ("erk", "POST", "/api/v1/auth/token", {"data": {"username": NUL, "password": "x"}}),
]
ROLES = {
    "hayu": ["business_owner", "auditor", "admin"],
    "sabilulungan": ["auditor", "admin"],
    "erk": ["auditor", "admin"],
}


def _cases() -> list[Any]:
    return [
        pytest.param(
            service,
            method,
            url,
            kwargs,
            id=f"{service}-{method}-{url}-{'-'.join(kwargs.get('params', {}))}",
        )
        for service, method, url, kwargs in CASES
    ]


@pytest.mark.parametrize(("service", "method", "url", "kwargs"), _cases())
async def test_input_the_database_cannot_take_is_a_client_error(
    make_app: Any, service: str, method: str, url: str, kwargs: dict[str, Any]
) -> None:
    app = await make_app(service)
    async with client_for(app) as client:
        await add_account(app, "penguji", ROLES[service])
        headers = await bearer(client, "penguji")
        response = await client.request(method, url, headers=headers, **kwargs)
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        assert response.headers["content-type"].startswith("application/problem+json")
