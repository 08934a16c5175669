"""A unit admin records attendance for the unit administered and nowhere else: a record or an
import naming an employee of another unit is refused, writes nothing, and leaves that employee's
TPP to the rupiah as it was.

OTHER works in LAIN; the unit admin (CHIEF) administers BIDANG. OTHER's base is Rp5.000.000 (PNS,
default rule `nasional-2020`)."""

from __future__ import annotations

import datetime as dt

import httpx
from sqlalchemy import func, select, update

from erk.models import Account, Attendance, AuditEvent, Employee
from shared.testing import assert_problem, client_for

from .conftest import CHIEF, OTHER, STAFF, Erk
from .test_pages import _login, csrf
from .test_pay_rules import _attendance, _days, _money, _recap, _work


async def _stored(erk: Erk) -> tuple[int, dict[tuple[str, dt.date], tuple[str, int]], int]:
    """Every attendance row (count and content by NIP and day) and the number of audit events."""
    async with erk.app.state.db.sessionmaker() as session:
        rows = await session.execute(
            select(Employee.nip, Attendance.day, Attendance.status, Attendance.minutes_late).join(
                Employee, Employee.id == Attendance.employee_id
            )
        )
        content = {(r.nip, r.day): (r.status, r.minutes_late) for r in rows}
        events = await session.scalar(select(func.count()).select_from(AuditEvent))
        return len(content), content, int(events or 0)


async def _import(erk: Erk, text: str, headers: dict[str, str]) -> httpx.Response:
    files = {"file": ("absen.csv", text.encode(), "text/csv")}
    return await erk.client.post("/api/v1/attendance/import", files=files, headers=headers)


async def test_a_unit_admin_cannot_record_attendance_of_another_units_employee(
    erk: Erk,
) -> None:
    await erk.tree()
    period, days = _days(erk, 20)
    # HR records OTHER present every day; OTHER logs nothing (no supervisor), so OTHER's TPP is
    # the discipline part alone.
    await _attendance(erk, OTHER, days)
    await _attendance(erk, STAFF, days)
    await _work(erk, STAFF, days, 300)
    # OTHER: no minutes, standard 6.000: productivity 0; discipline 100 % = Rp2.000.000.
    before = await _recap(erk, period, OTHER)
    assert _money(before) == (0, 2_000_000, 2_000_000)
    assert (before["absent_days"], before["discipline_pct"]) == (0, 100.0)
    admin = await erk.grant(CHIEF, ["unit_admin"], unit="BIDANG")
    stored = await _stored(erk)
    assert stored[0] == 40

    # An unexcused absence (10 % if it counted) and a lateness of 90 minutes (3 %): had they been
    # written, OTHER's discipline would be 87 % and the TPP Rp1.740.000 instead of Rp2.000.000.
    for body in (
        {"nip": OTHER, "date": days[3].isoformat(), "status": "absent"},
        {"nip": OTHER, "date": days[4].isoformat(), "status": "present", "minutes_late": 90},
    ):
        r = await erk.client.post("/api/v1/attendance", json=body, headers=admin)
        problem = assert_problem(r, 403, "out-of-unit-scope")
        assert "outside the unit you administer" in problem["detail"]

    # The fingerprint file: OTHER's row is refused, and so is the whole file (every row or none),
    # STAFF's row of the admin's own unit included.
    text = (
        "nip,date,status,minutes_late\n"
        f"{STAFF},{days[0].isoformat()},hadir,45\n"
        f"{OTHER},{days[3].isoformat()},tanpa keterangan,0\n"
    )
    problem = assert_problem(await _import(erk, text, admin), 422, "import-rejected")
    assert problem["rows"] == [
        {"row": 3, "nip": OTHER, "errors": ["employee is outside the unit you administer"]}
    ]

    assert await _stored(erk) == stored
    after = await _recap(erk, period, OTHER)
    assert _money(after) == (0, 2_000_000, 2_000_000)
    assert after == before

    # The same admin records STAFF of BIDANG: the refusal above was the unit, not the role.
    r = await erk.client.post(
        "/api/v1/attendance",
        json={"nip": STAFF, "date": days[0].isoformat(), "status": "present", "minutes_late": 45},
        headers=admin,
    )
    assert r.status_code == 201, r.text
    # 45 minutes late (band 31-60: 2 %): discipline floor(5.000.000 x 40 % x 98 %) = 1.960.000.
    assert _money(await _recap(erk, period)) == (3_000_000, 1_960_000, 4_960_000)


async def test_the_import_page_tells_a_unit_admin_in_indonesian(erk: Erk) -> None:
    """The page's import goes through the same check and says why in Bahasa Indonesia."""
    await erk.tree()
    _, days = _days(erk, 20)
    await erk.grant(CHIEF, ["unit_admin"], unit="BIDANG")
    await _unforce_password_change(erk, CHIEF)
    stored = await _stored(erk)
    async with client_for(erk.app) as browser:
        await _login(browser, CHIEF, "sandi-awal-123")
        page = await browser.get("/impor")
        assert page.status_code == 200, page.text
        r = await browser.post(
            "/impor/kehadiran",
            data={"csrf_token": csrf(page)},
            files={
                "berkas": (
                    "absen.csv",
                    f"nip,date,status\n{OTHER},{days[0].isoformat()},hadir\n".encode(),
                    "text/csv",
                )
            },
        )
    assert r.status_code == 422
    assert "pegawai berada di luar unit Anda" in r.text
    assert "outside the unit" not in r.text
    assert await _stored(erk) == stored


async def _unforce_password_change(erk: Erk, nip: str) -> None:
    async with erk.app.state.db.sessionmaker.begin() as session:
        await session.execute(
            update(Account).where(Account.username == nip).values(must_change_password=False)
        )
