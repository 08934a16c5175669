"""The hot paths keep their round trips: a proposal submission and a public tracking lookup.

Each test counts the SQL statements the app's engine executes (transaction control aside) and
asserts the count reached, so a change that adds a round trip fails here. On PostgreSQL a
submission is ONE statement (data-modifying CTEs); on SQLite it takes the portable path, one
statement per table. Both paths must write the same rows, checked below.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import pytest
from sqlalchemy import func, select, text

from sabilulungan.models import (
    AuditCheckpoint,
    AuditEvent,
    BoardMember,
    BudgetLine,
    IdempotencyRecord,
    Proposal,
    StageEntry,
)
from shared.audit_integrity import verify_chain
from shared.audit_seal import seal_pending
from shared.testing import (
    assert_problem,
    statements_built_per_request,
    statements_sent,
    transactions_begun,
)

# statements per request; transaction control (BEGIN, COMMIT) is not counted
SUBMIT = {"postgresql": 1, "sqlite": 5}  # proposal, budget lines, board, stage entry, audit event
SUBMIT_KEYED = {"postgresql": 1, "sqlite": 6}  # + the idempotency record (in the CTE on PostgreSQL)
# a retry: on PostgreSQL the write, failed by the taken key, then the lookup of the stored answer;
# on SQLite the writes, the record found taken, the lookup; then rolled back
SUBMIT_REPLAY = {"postgresql": 2, "sqlite": 7}
TRACK = 1  # the proposal's public columns joined to its stage entries


def _not_transaction_control(statement: str, context: Any) -> bool:
    return statement.lstrip().split(None, 1)[0].upper() not in ("BEGIN", "COMMIT", "ROLLBACK")


def counting(world: Any) -> contextlib.AbstractContextManager[list[str]]:
    return statements_sent(world.app, _not_transaction_control)


def dialect(world: Any) -> str:
    name: str = world.app.state.db.dialect
    return name


async def test_submission_and_tracking_count_their_statements(world: Any) -> None:
    with counting(world) as statements:
        created = await world.submit(world.hibah())
    assert len(statements) <= SUBMIT[dialect(world)], statements
    with counting(world) as statements:
        r = await world.client.get(f"/api/v1/public/track/{created['tracking_code']}")
    assert r.status_code == 200
    assert len(statements) <= TRACK, statements
    assert [s["stage"] for s in r.json()["timeline"]] == ["submitted"]
    with counting(world) as statements:
        await world.client.get("/api/v1/public/track/SB-0000-0000-000")
    assert len(statements) <= TRACK


async def test_warm_submission_and_tracking_send_prebuilt_statements_only(world: Any) -> None:
    """Once warm, each statement comes from the compiled cache as the same text (no `IN` list
    rendered into it per execution)."""
    for key in ("warm-1", "warm-2"):
        headers = {**world.h("applicant"), "Idempotency-Key": key}
        warm = await world.client.post("/api/v1/proposals", json=world.hibah(), headers=headers)
        assert warm.status_code == 201, warm.text
    created = await world.submit(world.hibah())
    await world.client.get(f"/api/v1/public/track/{created['tracking_code']}")
    with statements_built_per_request(world.app) as built:
        headers = {**world.h("applicant"), "Idempotency-Key": "warm-3"}
        keyed = await world.client.post("/api/v1/proposals", json=world.hibah(), headers=headers)
        found = await world.client.get(f"/api/v1/public/track/{created['tracking_code']}")
    assert (keyed.status_code, found.status_code) == (201, 200), keyed.text
    assert built == []


async def test_a_tracking_lookup_on_postgresql_is_one_round_trip(world: Any) -> None:
    """The lookup's one statement runs without BEGIN and ROLLBACK around it."""
    if dialect(world) != "postgresql":
        pytest.skip("the autocommit read is PostgreSQL's path")
    created = await world.submit(world.hibah())
    url = f"/api/v1/public/track/{created['tracking_code']}"
    await world.client.get(url)  # warm
    with transactions_begun() as begun, counting(world) as statements:
        found = await world.client.get(url)
        missing = await world.client.get("/api/v1/public/track/SB-0000-0000-000")
        page = await world.client.get(f"/lacak/{created['tracking_code']}")
    assert found.status_code == 200, found.text
    assert found.json()["tracking_code"] == created["tracking_code"]
    assert missing.status_code == 404
    assert page.status_code == 200
    assert len(statements) == 3
    assert begun == []


