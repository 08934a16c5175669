"""The hot paths count their database round trips: a regression here costs every regency."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event, insert, select, text

from erk.models import IdempotencyRecord
from shared.testing import statements_built_per_request, transactions_begun

from .conftest import CHIEF, STAFF, Erk


@contextmanager
def statements(erk: Erk) -> Iterator[list[str]]:
    seen: list[str] = []
    engine = erk.app.state.db.engine.sync_engine

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement.split(None, 1)[0].upper())

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def _work(seen: list[str]) -> list[str]:
    return [s for s in seen if s not in ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")]


async def test_submitting_an_activity_is_one_statement_on_its_own(erk: Erk, backend: str) -> None:
    await erk.tree()
    erk.at(dt.date(2025, 3, 12))
    await erk.login(STAFF)
    with transactions_begun() as begun, statements(erk) as seen:
        r = await erk.log(STAFF, dt.date(2025, 3, 10), 60)
    assert r.status_code == 201
    # PostgreSQL: the employee's lock (`erk.logged_minutes_locked`), the checked insert and its
    # audit event in one statement (data-modifying CTEs), committed on its own: no BEGIN, no
    # COMMIT. SQLite (BEGIN IMMEDIATE is its lock), without such CTEs, in two.
    expected = ["WITH"] if backend == "postgres" else ["INSERT", "INSERT"]
    assert _work(seen) == expected, seen
    if backend == "postgres":
        assert begun == []


async def test_a_submission_with_an_idempotency_key_stores_its_answer_in_the_same_statement(
    erk: Erk, backend: str
) -> None:
    await erk.tree()
    erk.at(dt.date(2025, 3, 12))
    headers = {**await erk.login(STAFF), "Idempotency-Key": "rt-1"}
    body = {"date": "2025-03-10", "description": "Menyusun laporan", "minutes": 60}
    with statements(erk) as seen:
        first = await erk.client.post("/api/v1/activities", json=body, headers=headers)
    assert first.status_code == 201
    # PostgreSQL: the lock, the entry, its audit event and the idempotency record in one
    # statement; SQLite: the entry, the event, the record.
    expected = ["WITH"] if backend == "postgres" else ["INSERT", "INSERT", "INSERT"]
    assert _work(seen) == expected, seen
    async with erk.app.state.db.sessionmaker() as session:
        stored = (await session.execute(select(IdempotencyRecord))).scalars().all()
    assert [(r.key, r.status_code, r.response_body) for r in stored] == [
        ("rt-1", 201, first.json())
    ]
    with statements(erk) as seen:
        again = await erk.client.post("/api/v1/activities", json=body, headers=headers)
    assert (again.status_code, again.json()) == (201, first.json())
    assert again.headers["idempotent-replayed"] == "true"


async def test_a_warm_submission_sends_prebuilt_statements_only(erk: Erk) -> None:
    """Once warm, an entry's statement comes from the compiled cache as the same text: no `IN`
    list rendered into it per execution (each such render also costs the driver a lookup of a
    new text)."""
    await erk.tree()
    erk.at(dt.date(2025, 3, 12))
    headers = await erk.login(STAFF)
    body = {"date": "2025-03-10", "description": "Menyusun laporan", "minutes": 30}
    for key in ("warm-1", "warm-2"):
        warm = await erk.client.post(
            "/api/v1/activities", json=body, headers={**headers, "Idempotency-Key": key}
        )
        assert warm.status_code == 201, warm.text
    with statements_built_per_request(erk.app) as built:
        plain = await erk.log(STAFF, dt.date(2025, 3, 11), 30)
        keyed = await erk.client.post(
            "/api/v1/activities", json=body, headers={**headers, "Idempotency-Key": "warm-3"}
        )
    assert (plain.status_code, keyed.status_code) == (201, 201), keyed.text
    assert built == []


async def test_bulk_verification_is_two_statements(erk: Erk, backend: str) -> None:
    await erk.tree()
    erk.at(dt.date(2025, 3, 12))
    ids = [(await erk.log(STAFF, dt.date(2025, 3, d), 60)).json()["id"] for d in (10, 11, 12)]
    headers = await erk.login(CHIEF)
    with statements(erk) as seen:
        r = await erk.client.post(
            "/api/v1/verifications",
            json={"activity_ids": ids, "decision": "approved"},
            headers=headers,
        )
    assert r.status_code == 200
    # the rows with their supervisors, then the UPDATE with its audit events in one statement
    # (SQLite: the UPDATE, then the events in one executemany)
    expected = ["SELECT", "WITH"] if backend == "postgres" else ["SELECT", "UPDATE", "INSERT"]
    assert _work(seen) == expected, seen


async def test_simultaneous_entries_cannot_pass_the_daily_cap_together(erk: Erk) -> None:
    await erk.tree()
    erk.at(dt.date(2025, 3, 12))
    await erk.login(STAFF)
    results = await asyncio.gather(
        *(erk.log(STAFF, dt.date(2025, 3, 10), 100, f"Kegiatan {i}") for i in range(6))
    )
    statuses = sorted(r.status_code for r in results)
    assert statuses == [201, 201, 201, 201, 422, 422], [r.text for r in results]
    listed = await erk.client.get(
        "/api/v1/activities", params={"limit": 50}, headers=await erk.login(STAFF)
    )
    assert sum(a["minutes"] for a in listed.json()["items"]) == 400


async def test_an_entry_waiting_for_the_employees_lock_counts_what_the_holder_logged(
    erk: Erk, backend: str
) -> None:
    """The cap is read after the lock is held, not from the statement's own earlier snapshot: a
    writer that holds the employee's lock and logs up to the cap makes the waiting entry a 422."""
    if backend != "postgres":
        pytest.skip("SQLite lets one writer in at a time (BEGIN IMMEDIATE)")
    from erk.activities import employee_lock_key, serialize_employee
    from erk.models import Activity, Employee

    await erk.tree()
    erk.at(dt.date(2025, 3, 12))
    await erk.login(STAFF)
    day = dt.date(2025, 3, 10)
    engine = erk.app.state.db.engine
    async with engine.connect() as holder:
        await serialize_employee(holder, STAFF)  # the lock every writer of STAFF's entries takes
        waiting = asyncio.create_task(erk.log(STAFF, day, 60, "Menunggu giliran"))
        for _ in range(100):  # until the entry's statement waits on that lock
            await asyncio.sleep(0.02)
            locked = await holder.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock' AND wait_event = 'advisory' "
                    "AND query LIKE '%logged_minutes_locked%'"
                )
            )
            if locked:
                break
        assert locked == 1
        assert not waiting.done()
        employee_id = await holder.scalar(select(Employee.id).where(Employee.nip == STAFF))
        await holder.execute(
            insert(Activity).values(
                employee_id=employee_id,
                activity_date=day,
                description="Dicatat lebih dulu",
                minutes=450,
                status="submitted",
                created_at=dt.datetime(2025, 3, 10, 1, tzinfo=dt.UTC),
                updated_at=dt.datetime(2025, 3, 10, 1, tzinfo=dt.UTC),
            )
        )
        await holder.commit()  # releases the lock; the waiting entry now reads 450 minutes
        refused = await waiting
    assert refused.status_code == 422, refused.text
    assert refused.json()["type"].endswith("daily-cap-exceeded"), refused.json()
    assert employee_lock_key(STAFF) == f"erk-activity:{STAFF}"
    async with erk.app.state.db.sessionmaker() as session:
        minutes = (
            await session.execute(
                select(Activity.minutes).join(Employee).where(Employee.nip == STAFF)
            )
        ).scalars()
        assert sorted(minutes) == [450]
