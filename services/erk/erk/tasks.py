"""e-RK's periodic jobs (registered in `main.build_spec`)."""

from __future__ import annotations

from fastapi import FastAPI

from erk import verification
from erk.dependencies import context_of


async def escalate(app: FastAPI) -> None:
    """Pending activities past the verification deadline go to the next supervisor."""
    ctx = context_of(app.state)
    async with app.state.db.sessionmaker.begin() as session:
        await verification.escalate_overdue(session, ctx)