async def test_keyed_submission_stores_its_answer_in_the_same_write(world: Any) -> None:
    body = world.hibah()
    headers = {**world.h("applicant"), "Idempotency-Key": "kunci-1"}
    with counting(world) as statements:
        first = await world.client.post("/api/v1/proposals", json=body, headers=headers)
    assert first.status_code == 201, first.text
    assert len(statements) <= SUBMIT_KEYED[dialect(world)], statements
    with counting(world) as statements:
        again = await world.client.post("/api/v1/proposals", json=body, headers=headers)
    assert again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert len(statements) <= SUBMIT_REPLAY[dialect(world)], statements
    assert await world.count(Proposal) == 1
    other = world.hibah(title="Judul lain")
    assert_problem(
        await world.client.post("/api/v1/proposals", json=other, headers=headers),
        422,
        "idempotency-key-reused",
    )
    assert await world.count(Proposal) == 1  # the other body's write was rolled back
    record = await world.row(IdempotencyRecord, key="kunci-1")
    assert record.status_code == 201
    assert record.response_body == first.json()
    # the same key from another applicant is another scope: a new proposal
    mine = {**world.h("applicant2"), "Idempotency-Key": "kunci-1"}
    r = await world.client.post("/api/v1/proposals", json=body, headers=mine)
    assert r.status_code == 201
    assert r.json()["id"] != first.json()["id"]
    assert await world.count(Proposal) == 2


async def test_submission_writes_every_row_and_a_sealable_audit_event(world: Any) -> None:
    await world.budget("hibah", 10**9)  # an event written by shared.audit.record_event
    hibah = await world.submit(world.hibah())
    bansos = await world.submit(world.bansos())
    assert hibah["id"] != bansos["id"]
    shown = (
        await world.client.get(f"/api/v1/proposals/{hibah['id']}", headers=world.h("applicant"))
    ).json()
    assert shown == hibah
    async with world.app.state.db.sessionmaker() as session:
        lines = (
            await session.execute(
                select(
                    BudgetLine.proposal_id, BudgetLine.position, BudgetLine.description
                ).order_by(BudgetLine.id)
            )
        ).all()
        assert [tuple(x) for x in lines] == [
            (hibah["id"], 0, "Material atap"),
            (hibah["id"], 1, "Upah tukang"),
            (bansos["id"], 0, "Modal barang dagangan"),
        ]
        board = (
            await session.execute(
                select(BoardMember.proposal_id, BoardMember.position, BoardMember.role).order_by(
                    BoardMember.id
                )
            )
        ).all()
        assert [tuple(x) for x in board] == [
            (hibah["id"], 0, "Ketua"),
            (hibah["id"], 1, "Sekretaris"),
        ]
        stages = (await session.execute(select(StageEntry).order_by(StageEntry.id))).scalars().all()
        assert [(s.proposal_id, s.state, s.action, s.actor, s.actor_role) for s in stages] == [
            (hibah["id"], "submitted", "submit", "applicant", "applicant"),
            (bansos["id"], "submitted", "submit", "applicant", "applicant"),
        ]
        ours = AuditEvent.entity_type.in_(("budget", "proposal"))
        stmt = select(AuditEvent).where(ours).order_by(AuditEvent.id)
        events = (await session.execute(stmt)).scalars().all()
        assert [(e.action, e.entity_id, e.actor, e.actor_role) for e in events] == [
            ("budget.created", "1", "tapd", "tapd"),
            ("proposal.submitted", str(hibah["id"]), "applicant", "applicant"),
            ("proposal.submitted", str(bansos["id"]), "applicant", "applicant"),
        ]
        submitted = events[1]
        assert submitted.before is None
        assert submitted.request_id
        assert submitted.after == {
            "tracking_code": hibah["tracking_code"],
            "kind": "hibah",
            "fiscal_year": world.year,
            "requested_amount_idr": 50_000_000,
            "status": "submitted",
            "rule_version": submitted.after["rule_version"],
        }
        assert submitted.occurred_at == stages[0].entered_at
        # `before` is stored exactly as record_event stores it (JSON null, not SQL NULL)
        nulls = (
            await session.execute(
                text("SELECT before IS NULL FROM sabilulungan.audit_events ORDER BY id")
            )
        ).scalars()
        assert len(set(nulls)) == 1
        # personal data is stored only encrypted, with blind indexes
        row = (
            await session.execute(select(Proposal).where(Proposal.id == bansos["id"]))
        ).scalar_one()
        assert world.person_nik not in (row.nik_enc or "")
        assert row.applicant_key == "nik:" + (row.nik_idx or "")
        signer = world.app.state.signer
        sealed = await seal_pending(
            session,
            AuditEvent,
            AuditCheckpoint,
            signer=signer,
            service="sabilulungan",
            schema="sabilulungan",
        )
        await session.commit()
        assert sealed >= 3  # the accounts' events, the budget and both proposals
        result = await verify_chain(
            session,
            AuditEvent,
            AuditCheckpoint,
            public_key=signer.public_key_b64(),
            service="sabilulungan",
        )
        assert result.ok, result
        assert result.checked == sealed


