"""Authorization matrix: every API route x every role, anonymous, and a same-role non-owner.

One table per service. The routes come from the app itself (`app.routes`: every route of the
OpenAPI document; the HTML pages are not part of it), so a route added without a row, or a row
left behind by a removed route, fails the test. Each cell is one request
with the principal's token; the expected status is exact. Where a service hides other people's
objects it answers 404 (never 2xx); an action the role may not take is 403; no token is 401.

Requests that change something get a fresh object per cell, so one principal's success never
decides the next principal's answer. Beside the tables, explicit tests show that another
applicant's proposal, another owner's application and another employee's activities can be
neither read nor changed.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
from fastapi import FastAPI, routing
from reliability_helpers import (
    PDF,
    SABILULUNGAN_YEAR,
    bansos_proposal,
    hayu_filing,
    sabilulungan_hibah,
)
from sqlalchemy import select

from sabilulungan.config import EVALUATION_CHECKLIST
from sabilulungan.models import IssuedDocument
from shared.app import seal_once
from shared.db import utcnow
from shared.testing import add_account, bearer, client_for

ANONYMOUS = "anonymous"
OTHER = "other"  # the owner's role, but not the owner of the object
_counter = itertools.count(1)


def unique(prefix: str) -> str:
    return f"{prefix}{next(_counter)}"


@dataclass
class World:
    """One app, a token per principal and the owner's objects the rows point at."""

    app: FastAPI
    client: httpx.AsyncClient
    principals: tuple[str, ...]
    headers: dict[str, dict[str, str]] = field(default_factory=dict)
    ids: dict[str, Any] = field(default_factory=dict)
    fresh: dict[str, Callable[[], Awaitable[Any]]] = field(default_factory=dict)

    def h(self, who: str) -> dict[str, str]:
        return self.headers.get(who, {})

    async def login(self, who: str, username: str, roles: list[str], **kwargs: Any) -> None:
        await add_account(self.app, username, roles, **kwargs)
        self.headers[who] = await bearer(self.client, username)


Request = dict[str, Any]  # keyword arguments of httpx.AsyncClient.request (url, json, data, ...)
Builder = Callable[[World, str], Awaitable[Request]]


@dataclass(frozen=True)
class Row:
    method: str
    path: str
    expect: Mapping[str, int]
    build: Builder


def static(url: str, **kwargs: Any) -> Builder:
    async def build(world: World, who: str) -> Request:
        return {"url": url.format(**world.ids), **kwargs}

    return build


def public(principals: tuple[str, ...], status: int = 200) -> dict[str, int]:
    return dict.fromkeys(principals, status)


def expect(
    principals: tuple[str, ...],
    allowed: Mapping[str, int],
    *,
    default: int = 403,
    **others: int,
) -> dict[str, int]:
    """Anonymous 401, each allowed principal its status, `others` as named, the rest `default`."""
    table = dict.fromkeys(principals, default)
    table[ANONYMOUS] = 401
    table.update(allowed)
    table.update(others)
    unknown = set(table) - set(principals)
    assert not unknown, f"not principals of this service: {unknown}"
    return table


def api_routes(app: FastAPI) -> set[tuple[str, str]]:
    """(method, path) of every route in the OpenAPI document, read from `app.routes`."""
    found: set[tuple[str, str]] = set()
    for context in routing.iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, routing.APIRoute) and context.include_in_schema:
            for method in (route.methods or set()) - {"HEAD"}:
                found.add((method, str(context.path)))
    return found


async def check_cell(world: World, row: Row, who: str) -> str | None:
    """None when the principal gets the expected answer, else what went wrong."""
    request = await row.build(world, who)
    headers = {**request.pop("headers", {}), **world.h(who)}
    response = await world.client.request(row.method, headers=headers, **request)
    want = row.expect[who]
    if response.status_code != want:
        return (
            f"{row.method} {row.path} as {who}: {response.status_code} (want {want}) "
            f"{response.text[:160]}"
        )
    kind = response.headers.get("content-type", "")
    if want in (401, 403, 404) and not kind.startswith("application/problem+json"):
        return f"{row.method} {row.path} as {who}: {want} is not a problem document"
    return None


async def check_matrix(world: World, rows: list[Row]) -> None:
    """Every route has a row, every row has every principal, every cell its expected answer."""
    routes = api_routes(world.app)
    keyed = {(r.method, r.path) for r in rows}
    assert len(keyed) == len(rows), "two rows for one route"
    assert not routes - keyed, f"routes without a row in the matrix: {sorted(routes - keyed)}"
    assert not keyed - routes, f"rows for routes that no longer exist: {sorted(keyed - routes)}"
    wrong = []
    for row in rows:
        assert set(row.expect) == set(world.principals), (row.path, set(row.expect))
        for who in world.principals:
            problem = await check_cell(world, row, who)
            if problem is not None:
                wrong.append(problem)
    assert not wrong, "\n".join(wrong)


def account_rows(p: tuple[str, ...]) -> list[Row]:
    """The shared account routes, last: logging out ends every token of the principal."""
    signed_in = expect(p, dict.fromkeys(set(p) - {ANONYMOUS}, 422))
    return [
        Row(
            "POST",
            "/api/v1/auth/password",
            signed_in,  # the current password is wrong: nothing changes, the token stays good
            static(
                "/api/v1/auth/password",
                json={"current_password": "bukan-sandinya", "new_password": "sandi-baru-123"},
            ),
        ),
        Row(
            "POST",
            "/api/v1/auth/logout",
            expect(p, dict.fromkeys(set(p) - {ANONYMOUS}, 204)),
            static("/api/v1/auth/logout"),
        ),
    ]


# --------------------------------------------------------------------------------------------------
# HAYU
# --------------------------------------------------------------------------------------------------

HAYU_ROLES = ("business_owner", "officer", "inspector", "approver", "auditor", "admin")
HAYU = (ANONYMOUS, OTHER, *HAYU_ROLES)  # the owner is "business_owner"
HAYU_STAFF = {"officer": 200, "inspector": 200, "approver": 200, "auditor": 200, "admin": 200}


