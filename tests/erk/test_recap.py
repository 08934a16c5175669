"""The monthly recap and TPP: the worked example of the domain brief, and closing a month."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update

from erk.config import TppRule
from erk.models import Activity, Recap
from shared.testing import assert_problem

from .conftest import CHIEF, STAFF, STAFF2, Erk, month_with_working_days


async def _worked_example(erk: Erk) -> tuple[str, dt.date]:
    """Base Rp5.000.000, 5.400 of 6.000 minutes verified, late twice (<= 30 min), absent once."""
    await erk.tree()
    first = month_with_working_days(erk.app, 20)
    days = erk.app.state.calendar.working_days_in_month(first.year, first.month)
    period = f"{first.year:04d}-{first.month:02d}"
    erk.at(days[-1] + dt.timedelta(days=3))
    ids = []
    for day in days[:12]:
        r = await erk.log(STAFF, day, 450)
        assert r.status_code == 201, r.text
        ids.append(r.json()["id"])
    r = await erk.client.post(
        "/api/v1/verifications",
        json={"activity_ids": ids, "decision": "approved"},
        headers=await erk.login(CHIEF),
    )
    assert r.status_code == 200, r.text
    for day, status, late in ((days[12], "present", 10), (days[13], "present", 30)):
        r = await erk.client.post(
            "/api/v1/attendance",
            json={"nip": STAFF, "date": day.isoformat(), "status": status, "minutes_late": late},
            headers=erk.hr,
        )
        assert r.status_code == 201, r.text
    r = await erk.client.post(
        "/api/v1/attendance",
        json={"nip": STAFF, "date": days[14].isoformat(), "status": "absent"},
        headers=erk.hr,
    )
    assert r.status_code == 201, r.text
    # Every other working day the fingerprint machine recorded both as present.
    await present_on(erk, [STAFF, STAFF2], [d for d in days if d not in days[12:15]])
    await present_on(erk, [STAFF2], days[12:15])
    return period, days[-1]


async def present_on(erk: Erk, nips: list[str], days: list[dt.date]) -> None:
    lines = ["nip,date,status"] + [f"{n},{d.isoformat()},present" for n in nips for d in days]
    files = {"file": ("absen.csv", "\n".join(lines).encode(), "text/csv")}
    r = await erk.client.post("/api/v1/attendance/import", files=files, headers=erk.hr)
    assert r.status_code == 201, r.text


def after_deadline(erk: Erk, period: str) -> None:
    """The day after the supervisors' verification deadline of `period`."""
    first = dt.date.fromisoformat(period + "-01")
    following = (first + dt.timedelta(days=32)).replace(day=1)
    deadline = erk.app.state.config.erk.verification_deadline_day
    erk.at(following.replace(day=deadline) + dt.timedelta(days=1))


def _row(body: dict, nip: str) -> dict:
    return next(item for item in body["items"] if item["nip"] == nip)


async def test_worked_example_holds_to_the_rupiah(erk: Erk) -> None:
    period, _ = await _worked_example(erk)
    r = await erk.client.get(f"/api/v1/recaps/{period}", headers=erk.hr)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["closed"] is False
    assert body["rule_version"] == "nasional-2020"
    row = _row(body, STAFF)
    assert row["working_days"] == 20
    assert row["standard_minutes"] == 6000
    assert row["verified_minutes"] == 5400
    assert row["performance_pct"] == 90.0
    assert row["discipline_pct"] == 88.0
    assert row["tpp_base_idr"] == 5_000_000
    assert row["tpp_performance_idr"] == 2_700_000
    assert row["tpp_discipline_idr"] == 1_760_000
    assert row["tpp_total_idr"] == 4_460_000
    text = "\n".join(row["explanation"])
    assert "Rp2.700.000" in text
    assert "Rp1.760.000" in text
    assert "Rp4.460.000" in text
    # Nobody logged or was absent: full discipline, no productivity.
    other = _row(body, STAFF2)
    assert (other["tpp_performance_idr"], other["tpp_discipline_idr"]) == (0, 2_000_000)

    me = await erk.client.get(f"/api/v1/me/recap/{period}", headers=await erk.login(STAFF))
    assert me.status_code == 200, me.text
    assert me.json()["tpp_total_idr"] == 4_460_000


