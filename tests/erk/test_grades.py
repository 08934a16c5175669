"""Job class and employment status are effective-dated: a CPNS appointed PNS mid-year is paid
100 % from the TMT on, and the months before keep their 80 % (worked example to the rupiah)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import update

from erk.models import Employee
from shared.testing import assert_problem

from .conftest import CHIEF, HEAD, STAFF, Erk
from .test_pay_rules import _attendance, _money, _recap, _rule, _work

JULY, AUGUST = "2025-07", "2025-08"
TMT = dt.date(2025, 8, 1)


async def _month_at_work(erk: Erk, year: int, month: int) -> None:
    """STAFF present and logging the daily standard (300 minutes) on every working day."""
    days = erk.app.state.calendar.working_days_in_month(year, month)
    erk.at(days[-1])
    await _attendance(erk, STAFF, days)
    await _work(erk, STAFF, days, 300)


async def _cpns(erk: Erk) -> None:
    """The tree, with STAFF registered as a CPNS (kelas jabatan 7, base Rp5.000.000)."""
    await erk.tree()
    async with erk.app.state.db.sessionmaker.begin() as session:
        await session.execute(
            update(Employee).where(Employee.nip == STAFF).values(employment_status="cpns")
        )


def _change(status: str = "pns", day: dt.date = TMT) -> dict[str, object]:
    return {
        "effective_from": day.isoformat(),
        "job_class": 7,
        "employment_status": status,
        "legal_basis": "SK Bupati 800/123/BKPSDM/2025 (TMT PNS)",
    }


async def test_a_cpns_appointed_pns_is_paid_in_full_from_the_tmt_only(erk: Erk) -> None:
    await _cpns(erk)
    await _month_at_work(erk, 2025, 7)
    july_before = await _recap(erk, JULY)
    # CPNS: 80 % of Rp5.000.000 = Rp4.000.000; 60 % performance, 40 % discipline, both in full.
    assert july_before["employment_status"] == "cpns"
    assert _money(july_before) == (2_400_000, 1_600_000, 4_000_000)
    erk.at(dt.date(2025, 8, 4))
    r = await erk.client.post(f"/api/v1/employees/{STAFF}/grades", json=_change(), headers=erk.hr)
    assert r.status_code == 201, r.text
    assert [(g["effective_from"], g["employment_status"]) for g in r.json()] == [
        ("1900-01-01", "cpns"),
        ("2025-08-01", "pns"),
    ]
    await _month_at_work(erk, 2025, 8)
    august = await _recap(erk, AUGUST)
    # PNS from 1 August: 100 % of Rp5.000.000 = 3.000.000 + 2.000.000.
    assert august["employment_status"] == "pns"
    assert _money(august) == (3_000_000, 2_000_000, 5_000_000)
    # July is unchanged, to the rupiah (before: the recap read today's status and paid 5.000.000).
    july_after = await _recap(erk, JULY)
    assert july_after == july_before
    employee = await erk.client.get(f"/api/v1/employees/{STAFF}", headers=erk.hr)
    assert employee.json()["employment_status"] == "pns"


async def test_a_change_from_a_later_date_leaves_today_alone(erk: Erk) -> None:
    await _cpns(erk)
    erk.at(dt.date(2025, 7, 20))
    r = await erk.client.post(f"/api/v1/employees/{STAFF}/grades", json=_change(), headers=erk.hr)
    assert r.status_code == 201, r.text
    employee = await erk.client.get(f"/api/v1/employees/{STAFF}", headers=erk.hr)
    assert employee.json()["employment_status"] == "cpns"
    # From its date on the record shows the new status without anyone touching it again.
    erk.at(dt.date(2025, 8, 1))
    employee = await erk.client.get(f"/api/v1/employees/{STAFF}", headers=erk.hr)
    assert employee.json()["employment_status"] == "pns"


async def test_grade_changes_are_refused_to_the_wrong_person_time_or_values(erk: Erk) -> None:
    await _cpns(erk)
    erk.at(dt.date(2025, 8, 4))
    url = f"/api/v1/employees/{STAFF}/grades"
    # Wrong person: the employee, their supervisor, a unit admin.
    for who in (
        lambda: erk.login(STAFF),
        lambda: erk.login(CHIEF),
        lambda: erk.grant(CHIEF, ["unit_admin"], "BIDANG"),
    ):
        r = await erk.client.post(url, json=_change(), headers=await who())
        assert r.status_code == 403, r.text
    # Missing evidence (no legal basis) and wrong values.
    no_basis = _change() | {"legal_basis": ""}
    assert_problem(await erk.client.post(url, json=no_basis, headers=erk.hr), 422)
    bad_class = _change() | {"job_class": 18}
    assert_problem(await erk.client.post(url, json=bad_class, headers=erk.hr), 422)
    bad_status = _change("honorer")
    assert_problem(await erk.client.post(url, json=bad_status, headers=erk.hr), 422)
    # Wrong time: a change reaching into a closed month would rewrite frozen pay.
    erk.at(dt.date(2025, 8, 11))
    closed = await erk.client.post(
        "/api/v1/periods/2025-07/close", params={"anyway": "true"}, headers=erk.hr
    )
    assert closed.status_code == 200, closed.text
    early = _change(day=dt.date(2025, 7, 1))
    assert_problem(await erk.client.post(url, json=early, headers=erk.hr), 409, "period-closed")
    listed = await erk.client.get(url, headers=erk.hr)
    assert listed.json() == []
    assert (await erk.client.post(url, json=_change(), headers=erk.hr)).status_code == 201


async def test_an_import_that_changes_the_status_does_so_from_the_current_month(erk: Erk) -> None:
    await _cpns(erk)
    await _month_at_work(erk, 2025, 7)
    july_before = await _recap(erk, JULY)
    erk.at(dt.date(2025, 8, 4))
    r = await erk.client.post(
        "/api/v1/employees/import",
        files={
            "file": (
                "pegawai.csv",
                (
                    "nip,name,unit_code,job_class,tpp_base_idr,supervisor_nip,employment_status\n"
                    f"{STAFF},Pegawai 001,BIDANG,7,5000000,{CHIEF},pns\n"
                ).encode(),
                "text/csv",
            )
        },
        headers=erk.hr,
    )
    assert r.status_code == 201, r.text
    assert await _recap(erk, JULY) == july_before
    listed = await erk.client.get(f"/api/v1/employees/{STAFF}/grades", headers=erk.hr)
    assert [(g["effective_from"], g["employment_status"]) for g in listed.json()] == [
        ("1900-01-01", "cpns"),
        ("2025-08-01", "pns"),
    ]


async def test_a_promotion_changes_the_class_base_from_its_date_only(erk: Erk) -> None:
    """Kelas 7 (Rp4.000.000) to kelas 9 (Rp6.000.000) from 1 August: July stays at kelas 7."""
    await erk.tree()
    _rule(erk, class_bases={7: 4_000_000, 9: 6_000_000})
    await _month_at_work(erk, 2025, 7)
    july_before = await _recap(erk, JULY)
    assert (july_before["tpp_base_idr"], july_before["tpp_total_idr"]) == (4_000_000, 4_000_000)
    erk.at(dt.date(2025, 8, 4))
    promotion = _change() | {"job_class": 9, "legal_basis": "SK Bupati 821/45/BKPSDM/2025"}
    r = await erk.client.post(f"/api/v1/employees/{STAFF}/grades", json=promotion, headers=erk.hr)
    assert r.status_code == 201, r.text
    await _month_at_work(erk, 2025, 8)
    august = await _recap(erk, AUGUST)
    # 60 % of 6.000.000 = 3.600.000 and 40 % = 2.400.000, both in full.
    assert _money(august) == (3_600_000, 2_400_000, 6_000_000)
    assert await _recap(erk, JULY) == july_before


async def test_hr_cannot_change_its_own_grade(erk: Erk) -> None:
    await erk.tree()
    erk.at(dt.date(2025, 8, 4))
    own = await erk.grant(HEAD, ["hr_admin"])
    r = await erk.client.post(
        f"/api/v1/employees/{HEAD}/grades", json=_change() | {"job_class": 17}, headers=own
    )
    assert_problem(r, 403, "own-record")
    missing = await erk.client.post(
        "/api/v1/employees/199912312020121999/grades", json=_change(), headers=erk.hr
    )
    assert_problem(missing, 404)