async def hayu_world(make_app: Any) -> World:
    app = await make_app("hayu")
    world = World(app, client_for(app), HAYU)
    for role in HAYU_ROLES:
        await world.login(role, f"u-{role}", [role])
    await world.login(OTHER, "u-other", ["business_owner"])
    owner = world.h("business_owner")

    async def file(code: str = "REKLAME", capital: int = 750_000_000) -> dict[str, Any]:
        response = await world.client.post(
            "/api/v1/applications", json=hayu_filing(code, capital_idr=capital), headers=owner
        )
        assert response.status_code == 201, response.text
        body: dict[str, Any] = response.json()
        return body

    permit = await file()
    registered = await file("SS", 100_000_000)
    with_document = await file()
    uploaded = await world.client.post(
        f"/api/v1/applications/{with_document['id']}/documents",
        data={"checklist_item": "ktp"},
        files={"file": ("ktp.pdf", PDF, "application/pdf")},
        headers=owner,
    )
    assert uploaded.status_code == 201, uploaded.text
    world.ids.update(
        document=uploaded.json()["id"],
        document_application=with_document["id"],
        application=permit["id"],
        tracking=permit["tracking_code"],
        number=registered["registration_number"],
    )
    world.fresh["application"] = file
    await seal_once(app)
    return world


def hayu_rows() -> list[Row]:
    p = HAYU
    staff_read = {"business_owner": 200, **HAYU_STAFF}
    certificate = {
        "business_owner": 200,
        "officer": 200,
        "approver": 200,
        "auditor": 200,
        "admin": 200,
    }

    async def register(world: World, who: str) -> Request:
        body = {
            "username": unique("pendaftar"),
            "password": "sandi-rahasia-1",
            "full_name": "Ani Lestari",
        }
        return {"url": "/api/v1/auth/register", "json": body}

    async def fresh_transition(world: World, who: str) -> Request:
        created = await world.fresh["application"]()
        return {
            "url": f"/api/v1/applications/{created['id']}/transitions",
            "json": {"action": "accept"},
        }

    async def upload(world: World, who: str) -> Request:
        created = await world.fresh["application"]()
        return {
            "url": f"/api/v1/applications/{created['id']}/documents",
            "data": {"checklist_item": "ktp"},
            "files": {"file": ("ktp.pdf", PDF, "application/pdf")},
        }

    return [
        Row("GET", "/health", public(p), static("/health")),
        Row("GET", "/ready", public(p), static("/ready")),
        Row("GET", "/metrics", public(p), static("/metrics")),
        Row(
            "POST",
            "/api/v1/auth/token",
            public(p),
            static(
                "/api/v1/auth/token", data={"username": "u-auditor", "password": "password-123"}
            ),
        ),
        Row(
            "GET",
            "/api/v1/auth/me",
            expect(p, public(p), anonymous=401),
            static("/api/v1/auth/me"),
        ),
        Row(
            "GET",
            "/api/v1/public/audit/checkpoint",
            public(p),
            static("/api/v1/public/audit/checkpoint"),
        ),
        Row(
            "GET",
            "/api/v1/public/audit/checkpoints",
            public(p),
            static("/api/v1/public/audit/checkpoints"),
        ),
        Row(
            "GET",
            "/api/v1/public/audit/consistency",
            public(p),
            static("/api/v1/public/audit/consistency?first=0&second=0"),
        ),
        Row(
            "GET",
            "/api/v1/audit/events",
            expect(p, {"auditor": 200, "admin": 200}),
            static("/api/v1/audit/events"),
        ),
        Row(
            "GET",
            "/api/v1/audit/events/{event_id}/inclusion",
            expect(p, {"auditor": 422, "admin": 422}),  # no such sealed event: refused after auth
            static("/api/v1/audit/events/999999/inclusion"),
        ),
        Row("GET", "/api/v1/permit-types", public(p), static("/api/v1/permit-types")),
        Row("GET", "/api/v1/kbli", public(p), static("/api/v1/kbli", params={"q": "47"})),
        Row("GET", "/api/v1/regions", public(p), static("/api/v1/regions", params={"q": "32"})),
        Row(
            "GET",
            "/api/v1/filing-decision",
            public(p),
            static("/api/v1/filing-decision", params={"permit_type_code": "SS", "capital_idr": 1}),
        ),
        Row("POST", "/api/v1/auth/register", public(p, 201), register),
        Row(
            "POST",
            "/api/v1/applications",
            expect(p, {"business_owner": 201, OTHER: 201}),
            static("/api/v1/applications", json=hayu_filing()),
        ),
        Row(
            "GET",
            "/api/v1/applications",
            expect(p, public(p), anonymous=401),
            static("/api/v1/applications"),
        ),
        Row(
            "GET",
            "/api/v1/applications/{application_id}",
            expect(p, staff_read, other=404),
            static("/api/v1/applications/{application}"),
        ),
        Row(
            "GET",
            "/api/v1/applications/{application_id}/receipt",
            expect(p, staff_read, other=404),
            static("/api/v1/applications/{application}/receipt"),
        ),
        Row(
            "GET",
            "/api/v1/applications/{application_id}/receipt.pdf",
            expect(p, staff_read, other=404),
            static("/api/v1/applications/{application}/receipt.pdf"),
        ),
        # The file was not refused: 404 (not-refused) for whoever may read it.
        Row(
            "GET",
            "/api/v1/applications/{application_id}/refusal",
            expect(p, dict.fromkeys(staff_read, 404), other=404),
            static("/api/v1/applications/{application}/refusal"),
        ),
        Row(
            "GET",
            "/api/v1/applications/{application_id}/refusal.pdf",
            expect(p, dict.fromkeys(staff_read, 404), other=404),
            static("/api/v1/applications/{application}/refusal.pdf"),
        ),
        Row(
            "POST",
            "/api/v1/applications/{application_id}/documents",
            expect(p, {"business_owner": 201, "officer": 201}, other=404),
            upload,
        ),
        Row(
            "GET",
            "/api/v1/applications/{application_id}/documents/{document_id}",
            expect(
                p,
                {"business_owner": 200, "officer": 200, "inspector": 200, "approver": 200},
                auditor=200,
                other=404,
                admin=404,
            ),
            static("/api/v1/applications/{document_application}/documents/{document}"),
        ),
        Row(
            "POST",
            "/api/v1/applications/{application_id}/transitions",
            expect(p, {"officer": 200}, other=404),
            fresh_transition,
        ),
        Row(
            "GET",
            "/api/v1/public/track/{tracking_code}",
            public(p),
            static("/api/v1/public/track/{tracking}"),
        ),
        Row(
            "GET",
            "/api/v1/permits/{number:path}/certificate.pdf",
            expect(p, certificate, other=404, inspector=404),
            static("/api/v1/permits/{number}/certificate.pdf"),
        ),
        Row(
            "GET",
            "/api/v1/permits/{number:path}/qr",
            expect(p, certificate, other=404, inspector=404),
            static("/api/v1/permits/{number}/qr"),
        ),
        Row(
            "GET",
            "/api/v1/public/verify/{number:path}",
            public(p),
            static("/api/v1/public/verify/{number}"),
        ),
        Row(
            "GET",
            "/api/v1/public/verification-key",
            public(p),
            static("/api/v1/public/verification-key"),
        ),
        Row(
            "POST",
            "/api/v1/self-reports/audit-sample",
            expect(p, {"officer": 201, "admin": 201}),
            static("/api/v1/self-reports/audit-sample", json={"percent": 50}),
        ),
        Row("GET", "/api/v1/public/stats", public(p), static("/api/v1/public/stats")),
        Row(
            "POST",
            "/api/v1/oss/receive-nib",
            public(p, 401),  # only OSS, with the inbound token (not configured here)
            static(
                "/api/v1/oss/receive-nib",
                json={"nib": "9120001234567", "nama_usaha": "CV Contoh", "kbli": ["47111"]},
            ),
        ),
        Row(
            "POST",
            "/api/v1/self-reports/audit-samples/{sample_id}/findings",
            expect(p, {"officer": 422, "admin": 422}),  # sample 999 does not exist
            static(
                "/api/v1/self-reports/audit-samples/999/findings",
                json={
                    "application_id": 1,
                    "outcome": "sesuai",
                    "findings": "Sesuai laporan.",
                    "follow_up": "tidak_ada",
                },
            ),
        ),
        Row(
            "GET",
            "/api/v1/lkpm/due",
            expect(p, {"officer": 200, "admin": 200}),
            static("/api/v1/lkpm/due"),
        ),
        Row(
            "GET",
            "/api/v1/oss/outbox",
            expect(p, {"admin": 200}),
            static("/api/v1/oss/outbox"),
        ),
    ]


