"""Races: the same Idempotency-Key sent twice at once writes once; two officers acting on the same
file at once move it once (one 2xx, the other 409) and leave one history entry."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from reliability_helpers import PDF, bansos_proposal, hayu_filing
from sqlalchemy import func, select

from hayu.models import ApplicationEvent
from sabilulungan.models import StageEntry
from shared.testing import BACKEND, add_account, bearer, client_for, probe_router

ROUNDS = 5  # independent files raced per test: one race can be won by luck of scheduling


@pytest.mark.parametrize("copies", [2, 8])
async def test_same_idempotency_key_at_once_writes_once(make_app: Any, copies: int) -> None:
    app = await make_app("hayu", extra_routers=[probe_router()])
    body = {"name": "serentak", "amount_idr": 10}
    async with client_for(app) as client:
        responses = await asyncio.gather(
            *(
                client.post("/api/v1/probe/things", json=body, headers={"Idempotency-Key": "dup"})
                for _ in range(copies)
            )
        )
    statuses = sorted(r.status_code for r in responses)
    # Exactly one request wrote; the others either replayed its answer or lost the race (409).
    assert statuses.count(201) >= 1
    assert set(statuses) <= {201, 409}
    for response in responses:
        if response.status_code == 201:
            assert response.json() == body
        else:
            assert response.headers["content-type"].startswith("application/problem+json")
    model = app.state.models.audit_event
    async with app.state.db.sessionmaker() as session:
        written = await session.scalar(
            select(func.count()).select_from(model).where(model.entity_type == "thing")
        )
        kept = await session.scalar(select(func.count()).select_from(app.state.models.idempotency))
    assert written == 1
    assert kept == 1
    if BACKEND == "sqlite":
        assert statuses == [201] * copies  # writers are serialised: the later ones replay


def _assert_one_winner(statuses: list[int]) -> None:
    assert sorted(statuses) == [200, 409], statuses


async def _count(app: Any, model: Any, **where: Any) -> int:
    async with app.state.db.sessionmaker() as session:
        stmt = select(func.count()).select_from(model).filter_by(**where)
        return int(await session.scalar(stmt) or 0)


async def test_two_officers_accept_the_same_hayu_application_at_once(make_app: Any) -> None:
    app = await make_app("hayu")
    async with client_for(app) as client:
        await add_account(app, "pemilik", ["business_owner"])
        await add_account(app, "petugas-a", ["officer"])
        await add_account(app, "petugas-b", ["officer"])
        owner = await bearer(client, "pemilik")
        officers = [await bearer(client, "petugas-a"), await bearer(client, "petugas-b")]
        ids = []
        for _ in range(ROUNDS):
            created = await client.post(
                "/api/v1/applications",
                json=hayu_filing("REKLAME", capital_idr=750_000_000),
                headers=owner,
            )
            assert created.status_code == 201, created.text
            ids.append(created.json()["id"])
        for app_id in ids:
            responses = await asyncio.gather(
                *(
                    client.post(
                        f"/api/v1/applications/{app_id}/transitions",
                        json={"action": "accept"},
                        headers=headers,
                    )
                    for headers in officers
                )
            )
            _assert_one_winner([r.status_code for r in responses])
            loser = next(r for r in responses if r.status_code == 409)
            assert loser.headers["content-type"].startswith("application/problem+json")
            assert await _count(app, ApplicationEvent, application_id=app_id, action="accept") == 1
            read = await client.get(f"/api/v1/applications/{app_id}", headers=officers[0])
            assert read.json()["status"] == "document_verification"


async def test_two_clerks_verify_the_same_proposal_at_once(make_app: Any) -> None:
    app = await make_app("sabilulungan")
    async with client_for(app) as client:
        await add_account(app, "pemohon", ["applicant"])
        await add_account(app, "tu-a", ["clerk"])
        await add_account(app, "tu-b", ["clerk"])
        applicant = await bearer(client, "pemohon")
        clerks = [await bearer(client, "tu-a"), await bearer(client, "tu-b")]
        ids = []
        for _ in range(ROUNDS):
            created = await client.post(
                "/api/v1/proposals", json=bansos_proposal(), headers=applicant
            )
            assert created.status_code == 201, created.text
            ids.append(created.json()["id"])
            # the category's required documents, so that "Berkas lengkap" may be taken
            for item in created.json()["missing_documents"]:
                uploaded = await client.post(
                    f"/api/v1/proposals/{ids[-1]}/documents",
                    data={"item": item},
                    files={"file": (f"{item}.pdf", PDF, "application/pdf")},
                    headers=applicant,
                )
                assert uploaded.status_code == 201, uploaded.text
        for proposal_id in ids:
            responses = await asyncio.gather(
                *(
                    client.post(
                        f"/api/v1/proposals/{proposal_id}/transitions",
                        json={"action": "verify_completeness"},
                        headers=headers,
                    )
                    for headers in clerks
                )
            )
            _assert_one_winner([r.status_code for r in responses])
            entries = await _count(
                app, StageEntry, proposal_id=proposal_id, action="verify_completeness"
            )
            assert entries == 1
