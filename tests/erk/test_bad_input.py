"""Bad input gets a clear 4xx problem, never a 500."""

from __future__ import annotations

import datetime as dt

from shared.testing import assert_problem, user_headers

from .conftest import CHIEF, STAFF, STAFF2, Erk


async def test_malformed_requests_are_4xx_problems(erk: Erk) -> None:
    await erk.tree()
    erk.at(dt.date(2025, 3, 12))
    staff = await erk.login(STAFF)
    cases = [
        ("GET", "/api/v1/activities?nip=123", None, 422),
        ("GET", "/api/v1/activities?month=2025-1", None, 422),
        ("GET", "/api/v1/activities?cursor=!!", None, 400),
        ("GET", "/api/v1/me/recap/2025-00", None, 422),
        ("POST", "/api/v1/verifications", {"activity_ids": [], "decision": "approved"}, 422),
        ("POST", "/api/v1/activities/1/verify", {"decision": "maybe"}, 422),
        ("POST", "/api/v1/activities/999/verify", {"decision": "approved"}, 404),
        ("PATCH", "/api/v1/activities/999", {"minutes": 10}, 404),
        ("POST", "/api/v1/activities", {"date": "kemarin", "description": "x", "minutes": 1}, 422),
        ("POST", "/api/v1/activities", {"date": "2025-03-10", "minutes": 10}, 422),
    ]
    for method, url, body, status in cases:
        r = await erk.client.request(method, url, json=body, headers=staff)
        assert_problem(r, status)
    r = await erk.client.post(
        "/api/v1/employees/import",
        files={"file": ("x.csv", b"\xff\xfe\x00bad", "text/csv")},
        headers=erk.hr,
    )
    assert_problem(r, 422, "import-rejected")
    r = await erk.client.post(
        "/api/v1/delegations",
        json={
            "supervisor_nip": CHIEF,
            "delegate_nip": CHIEF,
            "start_date": "2025-03-10",
            "end_date": "2025-03-01",
        },
        headers=erk.hr,
    )
    assert_problem(r, 422, "invalid-delegation")


async def test_an_account_without_employee_record_cannot_log(erk: Erk) -> None:
    await erk.tree()
    erk.at(dt.date(2025, 3, 12))
    headers = await user_headers(erk.app, erk.client, "199101012019031001", ["employee"])
    r = await erk.client.post(
        "/api/v1/activities",
        json={"date": "2025-03-10", "description": "Rapat", "minutes": 30},
        headers=headers,
    )
    assert_problem(r, 403, "not-an-employee")


async def test_patch_ignores_nulls_for_required_fields(erk: Erk) -> None:
    await erk.tree()
    erk.at(dt.date(2025, 3, 12))
    created = (await erk.log(STAFF, dt.date(2025, 3, 10), 60, "Rapat awal")).json()
    r = await erk.client.patch(
        f"/api/v1/activities/{created['id']}",
        json={"description": None, "minutes": None, "output_unit": "notulen"},
        headers=await erk.login(STAFF),
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["description"], body["minutes"], body["output_unit"]) == (
        "Rapat awal",
        60,
        "notulen",
    )


async def test_a_bare_cr_in_an_import_is_read_as_a_line_end(erk: Erk) -> None:
    await erk.tree()
    erk.at(dt.date(2025, 3, 20))
    content = f"nip,date,status\r{STAFF},2025-03-10,present\r{STAFF2},2025-03-10,pre\rsent\r"
    files = {"file": ("absen.csv", content.encode(), "text/csv")}
    r = await erk.client.post("/api/v1/attendance/import", files=files, headers=erk.hr)
    body = assert_problem(r, 422, "import-rejected")
    assert [row["row"] for row in body["rows"]] == [3, 4]
    good = f"nip,date,status\r{STAFF},2025-03-10,present\r"
    files = {"file": ("absen.csv", good.encode(), "text/csv")}
    r = await erk.client.post("/api/v1/attendance/import", files=files, headers=erk.hr)
    assert r.status_code == 201, r.text
    quoted = f'nip,date,status\n{STAFF},2025-03-11,"pre\rsent\n'
    files = {"file": ("absen.csv", quoted.encode(), "text/csv")}
    r = await erk.client.post("/api/v1/attendance/import", files=files, headers=erk.hr)
    assert r.status_code == 422