async def test_hayu_authorization_matrix(make_app: Any) -> None:
    world = await hayu_world(make_app)
    async with contextlib.aclosing(world.client):
        await check_matrix(world, [*hayu_rows(), *account_rows(world.principals)])


async def test_hayu_another_owners_application_can_be_neither_read_nor_changed(
    make_app: Any,
) -> None:
    world = await hayu_world(make_app)
    async with contextlib.aclosing(world.client):
        client, other = world.client, world.h(OTHER)
        app_id = world.ids["application"]
        # Put the file where its owner could act on it (revision requested), then try as another.
        response = await client.post(
            f"/api/v1/applications/{app_id}/transitions",
            json={"action": "request_revision", "note": "Lengkapi desain"},
            headers=world.h("officer"),
        )
        assert response.status_code == 200, response.text
        attempts = [
            client.get(f"/api/v1/applications/{app_id}", headers=other),
            client.post(
                f"/api/v1/applications/{app_id}/transitions",
                json={"action": "resubmit"},
                headers=other,
            ),
            client.post(
                f"/api/v1/applications/{app_id}/documents",
                data={"checklist_item": "ktp"},
                files={"file": ("ktp.pdf", PDF, "application/pdf")},
                headers=other,
            ),
            client.get(f"/api/v1/permits/{world.ids['number']}/certificate.pdf", headers=other),
            client.get(f"/api/v1/permits/{world.ids['number']}/qr", headers=other),
        ]
        for attempt in attempts:
            response = await attempt
            assert response.status_code == 404, response.text
        listed = (await client.get("/api/v1/applications", headers=other)).json()
        assert listed["items"] == []
        mine = await client.get(f"/api/v1/applications/{app_id}", headers=world.h("business_owner"))
        assert mine.json()["status"] == "revision_requested"
        assert mine.json()["documents"] == []


# --------------------------------------------------------------------------------------------------
# Sabilulungan
# --------------------------------------------------------------------------------------------------

SABI_ROLES = (
    "applicant",
    "clerk",
    "coordinator",
    "opd_evaluator",
    "tapd",
    "head",
    "finance",
    "auditor",
    "admin",
)
SABI = (ANONYMOUS, OTHER, *SABI_ROLES)  # the owner is "applicant"
SABI_OFFICERS = ("clerk", "coordinator", "tapd", "head", "finance", "auditor", "admin")
YEAR = SABILULUNGAN_YEAR