async def test_closed_month_does_not_move_when_rules_or_data_change(erk: Erk) -> None:
    period, _ = await _worked_example(erk)
    after_deadline(erk, period)
    # The other employees have no attendance that month: HR closes knowingly (they are paid as
    # unexcused absence).
    r = await erk.client.post(f"/api/v1/periods/{period}/close", headers=erk.hr)
    assert r.json()["missing_attendance_days"] > 0, r.text
    r = await erk.client.post(
        f"/api/v1/periods/{period}/close", params={"anyway": "true"}, headers=erk.hr
    )
    assert r.status_code == 200, r.text
    assert r.json()["rule_version"] == "nasional-2020"
    before = (await erk.client.get(f"/api/v1/recaps/{period}", headers=erk.hr)).json()
    assert before["closed"] is True

    # A new Perkada: 70/30 from the first day of that month, and an activity edited in the database.
    first = dt.date.fromisoformat(period + "-01")
    config = erk.app.state.config
    new_rule = TppRule(
        version="perkada-baru", effective_from=first, weight_performance=70, weight_discipline=30
    )
    erk.app.state.config = config.model_copy(
        update={
            "erk": config.erk.model_copy(update={"tpp_rules": [*config.erk.tpp_rules, new_rule]})
        }
    )
    async with erk.app.state.db.sessionmaker.begin() as session:
        await session.execute(update(Activity).values(minutes=10))

    after = (await erk.client.get(f"/api/v1/recaps/{period}", headers=erk.hr)).json()
    assert after == before
    async with erk.app.state.db.sessionmaker() as session:
        versions = set(
            await session.scalars(select(Recap.rule_version).where(Recap.period == period))
        )
    assert versions == {"nasional-2020"}
    assert _row(after, STAFF)["tpp_total_idr"] == 4_460_000
    assert after["rule_version"] == "nasional-2020"

    # Closed months take no new activity and cannot be closed twice.
    day = dt.date.fromisoformat(period + "-01")
    while not erk.app.state.calendar.is_working_day(day):
        day += dt.timedelta(days=1)
    assert_problem(await erk.log(STAFF2, day, 30), 422, "entry-cutoff-passed")
    again = await erk.client.post(f"/api/v1/periods/{period}/close", headers=erk.hr)
    assert_problem(again, 409, "period-closed")


async def test_month_cannot_close_before_it_ends(erk: Erk) -> None:
    await erk.tree()
    erk.at(dt.date(2025, 3, 20))
    r = await erk.client.post("/api/v1/periods/2025-03/close", headers=erk.hr)
    assert_problem(r, 409, "period-not-over")
    r = await erk.client.post("/api/v1/periods/2025-13/close", headers=erk.hr)
    assert_problem(r, 422)


async def test_employees_cannot_read_the_recap_of_everyone(erk: Erk) -> None:
    await erk.tree()
    r = await erk.client.get("/api/v1/recaps/2025-01", headers=await erk.login(STAFF))
    assert_problem(r, 403, "forbidden")


async def test_recap_pages_by_nip_and_filters_by_unit(erk: Erk) -> None:
    await erk.tree()
    erk.at(dt.date(2025, 3, 20))
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        body = (
            await erk.client.get("/api/v1/recaps/2025-02", params=params, headers=erk.hr)
        ).json()
        assert len(body["items"]) <= 2
        seen += [row["nip"] for row in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(seen)
    assert len(seen) == 6
    bidang = await erk.client.get(
        "/api/v1/recaps/2025-02", params={"unit_code": "BIDANG"}, headers=erk.hr
    )
    assert {row["unit_code"] for row in bidang.json()["items"]} == {"BIDANG"}
    dinas = await erk.client.get(
        "/api/v1/recaps/2025-02", params={"unit_code": "DINAS"}, headers=erk.hr
    )
    assert {row["unit_code"] for row in dinas.json()["items"]} == {"DINAS", "BIDANG"}
    missing = await erk.client.get(
        "/api/v1/recaps/2025-02", params={"unit_code": "NOPE"}, headers=erk.hr
    )
    assert_problem(missing, 404, "unit-not-found")
