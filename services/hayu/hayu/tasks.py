"""Periodic work inside the service process: deemed approval (fiktif positif, PP 28/2025)."""

from __future__ import annotations

import logging

from fastapi import FastAPI

from hayu import sla
from hayu.dependencies import context_of
from shared.app import PeriodicTask
from shared.db import try_single_replica_lock, utcnow

logger = logging.getLogger("hayu.tasks")


async def deemed_approvals_once(app: FastAPI) -> list[int]:
    ctx = context_of(app.state, "")
    async with app.state.db.sessionmaker.begin() as session:
        if not await try_single_replica_lock(session, "hayu:deemed-approval"):
            return []
        issued = await sla.run_deemed_approvals(session, ctx, utcnow())
    if issued:
        logger.info("deemed approval issued %d permits", len(issued))
    return issued


async def _run(app: FastAPI) -> None:
    await deemed_approvals_once(app)


DEEMED_APPROVAL_TASK = PeriodicTask("hayu-deemed-approval", 300.0, _run)