async def sabilulungan_world(make_app: Any) -> World:
    app = await make_app("sabilulungan")
    world = World(app, client_for(app), SABI)
    for role in SABI_ROLES:
        unit = "DINSOS" if role == "opd_evaluator" else None
        await world.login(role, f"u-{role}", [role], unit=unit)
    await world.login(OTHER, "u-other", ["applicant"])
    client = world.client

    async def ok(url: str, who: str, body: dict[str, Any], status: int = 200) -> dict[str, Any]:
        response = await client.post(url, json=body, headers=world.h(who))
        assert response.status_code == status, response.text
        result: dict[str, Any] = response.json()
        return result

    for kind in ("hibah", "bansos"):
        body = {"fiscal_year": YEAR, "kind": kind, "ceiling_idr": 10_000_000_000}
        await ok("/api/v1/budgets", "tapd", body, 201)

    async def complete(pid: int) -> None:
        # the category's required documents, so that "Berkas lengkap" may be taken
        read = await client.get(f"/api/v1/proposals/{pid}", headers=world.h("applicant"))
        for item in read.json()["missing_documents"]:
            r = await client.post(
                f"/api/v1/proposals/{pid}/documents",
                data={"item": item},
                files={"file": (f"{item}.pdf", PDF, "application/pdf")},
                headers=world.h("applicant"),
            )
            assert r.status_code == 201, r.text

    async def submit() -> dict[str, Any]:
        created = await ok("/api/v1/proposals", "applicant", bansos_proposal(), 201)
        await complete(created["id"])
        return created

    proposal = await submit()
    upload = await client.post(
        f"/api/v1/proposals/{proposal['id']}/documents",
        data={"item": "ktp_chair"},
        files={"file": ("ktp.pdf", PDF, "application/pdf")},
        headers=world.h("applicant"),
    )
    assert upload.status_code == 201, upload.text
    hibah = await ok("/api/v1/proposals", "applicant", sabilulungan_hibah(), 201)
    act = f"/api/v1/proposals/{hibah['id']}/transitions"
    await complete(hibah["id"])
    await ok(act, "clerk", {"action": "verify_completeness"})
    await ok(act, "coordinator", {"action": "assign_opd", "opd_code": "DINSOS"})
    checklist = dict.fromkeys(EVALUATION_CHECKLIST, True)
    recommend = {"action": "recommend", "amount_idr": 30_000_000, "checklist": checklist}
    await ok(act, "opd_evaluator", recommend)
    await ok(act, "tapd", {"action": "consider", "amount_idr": 30_000_000})
    decree = f"400/KEP.5/{YEAR}"
    await ok(act, "head", {"action": "approve", "decree_number": decree})
    await ok(act, "head", {"action": "sign_agreement", "agreement_number": f"NPHD/5/{YEAR}"})
    async with app.state.db.sessionmaker() as session:
        nphd = await session.scalar(
            select(IssuedDocument.number).where(IssuedDocument.proposal_id == hibah["id"])
        )
    assert nphd is not None
    world.ids.update(
        proposal=proposal["id"],
        tracking=proposal["tracking_code"],
        document=upload.json()["id"],
        hibah=hibah["id"],
        nphd=nphd,
        decree=decree,
    )
    world.fresh["proposal"] = submit
    await seal_once(app)
    return world


def sabilulungan_rows() -> list[Row]:
    p = SABI
    officers = dict.fromkeys(SABI_OFFICERS, 200)
    seen = {"applicant": 200, **officers}  # the owner and the officers; others 404

    async def register(world: World, who: str) -> Request:
        body = {"username": unique("pemohon"), "password": "sandi-rahasia-1", "full_name": "Ani"}
        return {"url": "/api/v1/auth/register", "json": body}

    async def new_budget(world: World, who: str) -> Request:
        year = YEAR + next(_counter)
        return {
            "url": "/api/v1/budgets",
            "json": {"fiscal_year": year, "kind": "hibah", "ceiling_idr": 1_000_000},
        }

    async def fresh_transition(world: World, who: str) -> Request:
        created = await world.fresh["proposal"]()
        return {
            "url": f"/api/v1/proposals/{created['id']}/transitions",
            "json": {"action": "verify_completeness"},
        }

    upload = static(
        "/api/v1/proposals/{proposal}/documents",
        data={"item": "rab"},
        files={"file": ("rab.pdf", PDF, "application/pdf")},
    )
    return [
        Row("GET", "/health", public(p), static("/health")),
        Row("GET", "/ready", public(p), static("/ready")),
        Row("GET", "/metrics", public(p), static("/metrics")),
        Row(
            "POST",
            "/api/v1/auth/token",
            public(p),
            static(
                "/api/v1/auth/token", data={"username": "u-auditor", "password": "password-123"}
            ),
        ),
        Row(
            "GET", "/api/v1/auth/me", expect(p, public(p), anonymous=401), static("/api/v1/auth/me")
        ),
        Row(
            "GET",
            "/api/v1/public/audit/checkpoint",
            public(p),
            static("/api/v1/public/audit/checkpoint"),
        ),
        Row(
            "GET",
            "/api/v1/public/audit/checkpoints",
            public(p),
            static("/api/v1/public/audit/checkpoints"),
        ),
        Row(
            "GET",
            "/api/v1/public/audit/consistency",
            public(p),
            static("/api/v1/public/audit/consistency?first=0&second=0"),
        ),
        Row(
            "GET",
            "/api/v1/audit/events",
            expect(p, {"auditor": 200, "admin": 200}),
            static("/api/v1/audit/events"),
        ),
        Row(
            "GET",
            "/api/v1/audit/events/{event_id}/inclusion",
            expect(p, {"auditor": 422, "admin": 422}),  # no such sealed event: refused after auth
            static("/api/v1/audit/events/999999/inclusion"),
        ),
        Row("POST", "/api/v1/auth/register", public(p, 201), register),
        Row("POST", "/api/v1/budgets", expect(p, {"tapd": 201, "admin": 201}), new_budget),
        Row(
            "PUT",
            "/api/v1/budgets/{fiscal_year}/{kind}",
            expect(p, {"tapd": 200, "admin": 200}),
            static(f"/api/v1/budgets/{YEAR}/bansos", json={"ceiling_idr": 20_000_000_000}),
        ),
        Row(
            "POST",
            "/api/v1/proposals",
            expect(p, {"applicant": 201, OTHER: 201}),
            static("/api/v1/proposals", json=bansos_proposal()),
        ),
        Row(
            "GET",
            "/api/v1/proposals",
            expect(p, public(p), anonymous=401),
            static("/api/v1/proposals"),
        ),
        Row(
            "GET",
            "/api/v1/proposals/{proposal_id}",
            expect(p, seen, default=404),
            static("/api/v1/proposals/{proposal}"),
        ),
        Row(
            "GET",
            "/api/v1/proposals/{proposal_id}/personal-data",
            expect(p, {"clerk": 200, "finance": 200, "auditor": 200}, opd_evaluator=404),
            static("/api/v1/proposals/{proposal}/personal-data"),
        ),
        Row(
            "POST",
            "/api/v1/proposals/{proposal_id}/transitions",
            expect(p, {"clerk": 200}, other=404, opd_evaluator=404),
            fresh_transition,
        ),
        Row(
            "GET",
            "/api/v1/proposals/{proposal_id}/flags",
            expect(p, officers, opd_evaluator=404),
            static("/api/v1/proposals/{proposal}/flags"),
        ),
        Row(
            "POST",
            "/api/v1/proposals/{proposal_id}/documents",
            expect(p, {"applicant": 201, "clerk": 201, "admin": 201}, other=404, opd_evaluator=404),
            upload,
        ),
        Row(
            "GET",
            "/api/v1/proposals/{proposal_id}/documents",
            expect(p, seen, default=404),
            static("/api/v1/proposals/{proposal}/documents"),
        ),
        Row(
            "GET",
            "/api/v1/proposals/{proposal_id}/documents/{document_id}",
            expect(p, seen, default=404),
            static("/api/v1/proposals/{proposal}/documents/{document}"),
        ),
        Row(
            "GET",
            "/api/v1/proposals/{proposal_id}/nphd.pdf",
            expect(p, seen, default=404),
            static("/api/v1/proposals/{hibah}/nphd.pdf"),
        ),
        Row(
            "GET",
            "/api/v1/proposals/{proposal_id}/receipt",
            expect(p, seen, default=404),
            static("/api/v1/proposals/{proposal}/receipt"),
        ),
        Row(
            "GET",
            "/api/v1/proposals/{proposal_id}/receipt.pdf",
            expect(p, seen, default=404),
            static("/api/v1/proposals/{proposal}/receipt.pdf"),
        ),
        # The proposal was not refused: 404 (not-refused) after the access check, 401 without it.
        Row(
            "GET",
            "/api/v1/proposals/{proposal_id}/refusal",
            expect(p, {}, default=404),
            static("/api/v1/proposals/{proposal}/refusal"),
        ),
        Row(
            "GET",
            "/api/v1/proposals/{proposal_id}/refusal.pdf",
            expect(p, {}, default=404),
            static("/api/v1/proposals/{proposal}/refusal.pdf"),
        ),
        Row(
            "POST",
            "/api/v1/decrees/annex",
            expect(p, {"head": 201, "tapd": 201, "admin": 201}),
            static(
                "/api/v1/decrees/annex",
                json={"decree_number": f"400/KEP.5/{YEAR}", "fiscal_year": YEAR},
            ),
        ),
        Row(
            "GET",
            "/api/v1/documents/{document_number}.pdf",
            expect(p, seen, default=404),
            static("/api/v1/documents/{nphd}.pdf"),
        ),
        Row(
            "GET",
            "/api/v1/public/budgets/{fiscal_year}",
            public(p),
            static(f"/api/v1/public/budgets/{YEAR}"),
        ),
        Row(
            "GET",
            "/api/v1/public/track/{tracking_code}",
            public(p),
            static("/api/v1/public/track/{tracking}"),
        ),
        Row(
            "GET",
            "/api/v1/public/proposals",
            public(p),
            static("/api/v1/public/proposals", params={"fiscal_year": YEAR}),
        ),
        Row(
            "GET",
            "/api/v1/public/proposals.csv",
            public(p),
            static("/api/v1/public/proposals.csv", params={"fiscal_year": YEAR}),
        ),
        Row(
            "GET",
            "/api/v1/public/data-dictionary",
            public(p),
            static("/api/v1/public/data-dictionary"),
        ),
        Row(
            "GET",
            "/api/v1/public/verify/{document_number}",
            public(p),
            static("/api/v1/public/verify/{nphd}"),
        ),
    ]


