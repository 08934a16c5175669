"""The employee import (issue 14): nobody appoints themself supervisor or closes a loop in the
supervisor chain, a unit admin changes no pay input, and a column the file lacks keeps the stored
value. Every refusal leaves the stored employees as they were."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from erk.models import Employee, EmployeeGrade
from shared.testing import assert_problem, client_for

from .conftest import CHIEF, DEPUTY, HEAD, STAFF, STAFF2, Erk
from .test_admin_pages import _as_employee, csrf
from .test_permissions import HEADER, _employee, _import

FULL = (
    "nip,name,unit_code,job_class,tpp_base_idr,position,rank,supervisor_nip,active,"
    "employment_status,ptkp_status,salary_gross_idr,joined_on,left_on\n"
)


def _errors(body: dict[str, object]) -> list[str]:
    rows = body["rows"]
    assert isinstance(rows, list)
    return [e for row in rows for e in row["errors"]]


async def test_a_unit_admin_cannot_make_itself_a_supervisor_by_import(erk: Erk) -> None:
    await erk.tree()
    admin = await erk.grant(DEPUTY, ["unit_admin"], unit="BIDANG")
    # DEPUTY (supervises nobody) names itself the supervisor of a staff member, then of its
    # colleague CHIEF (whose own staff it would then rule through the chain).
    for row in (
        f"{STAFF};Staf;BIDANG;Staf;7;III/a;{DEPUTY};5.000.000;1\n",
        f"{CHIEF};Kabid;BIDANG;Kabid;7;III/d;{DEPUTY};7.000.000;1\n",
    ):
        r = await _import(erk, HEADER + row, admin)
        body = assert_problem(r, 422, "import-rejected")  # type: ignore[arg-type]
        assert "nobody makes themself a supervisor by import" in _errors(body)
    assert (await _employee(erk, STAFF)).supervisor_nip == CHIEF
    assert (await _employee(erk, CHIEF)).supervisor_nip == HEAD
    # On the page the refusal is Indonesian and nothing changes either.
    async with client_for(erk.app) as browser:
        await _as_employee(erk, browser, DEPUTY)
        page = await browser.get("/impor")
        r = await browser.post(
            "/impor/pegawai",
            data={"csrf_token": csrf(page)},
            files={"berkas": ("p.csv", (HEADER + row).encode(), "text/csv")},
        )
        assert r.status_code == 422, r.text
        assert "Anda tidak dapat menjadikan diri sendiri atasan lewat impor" in r.text
        assert "nobody makes" not in r.text
    assert (await _employee(erk, CHIEF)).supervisor_nip == HEAD
    # A unit admin who already supervises someone (set by HR) may re-import that row as it is.
    chief = await erk.grant(CHIEF, ["unit_admin"], unit="BIDANG")
    same = HEADER + f"{STAFF};Staf;BIDANG;Staf;7;III/a;{CHIEF};5.000.000;1\n"
    r = await _import(erk, same, chief)
    assert r.status_code == 201, r.text  # type: ignore[attr-defined]


async def test_an_import_cannot_close_a_loop_in_the_supervisor_chain(erk: Erk) -> None:
    await erk.tree()
    # CHIEF supervises STAFF; a row making STAFF the supervisor of CHIEF closes the loop, and so
    # do two rows of the same file naming each other.
    looped = HEADER + f"{CHIEF};Kabid;BIDANG;Kabid;7;III/d;{STAFF};7.000.000;1\n"
    body = assert_problem(await _import(erk, looped, erk.hr), 422, "import-rejected")  # type: ignore[arg-type]
    assert "the supervisor chain would lead back to the employee" in _errors(body)
    pair = (
        HEADER
        + f"{STAFF};Staf;BIDANG;Staf;7;III/a;{STAFF2};5.000.000;1\n"
        + f"{STAFF2};Staf;BIDANG;Staf;7;III/a;{STAFF};5.000.000;1\n"
    )
    body = assert_problem(await _import(erk, pair, erk.hr), 422, "import-rejected")  # type: ignore[arg-type]
    assert [r["row"] for r in body["rows"]] == [2, 3]  # type: ignore[index, union-attr]
    assert (await _employee(erk, CHIEF)).supervisor_nip == HEAD
    assert (await _employee(erk, STAFF)).supervisor_nip == CHIEF
    assert (await _employee(erk, STAFF2)).supervisor_nip == CHIEF


async def test_a_unit_admin_changes_no_pay_input_by_import(erk: Erk) -> None:
    await erk.tree()
    erk.at(dt.date(2025, 3, 12))
    admin = await erk.grant(CHIEF, ["unit_admin"], unit="BIDANG")
    cases = {
        "job_class": HEADER + f"{STAFF};Staf;BIDANG;Staf;12;III/a;{CHIEF};5.000.000;1\n",
        "employment_status": (
            "nip;name;unit_code;job_class;tpp_base_idr;employment_status\n"
            f"{STAFF};Staf;BIDANG;7;5.000.000;cpns\n"
        ),
        "ptkp_status": (f"nip;name;unit_code;job_class;ptkp_status\n{STAFF};Staf;BIDANG;7;K/3\n"),
        "left_on": f"nip;name;unit_code;job_class;left_on\n{STAFF};Staf;BIDANG;7;2025-03-01\n",
        # an inactive employee drops out of the month's recap: that is a pay decision too
        "active": f"nip;name;unit_code;job_class;active\n{STAFF};Staf;BIDANG;7;0\n",
    }
    for field, text in cases.items():
        body = assert_problem(await _import(erk, text, admin), 422, "import-rejected")  # type: ignore[arg-type]
        assert f"only HR (BKPSDM) changes {field}" in _errors(body), field
    staff = await _employee(erk, STAFF)
    assert (staff.job_class, staff.employment_status, staff.ptkp_status, staff.left_on) == (
        7,
        "pns",
        "TK/0",
        None,
    )
    assert staff.active
    async with erk.app.state.db.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(EmployeeGrade)) == 0
    # HR changes the same inputs by import.
    r = await _import(erk, cases["job_class"], erk.hr)
    assert r.status_code == 201, r.text  # type: ignore[attr-defined]
    assert (await _employee(erk, STAFF)).job_class == 12


async def test_a_column_the_file_lacks_keeps_the_stored_value(erk: Erk) -> None:
    await erk.tree()
    erk.at(dt.date(2025, 3, 12))
    full = FULL + (
        f"{STAFF},Staf,BIDANG,7,5.000.000,Analis,III/b,{CHIEF},1,cpns,K/1,4.000.000,2020-01-01,\n"
    )
    r = await _import(erk, full, erk.hr)
    assert r.status_code == 201, r.text  # type: ignore[attr-defined]
    stored = ("Analis", "III/b", CHIEF, 5_000_000, True, "cpns", "K/1", 4_000_000)
    stored_dates = (dt.date(2020, 1, 1), None)

    def kept(e: Employee) -> tuple[object, ...]:
        return (
            e.position,
            e.rank,
            e.supervisor_nip,
            e.tpp_base_idr,
            e.active,
            e.employment_status,
            e.ptkp_status,
            e.salary_gross_idr,
        )

    # HR's file with only the required columns renames and keeps everything else.
    r = await _import(erk, f"nip,name,unit_code,job_class\n{STAFF},Staf Baru,BIDANG,7\n", erk.hr)
    assert r.status_code == 201, r.text  # type: ignore[attr-defined]
    staff = await _employee(erk, STAFF)
    assert staff.name == "Staf Baru"
    assert kept(staff) == stored
    assert (staff.joined_on, staff.left_on) == stored_dates
    # A unit admin's file of the older layout (no status, salary, PTKP or date columns) neither
    # turns the CPNS into a PNS nor zeroes the salary: it is accepted and changes only the name.
    admin = await erk.grant(CHIEF, ["unit_admin"], unit="BIDANG")
    older = HEADER + f"{STAFF};Staf Lagi;BIDANG;Analis;7;III/b;{CHIEF};5.000.000;1\n"
    r = await _import(erk, older, admin)
    assert r.status_code == 201, r.text  # type: ignore[attr-defined]
    staff = await _employee(erk, STAFF)
    assert staff.name == "Staf Lagi"
    assert kept(staff) == stored
    assert (staff.joined_on, staff.left_on) == stored_dates


async def test_a_unit_admin_cannot_make_itself_a_supervisor_through_the_api(erk: Erk) -> None:
    """The API holds the import's rule: registering a person does not make one their supervisor."""
    await erk.tree()
    admin = await erk.grant(DEPUTY, ["unit_admin"], unit="BIDANG")
    body = {
        "nip": "199505052020122004",
        "name": "Staf Baru",
        "unit_code": "BIDANG",
        "tpp_base_idr": 0,  # a unit admin gives no pay input (an amount of 0 sets nothing)
    }
    r = await erk.client.post(
        "/api/v1/employees", json={**body, "supervisor_nip": DEPUTY}, headers=admin
    )
    assert_problem(r, 422, "invalid-delegation")
    async with erk.app.state.db.sessionmaker() as session:
        found = await session.scalar(select(Employee).where(Employee.nip == body["nip"]))
    assert found is None
    # under an existing supervisor the same person is registered
    r = await erk.client.post(
        "/api/v1/employees", json={**body, "supervisor_nip": CHIEF}, headers=admin
    )
    assert r.status_code == 201, r.text
