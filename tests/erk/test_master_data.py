"""Units, employees and their accounts, CSV imports, unit-admin scope."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from erk.models import Account, Attendance, Employee
from shared.testing import assert_problem, user_headers

from .conftest import CHIEF, HEAD, OTHER, STAFF, STAFF2, Erk

GOOD_CSV = (
    "nip;name;unit_code;position;job_class;rank;supervisor_nip;tpp_base_idr;active\n"
    "197001011995031001;Kepala Baru;DINAS;Kepala;12;IV/a;;9.000.000;1\n"
    "199505052020122001;Staf Baru;BIDANG;Pelaksana;5;II/c;197001011995031001;2500000;ya\n"
)


async def _count(erk: Erk, model: type) -> int:
    async with erk.app.state.db.sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_employee_account_has_no_usable_password_until_reset(erk: Erk) -> None:
    await erk.tree()
    async with erk.app.state.db.sessionmaker() as session:
        account = await session.scalar(select(Account).where(Account.username == STAFF))
    assert account is not None
    assert account.roles == ["employee"]
    assert account.must_change_password is True
    for guess in ("", "!", "password"):
        r = await erk.client.post("/api/v1/auth/token", data={"username": STAFF, "password": guess})
        assert r.status_code in (401, 422)
    headers = await erk.login(STAFF)
    me = await erk.client.get("/api/v1/auth/me", headers=headers)
    assert me.json()["username"] == STAFF


async def test_employee_import_creates_and_updates_all_rows(erk: Erk) -> None:
    await erk.tree()
    before = await _count(erk, Employee)
    files = {"file": ("pegawai.csv", GOOD_CSV.encode(), "text/csv")}
    r = await erk.client.post("/api/v1/employees/import", files=files, headers=erk.hr)
    assert r.status_code == 201, r.text
    assert r.json() == {"imported": 2, "created": 2, "updated": 0}
    assert await _count(erk, Employee) == before + 2
    updated = GOOD_CSV.replace("2500000", "2600000")
    files = {"file": ("pegawai.csv", updated.encode(), "text/csv")}
    r = await erk.client.post("/api/v1/employees/import", files=files, headers=erk.hr)
    assert r.json() == {"imported": 2, "created": 0, "updated": 2}
    r = await erk.client.get("/api/v1/employees/199505052020122001", headers=erk.hr)
    assert r.json()["tpp_base_idr"] == 2_600_000


async def test_employee_import_with_a_bad_row_imports_nothing(erk: Erk) -> None:
    await erk.tree()
    before = (await _count(erk, Employee), await _count(erk, Account))
    bad = GOOD_CSV + (
        "123;Nomor Salah;DINAS;x;5;;;100;1\n"
        "199505052020122002;Unit Salah;TIDAK-ADA;x;18;;;-5;1\n"
        "199505052020122003;Atasan Hilang;DINAS;x;5;;199505052020129999;100;1\n"
    )
    files = {"file": ("pegawai.csv", bad.encode(), "text/csv")}
    r = await erk.client.post("/api/v1/employees/import", files=files, headers=erk.hr)
    body = assert_problem(r, 422, "import-rejected")
    assert [row["row"] for row in body["rows"]] == [4, 5, 6]
    assert any("unit_code" in e for e in body["rows"][1]["errors"])
    assert any("job_class" in e for e in body["rows"][1]["errors"])
    assert (await _count(erk, Employee), await _count(erk, Account)) == before


async def test_attendance_import_is_all_or_nothing(erk: Erk) -> None:
    await erk.tree()
    erk.at(dt.date(2025, 3, 20))
    good = f"nip,date,status,minutes_late,minutes_early\n{STAFF},2025-03-10,present,12,0\n"
    bad = good + f"{CHIEF},2025-03-10,libur,0,0\n{STAFF},2025-03-40,present,0,0\n"
    files = {"file": ("absen.csv", bad.encode(), "text/csv")}
    r = await erk.client.post("/api/v1/attendance/import", files=files, headers=erk.hr)
    body = assert_problem(r, 422, "import-rejected")
    assert [row["row"] for row in body["rows"]] == [3, 4]
    assert await _count(erk, Attendance) == 0
    files = {"file": ("absen.csv", good.encode(), "text/csv")}
    r = await erk.client.post("/api/v1/attendance/import", files=files, headers=erk.hr)
    assert r.status_code == 201, r.text
    assert await _count(erk, Attendance) == 1


async def test_unit_admin_is_scoped_to_their_unit(erk: Erk) -> None:
    await erk.tree()
    admin = await user_headers(erk.app, erk.client, "admin-bidang", ["unit_admin"], unit="BIDANG")
    r = await erk.client.post(
        "/api/v1/employees",
        json={
            "nip": "199505052020122004",
            "name": "Staf Lain",
            "unit_code": "LAIN",
            "job_class": 5,
            "tpp_base_idr": 100,
        },
        headers=admin,
    )
    assert_problem(r, 403, "out-of-unit-scope")
    r = await erk.client.get("/api/v1/recaps/2025-01", params={"unit_code": "LAIN"}, headers=admin)
    assert_problem(r, 403, "out-of-unit-scope")
    r = await erk.client.get("/api/v1/recaps/2025-01", headers=admin)
    assert r.status_code == 200
    assert {row["unit_code"] for row in r.json()["items"]} == {"BIDANG"}


async def test_roles_are_checked(erk: Erk) -> None:
    await erk.tree()
    staff = await erk.login(STAFF)
    r = await erk.client.post("/api/v1/units", json={"code": "X", "name": "Unit X"}, headers=staff)
    assert_problem(r, 403, "forbidden")
    r = await erk.client.post("/api/v1/periods/2025-01/close", headers=staff)
    assert_problem(r, 403, "forbidden")
    auditor = await user_headers(erk.app, erk.client, "inspektorat", ["auditor"])
    r = await erk.client.get("/api/v1/recaps/2025-01", headers=auditor)
    assert r.status_code == 200
    r = await erk.client.post("/api/v1/attendance", json={}, headers=auditor)
    assert_problem(r, 403)
    r = await erk.client.post(
        "/api/v1/units", json={"code": "DINAS", "name": "Lagi"}, headers=erk.hr
    )
    assert_problem(r, 409, "duplicate-unit")


async def test_delegations_come_from_hr_or_the_supervisors_superiors(erk: Erk) -> None:
    await erk.tree()
    admin = await user_headers(erk.app, erk.client, "admin-bidang", ["unit_admin"], unit="BIDANG")
    body = {"delegate_nip": STAFF, "start_date": "2025-03-01", "end_date": "2025-03-05"}
    r = await erk.client.post(
        "/api/v1/delegations", json={**body, "supervisor_nip": CHIEF}, headers=admin
    )
    assert_problem(r, 403, "forbidden")
    r = await erk.client.post(
        "/api/v1/delegations",
        json={**body, "supervisor_nip": CHIEF},
        headers=await erk.login(STAFF2),
    )
    assert_problem(r, 403, "not-delegator")
    r = await erk.client.post(
        "/api/v1/delegations", json={**body, "supervisor_nip": HEAD}, headers=erk.hr
    )
    assert r.status_code == 201, r.text
    r = await erk.client.post(
        "/api/v1/delegations",
        json={**body, "supervisor_nip": CHIEF},
        headers=await erk.login(HEAD),
    )
    assert r.status_code == 201, r.text


async def test_employee_master_data_is_visible_to_self_supervisors_and_admins(erk: Erk) -> None:
    await erk.tree()
    for reader, status in ((STAFF, 200), (CHIEF, 200), (HEAD, 200), (STAFF2, 403), (OTHER, 403)):
        r = await erk.client.get(f"/api/v1/employees/{STAFF}", headers=await erk.login(reader))
        assert r.status_code == status, (reader, r.text)
    r = await erk.client.get(f"/api/v1/employees/{STAFF}", headers=erk.hr)
    assert r.json()["supervisor_nip"] == CHIEF
    assert r.json()["tpp_base_idr"] == 5_000_000
    r = await erk.client.get(f"/api/v1/employees/{STAFF}", headers=await erk.login(STAFF))
    assert r.json()["tpp_base_idr"] == 5_000_000
    r = await erk.client.get(f"/api/v1/employees/{STAFF}", headers=await erk.login(CHIEF))
    assert r.json()["tpp_base_idr"] is None
    r = await erk.client.get("/api/v1/employees/199912312020121999", headers=erk.hr)
    assert_problem(r, 404, "employee-not-found")


async def test_auditors_read_everything_and_change_nothing(erk: Erk) -> None:
    await erk.tree()
    erk.at(dt.date(2025, 3, 12))
    auditor = await user_headers(erk.app, erk.client, "inspektorat", ["auditor"])
    r = await erk.client.post(
        "/api/v1/targets",
        json={"nip": STAFF, "year": 2025, "title": "Sasaran titipan"},
        headers=auditor,
    )
    assert_problem(r, 403, "out-of-unit-scope")
    assert (await erk.log(STAFF, dt.date(2025, 3, 10), 60)).status_code == 201
    r = await erk.client.get("/api/v1/activities", headers=auditor)
    assert len(r.json()["items"]) == 1
    r = await erk.client.get("/api/v1/targets", params={"nip": STAFF}, headers=auditor)
    assert r.json() == []