async def test_sabilulungan_authorization_matrix(make_app: Any) -> None:
    world = await sabilulungan_world(make_app)
    async with contextlib.aclosing(world.client):
        await check_matrix(world, [*sabilulungan_rows(), *account_rows(world.principals)])


async def test_sabilulungan_another_applicants_proposal_can_be_neither_read_nor_changed(
    make_app: Any,
) -> None:
    world = await sabilulungan_world(make_app)
    async with contextlib.aclosing(world.client):
        client, other = world.client, world.h(OTHER)
        pid, hibah = world.ids["proposal"], world.ids["hibah"]
        attempts = [
            client.get(f"/api/v1/proposals/{pid}", headers=other),
            client.get(f"/api/v1/proposals/{pid}/documents", headers=other),
            client.get(f"/api/v1/proposals/{pid}/documents/{world.ids['document']}", headers=other),
            client.post(
                f"/api/v1/proposals/{pid}/transitions", json={"action": "withdraw"}, headers=other
            ),
            client.post(
                f"/api/v1/proposals/{pid}/documents",
                data={"item": "rab"},
                files={"file": ("rab.pdf", PDF, "application/pdf")},
                headers=other,
            ),
            client.get(f"/api/v1/proposals/{hibah}/nphd.pdf", headers=other),
            client.post(
                f"/api/v1/proposals/{hibah}/transitions",
                json={"action": "submit_report"},
                headers=other,
            ),
        ]
        for attempt in attempts:
            response = await attempt
            assert response.status_code in (403, 404), response.text
            assert response.headers["content-type"].startswith("application/problem+json")
        listed = (await client.get("/api/v1/proposals", headers=other)).json()
        assert listed["items"] == []
        mine = await client.get(f"/api/v1/proposals/{pid}", headers=world.h("applicant"))
        assert mine.json()["status"] == "submitted"


# --------------------------------------------------------------------------------------------------
# e-RK
# --------------------------------------------------------------------------------------------------

ERK_ADMINS = ("unit_admin", "hr_admin", "auditor", "admin")
SUPERVISOR = "supervisor"  # an employee who supervises the owner: not a role, a relation
ERK = (ANONYMOUS, OTHER, "employee", SUPERVISOR, *ERK_ADMINS)  # the owner is "employee"
CHIEF = "197901202005012002"  # supervises OWNER and PEER, in unit BIDANG under DINAS
OWNER = "198503152010011001"
PEER = "199001012015031004"  # same supervisor, same unit, same role: not the owner
SPARE = "198807072015032005"  # an employee nobody in the matrix logs in as
ERK_PASSWORD = "sandi-awal-123"


_nips = itertools.count(1)
_periods = itertools.count(0)


def fresh_nip() -> str:
    n = next(_nips)
    assert n < 1000, "the NIP's sequence has three digits"
    return f"199505052020012{n:03d}"


