"""Closing a month loses nothing: not before the entry cut-off and the verification deadline,
not while activities are pending or working days lack attendance unless HR closes anyway
(audited, with the lists)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from erk.models import AuditEvent, Period
from shared.testing import assert_problem

from .conftest import CHIEF, DEPUTY, HEAD, OTHER, STAFF, STAFF2, Erk

EVERYONE = (HEAD, CHIEF, DEPUTY, STAFF, STAFF2, OTHER)


async def _pending_november(erk: Erk) -> list[int]:
    await erk.tree()
    erk.at(dt.date(2025, 11, 28))
    ids = []
    for day in (dt.date(2025, 11, 26), dt.date(2025, 11, 27)):
        r = await erk.log(STAFF, day, 120)
        assert r.status_code == 201, r.text
        ids.append(r.json()["id"])
    return ids


async def _attendance(erk: Erk, nips: tuple[str, ...], *, skip: int = 0) -> None:
    """Everyone in `nips` present on every working day of November 2025 (the first `skip`
    working days of the first of them left without a record)."""
    days = erk.app.state.calendar.working_days_in_month(2025, 11)
    lines = ["nip,date,status"]
    for index, nip in enumerate(nips):
        lines += [f"{nip},{d.isoformat()},present" for d in days[(skip if index == 0 else 0) :]]
    files = {"file": ("absen.csv", "\n".join(lines).encode(), "text/csv")}
    r = await erk.client.post("/api/v1/attendance/import", files=files, headers=erk.hr)
    assert r.status_code == 201, r.text


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
    await _attendance(erk, EVERYONE)
    erk.at(dt.date(2025, 12, 11))
    ready = await erk.client.get("/api/v1/periods/2025-11/readiness", headers=erk.hr)
    assert ready.json()["blockers"] == []
    r = await erk.client.post("/api/v1/periods/2025-11/close", headers=erk.hr)
    assert r.status_code == 200, r.text
    assert (r.json()["not_counted_activities"], r.json()["missing_attendance_days"]) == (0, 0)
    async with erk.app.state.db.sessionmaker() as session:
        actions = list(await session.scalars(select(AuditEvent.action)))
    assert "period.closed" in actions
    assert "period.closed_anyway" not in actions


async def test_missing_attendance_refuses_closing_in_the_default_mode_too(erk: Erk) -> None:
    """The default rule pays a working day without attendance as unexcused absence; closing
    freezes that, so it is refused until HR closes anyway, which lists who and how many days."""
    await erk.tree()
    assert erk.app.state.config.erk.tpp_rules[0].missing_attendance == "absent"
    await _attendance(erk, EVERYONE, skip=2)  # HEAD has no record on two working days
    erk.at(dt.date(2025, 12, 11))
    ready = await erk.client.get("/api/v1/periods/2025-11/readiness", headers=erk.hr)
    assert ready.status_code == 200, ready.text
    assert (ready.json()["blockers"], ready.json()["missing_attendance_days"]) == (
        ["attendance"],
        2,
    )
    r = await erk.client.post("/api/v1/periods/2025-11/close", headers=erk.hr)
    body = assert_problem(r, 409, "period-not-ready")
    assert (body["pending_activities"], body["missing_attendance_days"]) == (0, 2)
    assert body["missing_attendance_treated_as"] == "unexcused_absence"
    async with erk.app.state.db.sessionmaker() as session:
        assert await session.scalar(select(Period.id)) is None
    # Wrong person: an employee cannot close anyway.
    r = await erk.client.post(
        "/api/v1/periods/2025-11/close", params={"anyway": "true"}, headers=await erk.login(STAFF)
    )
    assert_problem(r, 403, "forbidden")
    r = await erk.client.post(
        "/api/v1/periods/2025-11/close", params={"anyway": "true"}, headers=erk.hr
    )
    assert r.status_code == 200, r.text
    assert (r.json()["not_counted_activities"], r.json()["missing_attendance_days"]) == (0, 2)
    async with erk.app.state.db.sessionmaker() as session:
        event = await session.scalar(
            select(AuditEvent).where(AuditEvent.action == "period.closed_anyway")
        )
    assert event is not None
    assert event.after is not None
    assert event.after["missing_attendance"] == [{"nip": HEAD, "days": 2}]
    assert event.after["missing_attendance_treated_as"] == "unexcused_absence"
    # The frozen recap charges the two days as unexcused absence (the pay rule is unchanged).
    recap = await erk.client.get("/api/v1/recaps/2025-11", headers=erk.hr)
    assert recap.status_code == 200, recap.text
    assert recap.json()["closed"] is True
    row = next(i for i in recap.json()["items"] if i["nip"] == HEAD)
    assert (row["missing_days"], row["discipline_pct"]) == (2, 80.0)


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
        # Incomplete attendance comes first: nobody has a record for November's 20 working days.
        assert page.text.index('id="tanpa-kehadiran"') < page.text.index('id="tertunda"')
        assert re.search(r'id="tanpa-kehadiran">120 \(6 pegawai\)<', page.text), page.text
        assert "dihitung sebagai tidak hadir tanpa keterangan" in page.text
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
        assert "120 hari kerja tanpa catatan kehadiran dibekukan" in r.text
        assert "sudah ditutup" in r.text
        # Employees do not get the page.
        staff = await erk.login(STAFF)
        r = await erk.client.get("/tutup-bulan", headers=staff)
        assert r.status_code in (303, 403)
