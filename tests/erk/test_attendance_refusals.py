"""Worked examples to the rupiah: an attendance record on a Sunday, and lateness on a day of
approved leave, are refused and leave the month's recap exactly as it was (issue 14).

The figures are derived by hand from the default rule (`nasional-2020`): 300 minutes a working
day, performance 60 % / discipline 40 % of the base, lateness 1-30 minutes 1 % per event, annual
leave reduces the standard. STAFF's base is Rp5.000.000 (PNS, no class base)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from erk.models import Attendance, Employee
from shared.testing import assert_problem

from .conftest import STAFF, Erk
from .test_pay_rules import _attendance, _days, _money, _recap, _work


async def _statuses(erk: Erk, days: list[dt.date]) -> dict[dt.date, tuple[str, int]]:
    async with erk.app.state.db.sessionmaker() as session:
        rows = await session.execute(
            select(Attendance.day, Attendance.status, Attendance.minutes_late)
            .join(Employee, Employee.id == Attendance.employee_id)
            .where(Employee.nip == STAFF, Attendance.day.in_(days))
        )
        return {r.day: (r.status, r.minutes_late) for r in rows}


async def _import(erk: Erk, text: str) -> object:
    files = {"file": ("absen.csv", text.encode(), "text/csv")}
    return await erk.client.post("/api/v1/attendance/import", files=files, headers=erk.hr)


async def test_a_sunday_record_is_refused_and_the_recap_keeps_its_rupiah(erk: Erk) -> None:
    await erk.tree()
    period, days = _days(erk, 20)
    lines = ["nip,date,status,minutes_late"]
    lines += [f"{STAFF},{d.isoformat()},hadir,{20 if i == 3 else 0}" for i, d in enumerate(days)]
    r = await _import(erk, "\n".join(lines))
    assert r.status_code == 201, r.text  # type: ignore[attr-defined]
    await _work(erk, STAFF, days, 300)
    # Standard 20 x 300 = 6.000, verified 6.000: performance floor(5.000.000 x 60 %) = 3.000.000.
    # One lateness of 20 minutes (band 1-30: 1 %): discipline floor(5.000.000 x 40 % x 99 %)
    # = 1.980.000. Total 4.980.000.
    expected = (3_000_000, 1_980_000, 4_980_000)
    assert _money(await _recap(erk, period)) == expected
    first = days[0].replace(day=1)
    sunday = first + dt.timedelta(days=(6 - first.weekday()) % 7)
    assert sunday.weekday() == 6
    assert sunday < days[-1]
    # An unexcused absence (10 % if it counted) and a lateness of 90 minutes (3 %) on the Sunday.
    for body in (
        {"nip": STAFF, "date": sunday.isoformat(), "status": "absent"},
        {"nip": STAFF, "date": sunday.isoformat(), "status": "present", "minutes_late": 90},
    ):
        r = await erk.client.post("/api/v1/attendance", json=body, headers=erk.hr)
        assert_problem(r, 422, "non-working-day")  # type: ignore[arg-type]
    r = await _import(erk, f"nip,date,status\n{STAFF},{sunday.isoformat()},tanpa keterangan\n")
    body = assert_problem(r, 422, "import-rejected")  # type: ignore[arg-type]
    assert body["rows"][0]["errors"] == ["date is not a working day"]
    assert await _statuses(erk, [sunday]) == {}
    row = await _recap(erk, period)
    assert _money(row) == expected
    assert (row["absent_days"], row["discipline_pct"]) == (0, 99.0)


async def test_lateness_on_an_approved_leave_day_is_refused_and_the_recap_keeps_its_rupiah(
    erk: Erk,
) -> None:
    await erk.tree()
    period, days = _days(erk, 20)
    await _attendance(erk, STAFF, days[:2], "leave")  # two days of annual leave
    await _attendance(erk, STAFF, days[2:])
    await _work(erk, STAFF, days[2:], 300)
    # Standard 6.000 x (20 - 2) / 20 = 5.400; verified 18 x 300 = 5.400: 100 %, Rp3.000.000.
    # Discipline 100 %: Rp2.000.000. Total Rp5.000.000.
    expected = (3_000_000, 2_000_000, 5_000_000)
    row = await _recap(erk, period)
    assert (row["reduced_days"], row["standard_minutes"]) == (2, 5400)
    assert _money(row) == expected
    # Had the fingerprint machine's "present, 45 minutes late" replaced the leave of day 1, the
    # standard would be 5.700 (floor(3.000.000 x 5.400 / 5.700) = 2.842.105) and the 45 minutes
    # (band 31-60: 2 %) would cut discipline to 1.960.000: Rp4.802.105 instead of Rp5.000.000.
    late = {"nip": STAFF, "date": days[0].isoformat(), "minutes_late": 45}
    for status in ("present", "leave"):
        r = await erk.client.post(
            "/api/v1/attendance", json=late | {"status": status}, headers=erk.hr
        )
        assert_problem(r, 422, "lateness-not-at-work")  # type: ignore[arg-type]
    text = f"nip,date,status,minutes_late\n{STAFF},{days[1].isoformat()},hadir,45\n"
    body = assert_problem(await _import(erk, text), 422, "import-rejected")  # type: ignore[arg-type]
    assert body["rows"] == [
        {
            "row": 2,
            "nip": STAFF,
            "errors": ["the day is recorded as leave: no minutes late or early on leave"],
        }
    ]
    assert await _statuses(erk, days[:2]) == {
        days[0]: ("leave", 0),
        days[1]: ("leave", 0),
    }
    row = await _recap(erk, period)
    assert (row["reduced_days"], row["standard_minutes"]) == (2, 5400)
    assert _money(row) == expected
    # Correcting the leave itself (no minutes) stays possible; it is audited like any record.
    r = await erk.client.post(
        "/api/v1/attendance", json=late | {"status": "present", "minutes_late": 0}, headers=erk.hr
    )
    assert r.status_code == 201, r.text