async def erk_world(make_app: Any) -> World:
    app = await make_app("erk")
    world = World(app, client_for(app), ERK)
    client = world.client
    await world.login("hr_admin", "u-hr", ["hr_admin"])
    hr = world.h("hr_admin")

    async def ok(url: str, body: dict[str, Any], status: int = 201) -> dict[str, Any]:
        response = await client.post(url, json=body, headers=hr)
        assert response.status_code == status, response.text
        return dict(response.json()) if response.content else {}

    for code, parent in (("DINAS", None), ("BIDANG", "DINAS"), ("LAIN", None)):
        await ok("/api/v1/units", {"code": code, "name": f"Unit {code}", "parent_code": parent})
    for nip, supervisor in ((CHIEF, None), (OWNER, CHIEF), (PEER, CHIEF), (SPARE, CHIEF)):
        employee = {
            "nip": nip,
            "name": f"Pegawai {nip[-3:]}",
            "unit_code": "BIDANG",
            "job_class": 7,
            "supervisor_nip": supervisor,
            "tpp_base_idr": 5_000_000,
        }
        await ok("/api/v1/employees", employee)
    for who, nip in (("employee", OWNER), (OTHER, PEER), (SUPERVISOR, CHIEF)):
        await ok(f"/api/v1/employees/{nip}/password", {"password": ERK_PASSWORD}, 204)
        # The temporary password's token is good only for replacing it.
        temporary = await bearer(client, nip, ERK_PASSWORD)
        changed = await client.post(
            "/api/v1/auth/password",
            json={"current_password": ERK_PASSWORD, "new_password": ERK_PASSWORD + "-baru"},
            headers=temporary,
        )
        assert changed.status_code == 200, changed.text
        world.headers[who] = {"Authorization": f"Bearer {changed.json()['access_token']}"}
    await world.login("unit_admin", "u-unit", ["unit_admin"], unit="DINAS")
    for role in ("auditor", "admin"):
        await world.login(role, f"u-{role}", [role])

    today = app.state.calendar.local_date(utcnow())
    while not app.state.calendar.is_working_day(today):  # activities are logged on working days
        today -= dt.timedelta(days=1)

    async def log() -> dict[str, Any]:
        body = {"date": today.isoformat(), "description": "Menyusun laporan", "minutes": 1}
        response = await client.post("/api/v1/activities", json=body, headers=world.h("employee"))
        assert response.status_code == 201, response.text
        return dict(response.json())

    async def target() -> dict[str, Any]:
        body = {"nip": OWNER, "year": today.year, "title": "Laporan bulanan", "quantity": 12}
        return await ok("/api/v1/targets", body)

    activity = await log()
    evidence = await client.put(
        f"/api/v1/activities/{activity['id']}/evidence",
        files={"file": ("bukti.pdf", PDF, "application/pdf")},
        headers=world.h("employee"),
    )
    assert evidence.status_code == 200, evidence.text
    world.ids.update(
        activity=activity["id"],
        target=(await target())["id"],
        today=today.isoformat(),
        period=today.strftime("%Y-%m"),
    )
    world.fresh.update(activity=log, target=target)
    await seal_once(app)
    return world


