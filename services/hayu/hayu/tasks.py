"""Periodic work inside the service process: deemed approval (fiktif positif, PP 28/2025)."""

from __future__ import annotations

import logging

from fastapi import FastAPI

from hayu import oss, sla
from hayu.dependencies import context_of
from shared.app import PeriodicTask
from shared.db import try_single_replica_lock

logger = logging.getLogger("hayu.tasks")


async def deemed_approvals_once(app: FastAPI) -> list[int]:
    ctx = context_of(app.state, "")
    async with app.state.db.sessionmaker.begin() as session:
        if not await try_single_replica_lock(session, "hayu:deemed-approval"):
            return []
        issued = await sla.run_deemed_approvals(session, ctx)
    if issued:
        logger.info("deemed approval issued %d permits", len(issued))
    return issued


async def _run(app: FastAPI) -> None:
    await deemed_approvals_once(app)


DEEMED_APPROVAL_TASK = PeriodicTask("hayu-deemed-approval", 300.0, _run)


async def oss_outbox_once(app: FastAPI, client: oss.OssClient | None = None) -> tuple[int, int]:
    """Send due OSS status messages; nothing unless the link is configured."""
    ctx = context_of(app.state, "")
    settings = ctx.settings
    if client is None:
        if not settings.oss_base_url:
            return 0, 0
        client = oss.HttpOssClient(
            settings.oss_base_url, settings.oss_token, token_header=ctx.hayu.oss.token_header
        )
    sent, failed = await oss.deliver(app.state.db.sessionmaker, ctx, client)
    if sent or failed:
        logger.info("oss outbox: %d sent, %d failed", sent, failed)
    return sent, failed


async def _run_oss(app: FastAPI) -> None:
    await oss_outbox_once(app)


OSS_OUTBOX_TASK = PeriodicTask("hayu-oss-outbox", 30.0, _run_oss)
