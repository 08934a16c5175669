"""The one request context: every write and rule of a request reads the application's clock."""

from __future__ import annotations

import datetime as dt

from hayu_factories import actors, filing, upload_checklist
from sqlalchemy import select

from hayu import sla
from hayu.dependencies import context_of
from hayu.models import Application, ApplicationEvent, AuditEvent
from shared.testing import client_for

FIXED = dt.datetime(2026, 2, 2, 2, 0, tzinfo=dt.UTC)  # a Monday, 09:00 in Bandung


async def test_the_application_clock_dates_filings_transitions_and_audit_events(make_app):
    app = await make_app("hayu")
    app.state.clock = lambda: FIXED
    async with client_for(app) as client:
        who = await actors(app, client)
        created = await client.post(
            "/api/v1/applications", json=filing("REKLAME"), headers=who.business_owner
        )
        assert created.status_code == 201, created.text
        app_id = created.json()["id"]
        await upload_checklist(
            client, who.business_owner, app_id, ("ktp", "desain", "bukti_retribusi")
        )
        accepted = await client.post(
            f"/api/v1/applications/{app_id}/transitions",
            json={"action": "accept"},
            headers=who.officer,
        )
        assert accepted.status_code == 200, accepted.text
    async with app.state.db.sessionmaker.begin() as session:
        # the clock starts once the file is complete, dated by the application's clock too; the
        # first transition after that (accept) stored it, so the periodic pass has nothing to do
        assert await sla.start_missing_clocks(session, context_of(app.state, "http://test")) == 0
    async with app.state.db.sessionmaker() as session:
        application = await session.get(Application, app_id)
        assert application is not None
        assert application.submitted_at == FIXED
        assert application.sla_started_at == FIXED
        assert application.status_since == FIXED
        assert application.sla_due_date is not None
        assert dt.date(2026, 2, 2) < application.sla_due_date < dt.date(2026, 4, 1)
        steps = (
            await session.execute(
                select(ApplicationEvent.occurred_at).where(
                    ApplicationEvent.application_id == app_id
                )
            )
        ).scalars()
        assert set(steps) == {FIXED}
        events = (
            await session.execute(
                select(AuditEvent.occurred_at).where(
                    AuditEvent.entity_type == "application", AuditEvent.entity_id == str(app_id)
                )
            )
        ).scalars()
        assert set(events) == {FIXED}