def erk_rows() -> list[Row]:
    p = ERK
    everyone = expect(p, public(p), anonymous=401)
    readers = {"employee": 200, SUPERVISOR: 200, **dict.fromkeys(ERK_ADMINS, 200)}
    employees = {"employee": 201, OTHER: 201, SUPERVISOR: 201}

    def fresh(kind: str, url: str, **kwargs: Any) -> Builder:
        async def build(world: World, who: str) -> Request:
            created = await world.fresh[kind]()
            return {"url": url.format(id=created["id"]), **kwargs}

        return build

    async def new_unit(world: World, who: str) -> Request:
        code = unique("UNIT")
        return {"url": "/api/v1/units", "json": {"code": code, "name": f"Unit {code}"}}

    def pay(who: str) -> tuple[int | None, int | None]:
        # A unit admin registers people but never sets their pay inputs (HR's): no job class, no
        # TPP base; the employee awaits HR.
        return (None, None) if who == "unit_admin" else (7, 5_000_000)

    async def new_employee(world: World, who: str) -> Request:
        job_class, base = pay(who)
        body = {
            "nip": fresh_nip(),
            "name": "Pegawai Baru",
            "unit_code": "BIDANG",
            "job_class": job_class,
            "tpp_base_idr": base,
        }
        return {"url": "/api/v1/employees", "json": body}

    async def import_employees(world: World, who: str) -> Request:
        job_class, base = pay(who)
        row = f"{fresh_nip()},Pegawai Baru,BIDANG,{job_class or ''},{base or ''}"
        csv = f"nip,name,unit_code,job_class,tpp_base_idr\n{row}\n"
        return {
            "url": "/api/v1/employees/import",
            "files": {"file": ("pegawai.csv", csv.encode(), "text/csv")},
        }

    async def attendance(world: World, who: str) -> Request:
        body = {"nip": SPARE, "date": world.ids["today"], "status": "present"}
        return {"url": "/api/v1/attendance", "json": body}

    async def import_attendance(world: World, who: str) -> Request:
        csv = f"nip,date,status\n{SPARE},{world.ids['today']},present\n"
        return {
            "url": "/api/v1/attendance/import",
            "files": {"file": ("hadir.csv", csv.encode(), "text/csv")},
        }

    async def delegation(world: World, who: str) -> Request:
        start = dt.date.fromisoformat(world.ids["today"]) + dt.timedelta(days=400)
        body = {
            "supervisor_nip": CHIEF,
            "delegate_nip": SPARE,
            "start_date": start.isoformat(),
            "end_date": (start + dt.timedelta(days=5)).isoformat(),
        }
        return {"url": "/api/v1/delegations", "json": body}

    async def close(world: World, who: str) -> Request:
        n = next(_periods)  # months from 2000-01: long over, never closed before
        # Nobody has attendance in those months: closing needs the explicit "close anyway".
        return {
            "url": f"/api/v1/periods/{2000 + n // 12}-{n % 12 + 1:02d}/close",
            "params": {"anyway": "true"},
        }

    async def verify_many(world: World, who: str) -> Request:
        created = await world.fresh["activity"]()
        body = {"activity_ids": [created["id"]], "decision": "rejected", "note": "Kurang jelas"}
        return {"url": "/api/v1/verifications", "json": body}

    async def log(world: World, who: str) -> Request:
        body = {"date": world.ids["today"], "description": "Rapat koordinasi", "minutes": 1}
        return {"url": "/api/v1/activities", "json": body}

    async def log_many(world: World, who: str) -> Request:
        row = {"date": world.ids["today"], "description": "Rapat koordinasi", "minutes": 1}
        return {"url": "/api/v1/activities/batch", "json": {"items": [row, row]}}

    async def grade(world: World, who: str) -> Request:
        since = dt.date.fromisoformat(world.ids["today"]) + dt.timedelta(days=400)
        body = {
            "effective_from": since.replace(day=1).isoformat(),
            "job_class": 8,
            "employment_status": "pns",
            "legal_basis": "SK Bupati 800/1/BKPSDM/2026",
        }
        return {"url": f"/api/v1/employees/{SPARE}/grades", "json": body}

    async def import_plans(world: World, who: str) -> Request:
        # The owner's plans: their own file for the owner, another's for everyone else.
        csv = f"nip,periode,rencana_aksi\n{OWNER},2026-Q1,{unique('Rencana aksi ')}\n"
        return {
            "url": "/api/v1/rencana-aksi/import",
            "files": {"file": ("rencana.csv", csv.encode(), "text/csv")},
        }

    async def pay_adjustment(world: World, who: str) -> Request:
        body = {
            "nip": SPARE,
            "kind": "sanction",
            "start_date": world.ids["today"],
            "end_date": world.ids["today"],
            "percent": "10",
            "legal_basis": "SK Bupati 1/2026, Perkada Pasal 10",
        }
        return {"url": "/api/v1/pay-adjustments", "json": body}

    rejected = {"decision": "rejected", "note": "Kurang jelas"}
    return [
        Row("GET", "/health", public(p), static("/health")),
        Row("GET", "/ready", public(p), static("/ready")),
        Row("GET", "/metrics", public(p), static("/metrics")),
        Row(
            "POST",
            "/api/v1/auth/token",
            public(p),
            static(
                "/api/v1/auth/token", data={"username": "u-auditor", "password": "password-123"}
            ),
        ),
        Row("GET", "/api/v1/auth/me", everyone, static("/api/v1/auth/me")),
        Row(
            "GET",
            "/api/v1/public/audit/checkpoint",
            public(p),
            static("/api/v1/public/audit/checkpoint"),
        ),
        Row(
            "GET",
            "/api/v1/public/audit/checkpoints",
            public(p),
            static("/api/v1/public/audit/checkpoints"),
        ),
        Row(
            "GET",
            "/api/v1/public/audit/consistency",
            public(p),
            static("/api/v1/public/audit/consistency?first=0&second=0"),
        ),
        Row(
            "GET",
            "/api/v1/audit/events",
            expect(p, {"auditor": 200, "admin": 200}),
            static("/api/v1/audit/events"),
        ),
        Row(
            "GET",
            "/api/v1/audit/events/{event_id}/inclusion",
            expect(p, {"auditor": 422, "admin": 422}),  # no such sealed event: refused after auth
            static("/api/v1/audit/events/999999/inclusion"),
        ),
        Row("POST", "/api/v1/units", expect(p, {"hr_admin": 201, "admin": 201}), new_unit),
        Row("GET", "/api/v1/units", everyone, static("/api/v1/units")),
        Row(
            "POST",
            "/api/v1/employees",
            expect(p, {"unit_admin": 201, "hr_admin": 201, "admin": 201}),
            new_employee,
        ),
        Row(
            "POST",
            "/api/v1/employees/import",
            expect(p, {"unit_admin": 201, "hr_admin": 201, "admin": 201}),
            import_employees,
        ),
        Row(
            "GET",
            "/api/v1/employees/{nip}",
            expect(p, readers),
            static(f"/api/v1/employees/{OWNER}"),
        ),
        Row(
            "POST",
            "/api/v1/employees/{nip}/password",
            expect(p, {"hr_admin": 204, "admin": 204}),
            static(f"/api/v1/employees/{SPARE}/password", json={"password": "sandi-baru-123"}),
        ),
        Row(
            "POST",
            "/api/v1/targets",
            expect(p, {"employee": 201, "unit_admin": 201, "hr_admin": 201, "admin": 201}),
            static("/api/v1/targets", json={"nip": OWNER, "year": 2026, "title": "Laporan"}),
        ),
        Row(
            "GET",
            "/api/v1/targets",
            expect(p, readers),
            static("/api/v1/targets", params={"nip": OWNER}),
        ),
        Row(
            "POST",
            "/api/v1/targets/{target_id}/approve",
            expect(p, {SUPERVISOR: 200}),
            fresh("target", "/api/v1/targets/{id}/approve"),
        ),
        Row("POST", "/api/v1/activities", expect(p, employees), log),
        Row("POST", "/api/v1/activities/batch", expect(p, employees), log_many),
        Row(
            "POST",
            "/api/v1/employees/{nip}/grades",
            expect(p, {"hr_admin": 201, "admin": 201}),
            grade,
        ),
        Row(
            "GET",
            "/api/v1/employees/{nip}/grades",
            expect(p, {"hr_admin": 200, "admin": 200}),
            static(f"/api/v1/employees/{SPARE}/grades"),
        ),
        Row(
            "GET",
            "/api/v1/activities",
            expect(p, readers),
            static("/api/v1/activities", params={"nip": OWNER}),
        ),
        Row(
            "PATCH",
            "/api/v1/activities/{activity_id}",
            expect(p, {"employee": 200}),
            fresh("activity", "/api/v1/activities/{id}", json={"minutes": 2}),
        ),
        Row(
            "DELETE",
            "/api/v1/activities/{activity_id}",
            expect(p, {"employee": 204}),
            fresh("activity", "/api/v1/activities/{id}"),
        ),
        Row(
            "PUT",
            "/api/v1/activities/{activity_id}/rencana-aksi",
            expect(p, {"employee": 204}),
            fresh(
                "activity", "/api/v1/activities/{id}/rencana-aksi", json={"action_plan_id": None}
            ),
        ),
        Row(
            "POST",
            "/api/v1/rencana-aksi/import",
            # The owner imports their own; the unit admin of the owner's current unit, HR and
            # admin theirs too; a peer or the supervisor may not (out of scope).
            expect(p, {"employee": 201, "unit_admin": 201, "hr_admin": 201, "admin": 201}),
            import_plans,
        ),
        Row(
            "GET",
            "/api/v1/employees/{nip}/rencana-aksi",
            expect(p, readers),
            static(f"/api/v1/employees/{OWNER}/rencana-aksi"),
        ),
        Row(
            "GET",
            "/api/v1/ekinerja/{nip}/{period}.{extension}",
            expect(p, readers),
            static(f"/api/v1/ekinerja/{OWNER}/{{period}}.csv"),
        ),
        Row(
            "PUT",
            "/api/v1/activities/{activity_id}/evidence",
            expect(p, {"employee": 200}),
            fresh(
                "activity",
                "/api/v1/activities/{id}/evidence",
                files={"file": ("bukti.pdf", PDF, "application/pdf")},
            ),
        ),
        Row(
            "GET",
            "/api/v1/activities/{activity_id}/evidence",
            expect(p, readers),
            static("/api/v1/activities/{activity}/evidence"),
        ),
        Row(
            "POST",
            "/api/v1/activities/{activity_id}/verify",
            expect(p, {SUPERVISOR: 200}),
            fresh("activity", "/api/v1/activities/{id}/verify", json=rejected),
        ),
        Row("POST", "/api/v1/verifications", expect(p, {SUPERVISOR: 200}), verify_many),
        Row(
            "GET",
            "/api/v1/verifications/pending",
            everyone,
            static("/api/v1/verifications/pending"),
        ),
        Row(
            "POST",
            "/api/v1/attendance",
            expect(p, {"unit_admin": 201, "hr_admin": 201, "admin": 201}),
            attendance,
        ),
        Row(
            "POST",
            "/api/v1/attendance/import",
            expect(p, {"unit_admin": 201, "hr_admin": 201, "admin": 201}),
            import_attendance,
        ),
        Row(
            "POST",
            "/api/v1/delegations",
            # HR or the supervisor's own superiors appoint a Plt/Plh; not a unit admin (role).
            expect(p, {"hr_admin": 201, "admin": 201}),
            delegation,
        ),
        Row(
            "POST",
            "/api/v1/periods/{period}/close",
            expect(p, {"hr_admin": 200, "admin": 200}),
            close,
        ),
        Row(
            "GET",
            "/api/v1/periods/{period}/readiness",
            expect(p, {"hr_admin": 200, "admin": 200}),
            static("/api/v1/periods/{period}/readiness"),
        ),
        Row(
            "POST",
            "/api/v1/pay-adjustments",
            expect(p, {"hr_admin": 201, "admin": 201}),
            pay_adjustment,
        ),
        Row(
            "GET",
            "/api/v1/recaps/{period}.xlsx",
            expect(p, dict.fromkeys(ERK_ADMINS, 200)),
            static("/api/v1/recaps/{period}.xlsx"),
        ),
        Row(
            "GET",
            "/api/v1/recaps/{period}.csv",
            expect(p, dict.fromkeys(ERK_ADMINS, 200)),
            static("/api/v1/recaps/{period}.csv"),
        ),
        Row(
            "GET",
            "/api/v1/recaps/{period}",
            expect(p, dict.fromkeys(ERK_ADMINS, 200)),
            static("/api/v1/recaps/{period}"),
        ),
        Row(
            "GET",
            "/api/v1/me/recap/{period}",
            expect(p, {"employee": 200, OTHER: 200, SUPERVISOR: 200}),
            static("/api/v1/me/recap/{period}"),
        ),
    ]


