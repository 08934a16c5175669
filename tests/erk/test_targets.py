"""Annual targets (SKP): proposed by the employee, approved by the supervisor, linked to work."""

from __future__ import annotations

import datetime as dt

from shared.testing import assert_problem

from .conftest import CHIEF, HEAD, STAFF, STAFF2, Erk


async def test_target_lifecycle_and_linking(erk: Erk) -> None:
    await erk.tree()
    erk.at(dt.date(2025, 3, 12))
    staff = await erk.login(STAFF)
    r = await erk.client.post(
        "/api/v1/targets",
        json={
            "year": 2025,
            "title": "Laporan kinerja bulanan",
            "quantity": 12,
            "output_unit": "dok",
        },
        headers=staff,
    )
    assert r.status_code == 201, r.text
    target = r.json()
    assert target["status"] == "proposed"

    r = await erk.client.post(f"/api/v1/targets/{target['id']}/approve", headers=staff)
    assert_problem(r, 403, "self-verification")
    r = await erk.client.post(
        f"/api/v1/targets/{target['id']}/approve", headers=await erk.login(STAFF2)
    )
    assert_problem(r, 403, "not-verifier")
    r = await erk.client.post(
        f"/api/v1/targets/{target['id']}/approve", headers=await erk.login(CHIEF)
    )
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["approved_by"]) == ("approved", CHIEF)

    body = {"date": "2025-03-10", "description": "Menyusun laporan", "minutes": 60}
    r = await erk.client.post(
        "/api/v1/activities", json={**body, "target_id": target["id"]}, headers=staff
    )
    assert r.status_code == 201, r.text
    assert r.json()["target_id"] == target["id"]
    r = await erk.client.post(
        "/api/v1/activities",
        json={**body, "target_id": target["id"]},
        headers=await erk.login(STAFF2),
    )
    assert_problem(r, 404, "target-not-found")
    mine = await erk.client.get("/api/v1/activities", headers=await erk.login(STAFF2))
    assert mine.json()["items"] == []

    listed = await erk.client.get(
        "/api/v1/targets", params={"nip": STAFF}, headers=await erk.login(HEAD)
    )
    assert [t["id"] for t in listed.json()] == [target["id"]]
    r = await erk.client.get(
        "/api/v1/targets", params={"nip": STAFF}, headers=await erk.login(STAFF2)
    )
    assert_problem(r, 403, "not-your-subordinate")
