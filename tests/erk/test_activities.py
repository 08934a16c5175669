"""Every rule of daily activity logging refuses with a 4xx problem and writes nothing."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import func, select

from erk.models import Activity, AuditEvent
from shared.testing import assert_problem, client_for

from .conftest import CHIEF, DEPUTY, HEAD, OTHER, STAFF, STAFF2, Erk

TODAY = dt.date(2025, 3, 12)  # a Wednesday; 10 March 2025 is a Monday


async def _counts(erk: Erk) -> tuple[int, int]:
    async with erk.app.state.db.sessionmaker() as session:
        activities = await session.scalar(select(func.count()).select_from(Activity))
        events = await session.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.entity_type == "activity")
        )
    return int(activities or 0), int(events or 0)


@pytest.fixture
async def ready(erk: Erk) -> Erk:
    await erk.tree()
    erk.at(TODAY)
    await erk.login(STAFF)
    return erk


async def test_an_activity_is_logged_and_audited(ready: Erk) -> None:
    r = await ready.log(STAFF, dt.date(2025, 3, 10), 120)
    assert r.status_code == 201, r.text
    body = r.json()
    assert (body["status"], body["minutes"], body["nip"]) == ("submitted", 120, STAFF)
    assert await _counts(ready) == (1, 1)


async def test_future_dates_are_refused(ready: Erk) -> None:
    r = await ready.log(STAFF, TODAY + dt.timedelta(days=1), 60)
    assert_problem(r, 422, "activity-date-in-future")
    assert await _counts(ready) == (0, 0)


async def test_entries_after_the_cutoff_are_refused(ready: Erk) -> None:
    # February is open until 5 March; on 12 March it is not.
    r = await ready.log(STAFF, dt.date(2025, 2, 27), 60)
    assert_problem(r, 422, "entry-cutoff-passed")
    assert await _counts(ready) == (0, 0)
    ready.at(dt.date(2025, 3, 5), hour=23)
    r = await ready.log(STAFF, dt.date(2025, 2, 27), 60)
    assert r.status_code == 201, r.text


async def test_no_closing_while_entries_are_still_open(ready: Erk) -> None:
    ready.at(dt.date(2025, 3, 3))  # February is still open for entries until 5 March...
    assert (await ready.log(STAFF, dt.date(2025, 2, 26), 60)).status_code == 201
    r = await ready.client.post("/api/v1/periods/2025-02/close", headers=ready.hr)
    assert_problem(r, 409, "period-not-over")  # ...so BKPSDM cannot close it early
    r = await ready.client.post(
        "/api/v1/periods/2025-02/close", params={"anyway": "true"}, headers=ready.hr
    )
    assert_problem(r, 409, "period-not-over")  # not even "anyway"
    assert (await ready.log(STAFF, dt.date(2025, 2, 27), 60)).status_code == 201


async def test_cutoff_is_local_midnight_not_utc(ready: Erk) -> None:
    # 6 March 00:30 WIB is still 5 March in UTC; the regency's day has already moved on.
    moment = dt.datetime(2025, 3, 5, 17, 30, tzinfo=dt.UTC)
    ready.app.state.clock = lambda: moment
    r = await ready.log(STAFF, dt.date(2025, 2, 27), 60)
    assert_problem(r, 422, "entry-cutoff-passed")


@pytest.mark.parametrize("minutes", [0, -30, 12.5, "banyak"])
async def test_minutes_must_be_a_positive_whole_number(ready: Erk, minutes: object) -> None:
    r = await ready.client.post(
        "/api/v1/activities",
        json={"date": "2025-03-10", "description": "Rapat koordinasi", "minutes": minutes},
        headers=await ready.login(STAFF),
    )
    assert_problem(r, 422, "validation-error")
    assert await _counts(ready) == (0, 0)


async def test_the_daily_cap_counts_what_is_already_logged(ready: Erk) -> None:
    assert (await ready.log(STAFF, dt.date(2025, 3, 10), 400)).status_code == 201
    r = await ready.log(STAFF, dt.date(2025, 3, 10), 51)
    body = assert_problem(r, 422, "daily-cap-exceeded")
    assert (body["logged_minutes"], body["daily_cap_minutes"]) == (400, 450)
    assert await _counts(ready) == (1, 1)
    assert (await ready.log(STAFF, dt.date(2025, 3, 10), 50)).status_code == 201


async def test_the_cap_comes_from_the_regency_configuration(make_app: Any) -> None:
    app = await make_app("erk", config_toml="[erk]\ndaily_cap_minutes = 300\n")
    async with client_for(app) as client:
        helper = Erk(app, client)
        await helper.tree()
        helper.at(TODAY)
        r = await helper.log(STAFF, dt.date(2025, 3, 10), 301)
        assert_problem(r, 422, "daily-cap-exceeded")


@pytest.mark.parametrize("status", ["leave", "sick", "absent"])
async def test_no_activity_on_a_day_of_leave_or_absence(ready: Erk, status: str) -> None:
    r = await ready.client.post(
        "/api/v1/attendance",
        json={"nip": STAFF, "date": "2025-03-11", "status": status},
        headers=ready.hr,
    )
    assert r.status_code == 201, r.text
    r = await ready.log(STAFF, dt.date(2025, 3, 11), 60)
    assert_problem(r, 422, "absent-on-date")
    assert await _counts(ready) == (0, 0)


async def test_duty_travel_reduces_the_standard_instead_of_taking_entries(ready: Erk) -> None:
    r = await ready.client.post(
        "/api/v1/attendance",
        json={"nip": STAFF, "date": "2025-03-11", "status": "duty_travel"},
        headers=ready.hr,
    )
    assert r.status_code == 201
    assert_problem(await ready.log(STAFF, dt.date(2025, 3, 11), 60), 422, "absent-on-date")


async def test_no_activity_on_a_weekend_or_holiday(ready: Erk) -> None:
    before = await _counts(ready)
    for day in (dt.date(2025, 3, 9), dt.date(2025, 3, 8), dt.date(2025, 1, 29)):  # Imlek
        assert_problem(await ready.log(STAFF, day, 60), 422, "non-working-day")
    assert await _counts(ready) == before


async def test_an_employee_cannot_verify_their_own_entries(ready: Erk) -> None:
    r = await ready.log(STAFF, dt.date(2025, 3, 10), 60)
    activity_id = r.json()["id"]
    for url, body in (
        (f"/api/v1/activities/{activity_id}/verify", {"decision": "approved"}),
        ("/api/v1/verifications", {"activity_ids": [activity_id], "decision": "approved"}),
    ):
        r = await ready.client.post(url, json=body, headers=await ready.login(STAFF))
        assert_problem(r, 403, "self-verification")
    listed = await ready.client.get("/api/v1/activities", headers=await ready.login(STAFF))
    assert [a["status"] for a in listed.json()["items"]] == ["submitted"]
    assert await _counts(ready) == (1, 1)


async def test_bulk_verification_is_all_or_nothing(ready: Erk) -> None:
    mine = (await ready.log(STAFF, dt.date(2025, 3, 10), 60)).json()["id"]
    foreign = (await ready.log(OTHER, dt.date(2025, 3, 10), 60)).json()["id"]
    r = await ready.client.post(
        "/api/v1/verifications",
        json={"activity_ids": [mine, foreign], "decision": "approved"},
        headers=await ready.login(CHIEF),
    )
    assert_problem(r, 403, "not-verifier")
    r = await ready.client.post(
        "/api/v1/verifications",
        json={"activity_ids": [mine, 999999], "decision": "approved"},
        headers=await ready.login(CHIEF),
    )
    assert_problem(r, 404, "activity-not-found")
    listed = await ready.client.get(
        "/api/v1/activities", params={"nip": STAFF}, headers=await ready.login(CHIEF)
    )
    assert [a["status"] for a in listed.json()["items"]] == ["submitted"]


async def test_only_supervisors_read_someone_elses_activities(ready: Erk) -> None:
    assert (await ready.log(STAFF, dt.date(2025, 3, 10), 60)).status_code == 201
    for reader in (STAFF2, OTHER, DEPUTY):
        r = await ready.client.get(
            "/api/v1/activities", params={"nip": STAFF}, headers=await ready.login(reader)
        )
        assert_problem(r, 403, "not-your-subordinate")
    for reader in (CHIEF, HEAD):
        r = await ready.client.get(
            "/api/v1/activities", params={"nip": STAFF}, headers=await ready.login(reader)
        )
        assert r.status_code == 200, r.text
        assert len(r.json()["items"]) == 1
    # Without a nip an employee sees only their own.
    r = await ready.client.get("/api/v1/activities", headers=await ready.login(STAFF2))
    assert r.json()["items"] == []
    r = await ready.client.get("/api/v1/activities", params={"month": "2025-03"}, headers=ready.hr)
    assert len(r.json()["items"]) == 1


async def test_a_delegate_reads_and_verifies_only_during_the_delegation(ready: Erk) -> None:
    activity_id = (await ready.log(STAFF, dt.date(2025, 3, 10), 60)).json()["id"]
    r = await ready.client.post(
        "/api/v1/delegations",
        json={
            "supervisor_nip": CHIEF,
            "delegate_nip": DEPUTY,
            "start_date": "2025-03-13",
            "end_date": "2025-03-14",
        },
        headers=ready.hr,
    )
    assert r.status_code == 201
    deputy = await ready.login(DEPUTY)
    r = await ready.client.get("/api/v1/activities", params={"nip": STAFF}, headers=deputy)
    assert_problem(r, 403, "not-your-subordinate")
    ready.at(dt.date(2025, 3, 13))
    r = await ready.client.get("/api/v1/activities", params={"nip": STAFF}, headers=deputy)
    assert r.status_code == 200
    ready.at(dt.date(2025, 3, 17))
    r = await ready.client.post(
        f"/api/v1/activities/{activity_id}/verify", json={"decision": "approved"}, headers=deputy
    )
    assert_problem(r, 403, "not-verifier")


async def test_a_rejected_activity_can_be_corrected_only_until_the_cutoff(ready: Erk) -> None:
    activity_id = (await ready.log(STAFF, dt.date(2025, 3, 10), 60)).json()["id"]
    r = await ready.client.post(
        f"/api/v1/activities/{activity_id}/verify",
        json={"decision": "rejected", "note": "Bukti tidak ada"},
        headers=await ready.login(CHIEF),
    )
    assert r.status_code == 200
    ready.at(dt.date(2025, 4, 7))
    r = await ready.client.patch(
        f"/api/v1/activities/{activity_id}", json={"minutes": 30}, headers=await ready.login(STAFF)
    )
    assert_problem(r, 422, "entry-cutoff-passed")
    r = await ready.client.patch(
        f"/api/v1/activities/{activity_id}", json={"minutes": 30}, headers=await ready.login(STAFF2)
    )
    assert_problem(r, 403, "not-your-activity")


async def test_idempotency_key_returns_the_first_response(ready: Erk) -> None:
    headers = {**await ready.login(STAFF), "Idempotency-Key": "k-1"}
    body = {"date": "2025-03-10", "description": "Rapat", "minutes": 60}
    first = await ready.client.post("/api/v1/activities", json=body, headers=headers)
    again = await ready.client.post("/api/v1/activities", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert await _counts(ready) == (1, 1)


async def test_a_retry_that_the_first_try_would_refuse_still_gets_the_first_answer(
    ready: Erk,
) -> None:
    # The first try filled the day's cap: run again, the rules would refuse the entry (422
    # daily-cap-exceeded), but the retry is answered from the store, and nothing is written twice.
    headers = {**await ready.login(STAFF), "Idempotency-Key": "k-cap"}
    body = {"date": "2025-03-10", "description": "Pelatihan sehari penuh", "minutes": 450}
    first = await ready.client.post("/api/v1/activities", json=body, headers=headers)
    again = await ready.client.post("/api/v1/activities", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    other = await ready.client.post(
        "/api/v1/activities", json={**body, "minutes": 30}, headers=headers
    )
    assert_problem(other, 422, "idempotency-key-reused")
    fresh = await ready.client.post(
        "/api/v1/activities",
        json={**body, "minutes": 30},
        headers={**headers, "Idempotency-Key": "k-cap-2"},
    )
    assert_problem(fresh, 422, "daily-cap-exceeded")
    assert await _counts(ready) == (1, 1)