async def test_erk_authorization_matrix(make_app: Any) -> None:
    world = await erk_world(make_app)
    async with contextlib.aclosing(world.client):
        await check_matrix(world, [*erk_rows(), *account_rows(world.principals)])


async def test_erk_another_employees_activities_can_be_neither_read_nor_changed(
    make_app: Any,
) -> None:
    world = await erk_world(make_app)
    async with contextlib.aclosing(world.client):
        client, peer = world.client, world.h(OTHER)
        activity_id = world.ids["activity"]
        before = await client.get(
            "/api/v1/activities", params={"nip": OWNER}, headers=world.h("employee")
        )
        assert before.status_code == 200, before.text
        attempts = [
            client.get("/api/v1/activities", params={"nip": OWNER}, headers=peer),
            client.get(f"/api/v1/activities/{activity_id}/evidence", headers=peer),
            client.get(f"/api/v1/employees/{OWNER}", headers=peer),
            client.get("/api/v1/targets", params={"nip": OWNER}, headers=peer),
            client.patch(
                f"/api/v1/activities/{activity_id}",
                json={"minutes": 400, "description": "diubah orang lain"},
                headers=peer,
            ),
            client.put(
                f"/api/v1/activities/{activity_id}/evidence",
                files={"file": ("palsu.pdf", PDF, "application/pdf")},
                headers=peer,
            ),
            client.post(
                f"/api/v1/activities/{activity_id}/verify",
                json={"decision": "approved"},
                headers=peer,
            ),
            client.post(
                "/api/v1/verifications",
                json={"activity_ids": [activity_id], "decision": "rejected", "note": "x"},
                headers=peer,
            ),
        ]
        for attempt in attempts:
            response = await attempt
            assert response.status_code in (403, 404), response.text
            assert response.headers["content-type"].startswith("application/problem+json")
        own = (await client.get("/api/v1/activities", headers=peer)).json()
        assert all(item["nip"] == PEER for item in own["items"])
        pending = (await client.get("/api/v1/verifications/pending", headers=peer)).json()
        assert pending == []
        after = await client.get(
            "/api/v1/activities", params={"nip": OWNER}, headers=world.h("employee")
        )
        assert after.json() == before.json()
