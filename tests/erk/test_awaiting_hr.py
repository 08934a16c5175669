"""Nobody but HR sets pay inputs: a unit admin registers a new employee (API, import, import page)
without job class, status, PTKP, TPP base or salary; the employee is paid nothing, with the reason
in the recap, until HR sets them."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select

from erk.models import Employee
from shared.testing import assert_problem, client_for

from .conftest import CHIEF, DEPUTY, Erk
from .test_admin_pages import _as_employee, csrf
from .test_pay_rules import _attendance, _days, _recap, _rule, _work

NEWBIE = "199505052020122004"
REGISTRATION = {
    "nip": NEWBIE,
    "name": "Pegawai Baru",
    "unit_code": "BIDANG",
    "supervisor_nip": CHIEF,
}
HEADER = "nip,name,unit_code,job_class,tpp_base_idr,supervisor_nip,employment_status,ptkp_status\n"


async def _newbie(erk: Erk) -> Employee | None:
    async with erk.app.state.db.sessionmaker() as session:
        found: Employee | None = await session.scalar(
            select(Employee).where(Employee.nip == NEWBIE)
        )
    return found


async def _import(erk: Erk, text: str, headers: dict[str, str]) -> Any:
    files = {"file": ("pegawai.csv", text.encode(), "text/csv")}
    return await erk.client.post("/api/v1/employees/import", files=files, headers=headers)


def _awaiting_line(row: dict[str, Any]) -> list[str]:
    return [line for line in row["explanation"] if "belum ditetapkan BKPSDM" in line]


async def _unpaid_month(erk: Erk, period: str, days: list[dt.date]) -> None:
    """The new employee worked the whole month and is paid nothing, with the reason."""
    await _attendance(erk, NEWBIE, days)
    await _work(erk, NEWBIE, days, 300)
    row = await _recap(erk, period, NEWBIE)
    assert (row["tpp_base_idr"], row["tpp_total_idr"], row["tpp_net_idr"]) == (0, 0, 0)
    assert row["performance_pct"] == 100
    assert row["pay_awaiting_hr"] is True
    assert _awaiting_line(row) == [
        "Pegawai ini didaftarkan oleh admin unit tanpa data penghasilan: kelas jabatan, status "
        "kepegawaian dan TPP dasar belum ditetapkan BKPSDM, sehingga TPP dasar Rp0 dan TPP bulan "
        "ini Rp0 sampai BKPSDM menetapkannya."
    ]


async def test_a_unit_admin_registers_through_the_api_without_pay_inputs(erk: Erk) -> None:
    await erk.tree()
    _rule(erk, class_bases={7: 4_000_000, 17: 30_000_000})
    period, days = _days(erk, 20)
    admin = await erk.grant(DEPUTY, ["unit_admin"], unit="BIDANG")
    for given, named in (
        # the old rule let a class (which sets the base) and a status through with a base of 0
        (
            {"job_class": 17, "tpp_base_idr": 0, "employment_status": "pns"},
            ["job_class", "employment_status"],
        ),
        ({"job_class": 17}, ["job_class"]),
        ({"ptkp_status": "K/3"}, ["ptkp_status"]),
        ({"salary_gross_idr": 9_000_000, "tpp_base_idr": 1}, ["tpp_base_idr", "salary_gross_idr"]),
    ):
        r = await erk.client.post("/api/v1/employees", json=REGISTRATION | given, headers=admin)
        assert assert_problem(r, 403, "pay-input-forbidden")["fields"] == named
        assert await _newbie(erk) is None
    r = await erk.client.post("/api/v1/employees", json=REGISTRATION, headers=admin)
    assert r.status_code == 201, r.text
    assert (r.json()["job_class"], r.json()["tpp_base_idr"]) == (None, 0)
    await _unpaid_month(erk, period, days)
    # Nor may the unit admin set the job class afterwards; HR does, from the month's first day.
    grade = {
        "effective_from": f"{period}-01",
        "job_class": 7,
        "employment_status": "cpns",
        "legal_basis": "SK Bupati 800/45/BKPSDM/2025",
    }
    r = await erk.client.post(f"/api/v1/employees/{NEWBIE}/grades", json=grade, headers=admin)
    assert r.status_code == 403
    r = await erk.client.post(f"/api/v1/employees/{NEWBIE}/grades", json=grade, headers=erk.hr)
    assert r.status_code == 201, r.text
    # The class sets the base (Rp4.000.000); a CPNS is paid 80 %.
    row = await _recap(erk, period, NEWBIE)
    assert (row["tpp_base_idr"], row["base_effective_idr"], row["tpp_total_idr"]) == (
        4_000_000,
        3_200_000,
        3_200_000,
    )
    assert row["pay_awaiting_hr"] is False
    assert _awaiting_line(row) == []


async def test_hr_still_registers_with_job_class_and_base(erk: Erk) -> None:
    await erk.tree()
    r = await erk.client.post(
        "/api/v1/employees", json=REGISTRATION | {"tpp_base_idr": 5_000_000}, headers=erk.hr
    )
    assert assert_problem(r, 422, "pay-inputs-missing")["fields"] == ["job_class"]
    assert await _newbie(erk) is None
    r = await erk.client.post(
        "/api/v1/employees",
        json=REGISTRATION | {"job_class": 9, "tpp_base_idr": 5_000_000, "ptkp_status": "K/1"},
        headers=erk.hr,
    )
    assert r.status_code == 201, r.text
    assert (r.json()["job_class"], r.json()["ptkp_status"]) == (9, "K/1")


async def test_a_unit_admin_imports_a_new_employee_without_pay_inputs(erk: Erk) -> None:
    await erk.tree()
    period, days = _days(erk, 21)
    erk.at(days[-1])  # the import's regrade takes effect from this month's first day
    admin = await erk.grant(DEPUTY, ["unit_admin"], unit="BIDANG")
    chosen = HEADER + f"{NEWBIE},Pegawai Baru,BIDANG,17,0,{CHIEF},pns,K/3\n"
    body = assert_problem(await _import(erk, chosen, admin), 422, "import-rejected")
    assert body["rows"][0]["errors"] == [
        "only HR (BKPSDM) sets job_class",
        "only HR (BKPSDM) sets employment_status",
        "only HR (BKPSDM) sets ptkp_status",
    ]
    assert await _newbie(erk) is None
    r = await _import(erk, HEADER + f"{NEWBIE},Pegawai Baru,BIDANG,,,{CHIEF},,\n", admin)
    assert r.status_code == 201, r.text
    stored = await _newbie(erk)
    assert stored is not None
    assert (stored.job_class, stored.tpp_base_idr, stored.employment_status) == (None, 0, "pns")
    # Once registered, the unit admin's file keeps the pay inputs blank (as stored) or is refused.
    again = HEADER + f"{NEWBIE},Pegawai Baru,BIDANG,8,,{CHIEF},,\n"
    body = assert_problem(await _import(erk, again, admin), 422, "import-rejected")
    assert "only HR (BKPSDM) changes job_class" in body["rows"][0]["errors"]
    await _unpaid_month(erk, period, days)
    # HR's file sets them: paid for this month.
    hr_row = HEADER + f"{NEWBIE},Pegawai Baru,BIDANG,9,6.000.000,{CHIEF},pns,TK/0\n"
    r = await _import(erk, hr_row, erk.hr)
    assert r.status_code == 201, r.text
    row = await _recap(erk, period, NEWBIE)
    assert (row["tpp_base_idr"], row["tpp_total_idr"]) == (6_000_000, 6_000_000)
    assert _awaiting_line(row) == []


async def test_the_import_page_refuses_a_unit_admins_pay_inputs_in_indonesian(erk: Erk) -> None:
    await erk.tree()
    erk.at(dt.date(2025, 3, 12))
    await erk.grant(DEPUTY, ["unit_admin"], unit="BIDANG")
    async with client_for(erk.app) as browser:
        await _as_employee(erk, browser, DEPUTY)
        token = csrf(await browser.get("/impor"))

        async def upload(text: str) -> Any:
            files = {"berkas": ("pegawai.csv", text.encode(), "text/csv")}
            return await browser.post("/impor/pegawai", data={"csrf_token": token}, files=files)

        r = await upload(HEADER + f"{NEWBIE},Pegawai Baru,BIDANG,12,0,{CHIEF},cpns,\n")
        assert r.status_code == 422, r.text
        assert "hanya BKPSDM yang menetapkan job_class; kosongkan untuk pegawai baru" in r.text
        assert "hanya BKPSDM yang menetapkan employment_status" in r.text
        assert await _newbie(erk) is None
        r = await upload(HEADER + f"{NEWBIE},Pegawai Baru,BIDANG,,,{CHIEF},,\n")
        assert r.status_code == 200, r.text
        assert "1 baris diimpor." in r.text
    stored = await _newbie(erk)
    assert stored is not None
    assert stored.job_class is None