async def test_a_submission_on_postgresql_is_one_round_trip(world: Any) -> None:
    """The one statement commits on its own: no BEGIN before it and no COMMIT after it, so
    PostgreSQL answers the submission in one round trip (it was three)."""
    if dialect(world) != "postgresql":
        pytest.skip("the autocommit write is PostgreSQL's path")
    await world.submit(world.hibah())  # warm: the statement prepared
    headers = {**world.h("applicant"), "Idempotency-Key": "satu-kali"}
    body = world.hibah(title="Satu perjalanan")
    with transactions_begun() as begun, counting(world) as statements:
        created = await world.client.post("/api/v1/proposals", json=body, headers=headers)
    assert created.status_code == 201, created.text
    assert len(statements) == 1, statements
    assert begun == []
    # what it wrote stands on its own, with its children, audit event and stored answer
    assert await world.count(Proposal) == 2
    record = await world.row(IdempotencyRecord, key="satu-kali")
    assert record.response_body == created.json()
    pid = created.json()["id"]
    async with world.app.state.db.sessionmaker() as session:

        async def rows(model: Any, **where: Any) -> int:
            stmt = select(func.count()).select_from(model).filter_by(**where)
            return int(await session.scalar(stmt) or 0)

        assert await rows(BudgetLine, proposal_id=pid) == len(body["budget_lines"])
        assert await rows(BoardMember, proposal_id=pid) == len(
            body["applicant"].get("board_members", [])
        )
        assert await rows(StageEntry, proposal_id=pid) == 1
        assert await rows(AuditEvent, entity_type="proposal", entity_id=str(pid)) == 1


async def test_one_key_sent_twice_at_once_files_one_proposal(world: Any) -> None:
    headers = {**world.h("applicant"), "Idempotency-Key": "kembar"}
    body = world.hibah(title="Dikirim dua kali")
    answers = await asyncio.gather(
        *(world.client.post("/api/v1/proposals", json=body, headers=headers) for _ in range(4))
    )
    assert {a.status_code for a in answers} == {201}, [a.text for a in answers]
    assert len({a.json()["id"] for a in answers}) == 1
    assert await world.count(Proposal) == 1
    proposal = await world.row(Proposal, title="Dikirim dua kali")
    submitted = await world.row(AuditEvent, entity_type="proposal", entity_id=str(proposal.id))
    # one event (`row` is scalar_one_or_none): the losers wrote none
    assert submitted.action == "proposal.submitted"
    assert await world.count(IdempotencyRecord) == 1
