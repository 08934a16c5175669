"""The demo data: units, about 50 employees in a tree, activities and attendance in every state."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from erk import demo
from erk.main import build_spec
from erk.models import Activity, Attendance, Employee
from shared.testing import bearer, client_for


async def test_demo_seed_is_complete_and_repeatable(make_app: Any) -> None:
    app = await make_app("erk")
    spec = build_spec(app.state.settings, app.state.config)
    for _ in range(2):
        async with app.state.db.sessionmaker.begin() as session:
            logins = await demo.seed(session, spec)
    assert {roles[0] for _, _, roles in logins} >= {"employee", "hr_admin", "auditor", "admin"}
    async with app.state.db.sessionmaker() as session:
        employees = await session.scalar(select(func.count()).select_from(Employee))
        states = set(await session.scalars(select(Activity.status).distinct()))
        presence = set(await session.scalars(select(Attendance.status).distinct()))
        orphans = await session.scalar(
            select(func.count())
            .select_from(Employee)
            .where(
                Employee.supervisor_nip.is_not(None),
                Employee.supervisor_nip.not_in(select(Employee.nip)),
            )
        )
    assert 45 <= (employees or 0) <= 60
    assert states == {"approved", "rejected", "submitted"}
    assert presence == {"present", "leave", "sick", "duty_travel", "absent"}
    assert orphans == 0
    async with app.state.db.sessionmaker() as session:
        per_day = (
            select(func.sum(Activity.minutes).label("m"))
            .where(Activity.status != "rejected")
            .group_by(Activity.employee_id, Activity.activity_date)
            .subquery()
        )
        busiest = await session.scalar(select(func.max(per_day.c.m)))
    assert busiest is not None
    assert busiest <= app.state.config.erk.daily_cap_minutes  # the demo keeps its own cap
    async with client_for(app) as client:
        headers = await bearer(client, demo.HR, demo.DEMO_PASSWORD)
        r = await client.get("/api/v1/units", headers=headers)
        assert len(r.json()) == len(demo.UNITS)
        andi = await bearer(client, demo.ANDI, demo.DEMO_PASSWORD)
        r = await client.get("/api/v1/activities", headers=andi)
        assert r.status_code == 200
        assert r.json()["items"]
