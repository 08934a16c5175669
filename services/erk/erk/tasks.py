"""e-RK's periodic jobs (registered in `main.build_spec`)."""

from __future__ import annotations

from fastapi import FastAPI

from erk import activities, domain


async def escalate(app: FastAPI) -> None:
    """Pending activities past the verification deadline go to the next supervisor."""
    state = app.state
    now = state.clock()
    rules = domain.Rules(
        config=state.config.erk,
        calendar=state.calendar,
        today=state.calendar.local_date(now),
        now=now,
    )
    async with state.db.sessionmaker.begin() as session:
        await activities.escalate_overdue(session, rules)
