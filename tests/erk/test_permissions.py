"""Permissions fixed at the root: the employee's current unit, pay inputs, own records, password
resets by rank, and who may appoint an acting official (reproduced findings)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from erk.models import Attendance, AuditEvent, Employee
from shared.testing import assert_problem, user_headers

from .conftest import CHIEF, HEAD, OTHER, STAFF, STAFF2, Erk

HEADER = "nip;name;unit_code;position;job_class;rank;supervisor_nip;tpp_base_idr;active\n"


async def _employee(erk: Erk, nip: str) -> Employee:
    async with erk.app.state.db.sessionmaker() as session:
        found = await session.scalar(select(Employee).where(Employee.nip == nip))
    assert found is not None
    return found


async def _import(erk: Erk, text: str, headers: dict[str, str]) -> object:
    files = {"file": ("pegawai.csv", text.encode(), "text/csv")}
    return await erk.client.post("/api/v1/employees/import", files=files, headers=headers)


async def test_unit_admin_import_cannot_pull_in_an_employee_of_another_unit(erk: Erk) -> None:
    await erk.tree()
    admin = await erk.grant(CHIEF, ["unit_admin"], unit="BIDANG")
    before = await _employee(erk, OTHER)
    # OTHER works in LAIN; the row names BIDANG (inside the admin's scope) and a higher base.
    r = await _import(erk, HEADER + f"{OTHER};Pindahan;BIDANG;Staf;7;III/a;;99.000.000;1\n", admin)
    body = assert_problem(r, 422, "import-rejected")  # type: ignore[arg-type]
    errors = body["rows"][0]["errors"]
    assert any("currently in a unit outside" in e for e in errors)
    assert any("TPP base" in e for e in errors)
    after = await _employee(erk, OTHER)
    assert (after.unit_id, after.tpp_base_idr) == (before.unit_id, before.tpp_base_idr)


async def test_unit_admin_cannot_set_any_tpp_base_nor_its_own_record(erk: Erk) -> None:
    await erk.tree()
    admin = await erk.grant(CHIEF, ["unit_admin"], unit="BIDANG")
    own = HEADER + f"{CHIEF};Kabid;BIDANG;Kabid;9;III/d;{HEAD};250.000.000;1\n"
    body = assert_problem(await _import(erk, own, admin), 422, "import-rejected")  # type: ignore[arg-type]
    assert any("own employee record" in e for e in body["rows"][0]["errors"])
    raise_staff = HEADER + f"{STAFF};Staf;BIDANG;Staf;7;III/a;{CHIEF};99.000.000;1\n"
    body = assert_problem(await _import(erk, raise_staff, admin), 422, "import-rejected")  # type: ignore[arg-type]
    assert any("TPP base" in e for e in body["rows"][0]["errors"])
    assert (await _employee(erk, CHIEF)).tpp_base_idr == 7_000_000
    assert (await _employee(erk, STAFF)).tpp_base_idr == 5_000_000
    # The same row with the base unchanged is fine: unit admins maintain people, not pay.
    same = HEADER + f"{STAFF};Staf Baru;BIDANG;Analis;7;III/a;{CHIEF};5.000.000;1\n"
    r = await _import(erk, same, admin)
    assert r.status_code == 201, r.text  # type: ignore[attr-defined]
    r = await erk.client.post(
        "/api/v1/employees",
        json={
            "nip": "199505052020122004",
            "name": "Staf Baru",
            "unit_code": "BIDANG",
            "job_class": 5,
            "tpp_base_idr": 3_000_000,
        },
        headers=admin,
    )
    assert_problem(r, 403, "pay-input-forbidden")
    # HR still sets bases by import.
    r = await _import(erk, raise_staff.replace("99.000.000", "5.500.000"), erk.hr)
    assert r.status_code == 201, r.text  # type: ignore[attr-defined]
    assert (await _employee(erk, STAFF)).tpp_base_idr == 5_500_000


async def test_hr_cannot_reset_the_password_of_an_admin_account(erk: Erk) -> None:
    await erk.tree()
    await erk.grant(HEAD, ["admin"])
    r = await erk.client.post(
        f"/api/v1/employees/{HEAD}/password", json={"password": "ambil-alih-123"}, headers=erk.hr
    )
    assert_problem(r, 403, "account-outranked")
    # Nor another HR account, nor a bare admin account named like a NIP.
    await user_headers(erk.app, erk.client, "199001012015031999", ["admin"])
    r = await erk.client.post(
        "/api/v1/employees/199001012015031999/password",
        json={"password": "ambil-alih-123"},
        headers=erk.hr,
    )
    assert_problem(r, 403, "account-outranked")
    r = await erk.client.post(
        "/api/v1/auth/token", data={"username": HEAD, "password": "ambil-alih-123"}
    )
    assert r.status_code == 401
    # An employee's password HR may reset; an admin may reset HR's.
    r = await erk.client.post(
        f"/api/v1/employees/{STAFF}/password", json={"password": "sandi-baru-123"}, headers=erk.hr
    )
    assert r.status_code == 204


async def test_unit_admin_cannot_appoint_itself_acting_supervisor(erk: Erk) -> None:
    await erk.tree()
    erk.at(dt.date(2025, 3, 12))
    # STAFF2 administers BIDANG and tries to act for CHIEF to approve STAFF's work.
    admin = await erk.grant(STAFF2, ["unit_admin"], unit="BIDANG")
    item = (await erk.log(STAFF, dt.date(2025, 3, 11), 120)).json()["id"]
    body = {"supervisor_nip": CHIEF, "start_date": "2025-03-01", "end_date": "2025-03-31"}
    r = await erk.client.post(
        "/api/v1/delegations", json={**body, "delegate_nip": STAFF2}, headers=admin
    )
    assert_problem(r, 403, "self-delegation")
    # Nor name a colleague: only CHIEF's superiors (HEAD) or HR appoint.
    r = await erk.client.post(
        "/api/v1/delegations", json={**body, "delegate_nip": STAFF}, headers=admin
    )
    assert_problem(r, 403, "not-delegator")
    r = await erk.client.post(
        f"/api/v1/activities/{item}/verify", json={"decision": "approved"}, headers=admin
    )
    assert_problem(r, 403, "not-verifier")
    # The chief's own supervisor may appoint STAFF2, and then STAFF2 verifies.
    r = await erk.client.post(
        "/api/v1/delegations",
        json={**body, "delegate_nip": STAFF2},
        headers=await erk.login(HEAD),
    )
    assert r.status_code == 201, r.text
    async with erk.app.state.db.sessionmaker() as session:
        events = await session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "delegation.created", AuditEvent.actor == HEAD)
        )
    assert events == 1


async def test_unit_admin_cannot_record_its_own_attendance(erk: Erk) -> None:
    await erk.tree()
    erk.at(dt.date(2025, 3, 12))
    admin = await erk.grant(CHIEF, ["unit_admin"], unit="BIDANG")
    r = await erk.client.post(
        "/api/v1/attendance",
        json={"nip": CHIEF, "date": "2025-03-11", "status": "present"},
        headers=admin,
    )
    assert_problem(r, 403, "own-record")
    files = {
        "file": ("absen.csv", f"nip,date,status\n{CHIEF},2025-03-11,present\n".encode(), "text/csv")
    }
    r = await erk.client.post("/api/v1/attendance/import", files=files, headers=admin)
    body = assert_problem(r, 422, "import-rejected")
    assert any("own attendance" in e for e in body["rows"][0]["errors"])
    async with erk.app.state.db.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Attendance)) == 0
    r = await erk.client.post(
        "/api/v1/attendance",
        json={"nip": STAFF, "date": "2025-03-11", "status": "present"},
        headers=admin,
    )
    assert r.status_code == 201, r.text
