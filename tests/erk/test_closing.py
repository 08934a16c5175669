"""Closing a month loses nothing: not before the entry cut-off and the verification deadline,
not while activities are pending unless HR closes anyway (audited, with the list)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from erk.models import AuditEvent, Period
from shared.testing import assert_problem

from .conftest import CHIEF, STAFF, Erk


async def _pending_november(erk: Erk) -> list[int]:
    await erk.tree()
    erk.at(dt.date(2025, 11, 28))
    ids = []
    for day in (dt.date(2025, 11, 26), dt.date(2025, 11, 27)):
        r = await erk.log(STAFF, day, 120)
        assert r.status_code == 201, r.text
        ids.append(r.json()["id"])
    return ids


async def test_closing_before_the_verification_deadline_is_refused(erk: Erk) -> None:
    await _pending_november(erk)
    for today in (dt.date(2025, 12, 5), dt.date(2025, 12, 10)):  # cut-off 5, deadline 10
        erk.at(today)
        r = await erk.client.post(
            "/api/v1/periods/2025-11/close", params={"anyway": "true"}, headers=erk.hr
        )
        body = assert_problem(r, 409, "period-not-over")
        assert body["verification_deadline"] == "2025-12-10"
    async with erk.app.state.db.sessionmaker() as session:
        assert await session.scalar(select(Period.id)) is None


async def test_pending_activities_refuse_closing_and_close_anyway_lists_them(erk: Erk) -> None:
    ids = await _pending_november(erk)
    erk.at(dt.date(2025, 12, 11))
    ready = await erk.client.get("/api/v1/periods/2025-11/readiness", headers=erk.hr)
    assert ready.status_code == 200, ready.text
    assert ready.json()["pending_activities"] == 2
    assert ready.json()["deadlines_passed"] is True
    assert "pending" in ready.json()["blockers"]
    r = await erk.client.post("/api/v1/periods/2025-11/close", headers=erk.hr)
    body = assert_problem(r, 409, "period-not-ready")
    assert (body["pending_activities"], body["pending_ids"]) == (2, ids)
    async with erk.app.state.db.sessionmaker() as session:
        assert await session.scalar(select(Period.id)) is None
    # Staff and unit admins cannot close; HR closes anyway, knowingly.
    staff = await erk.login(STAFF)
    r = await erk.client.post(
        "/api/v1/periods/2025-11/close", params={"anyway": "true"}, headers=staff
    )
    assert_problem(r, 403, "forbidden")
    r = await erk.client.post(
        "/api/v1/periods/2025-11/close", params={"anyway": "true"}, headers=erk.hr
    )
    assert r.status_code == 200, r.text
    assert r.json()["not_counted_activities"] == 2
    async with erk.app.state.db.sessionmaker() as session:
        event = await session.scalar(
            select(AuditEvent).where(AuditEvent.action == "period.closed_anyway")
        )
    assert event is not None
    assert event.after is not None
    assert event.after["not_counted_activity_ids"] == ids


async def test_a_month_with_nothing_pending_closes_after_the_deadline(erk: Erk) -> None:
    ids = await _pending_november(erk)
    r = await erk.client.post(
        "/api/v1/verifications",
        json={"activity_ids": ids, "decision": "approved"},
        headers=await erk.login(CHIEF),
    )
    assert r.status_code == 200, r.text
    erk.at(dt.date(2025, 12, 11))
    r = await erk.client.post("/api/v1/periods/2025-11/close", headers=erk.hr)
    assert r.status_code == 200, r.text
    assert r.json()["not_counted_activities"] == 0


async def test_hr_closes_a_month_from_the_page_after_seeing_the_counts(erk: Erk) -> None:
    import re

    from shared.testing import client_for

    await _pending_november(erk)
    erk.at(dt.date(2025, 12, 11))
    async with client_for(erk.app) as browser:
        r = await browser.post(
            "/login", data={"username": "bkpsdm", "password": "password-123", "next": "/"}
        )
        assert r.status_code == 303, r.text
        page = await browser.get("/tutup-bulan", params={"bulan": "2025-11"})
        assert page.status_code == 200, page.text
        assert re.search(r'id="tertunda">2<', page.text)
        assert "tidak akan dihitung" in page.text
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert token is not None
        # Without ticking "close anyway" the month stays open and the form says why.
        r = await browser.post(
            "/tutup-bulan", data={"csrf_token": token.group(1), "bulan": "2025-11"}
        )
        assert r.status_code == 409
        assert "Centang persetujuan" in r.text
        r = await browser.post(
            "/tutup-bulan",
            data={"csrf_token": token.group(1), "bulan": "2025-11", "tetap_tutup": "1"},
        )
        assert r.status_code == 200, r.text
        assert "2 aktivitas tertunda tidak dihitung" in r.text
        assert "sudah ditutup" in r.text
        # Employees do not get the page.
        staff = await erk.login(STAFF)
        r = await erk.client.get("/tutup-bulan", headers=staff)
        assert r.status_code in (303, 403)
