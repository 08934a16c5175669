"""Periodic work inside the service process: deemed approval (fiktif positif, PP 28/2025), the
OSS status outbox, and the applicants' notifications (`shared.notifications`: read from the
sealed audit events, nothing added to the write paths)."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hayu import oss, sla
from hayu.dependencies import context_of
from hayu.models import (
    Account,
    Application,
    AuditEvent,
    NotificationCursor,
    NotificationOutbox,
)
from shared.app import PeriodicTask
from shared.db import try_single_replica_lock
from shared.notifications import (
    NotificationSource,
    Notifier,
    ServiceNotifications,
    Target,
)

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


def _labels(config: Any) -> dict[str, str]:
    labels: dict[str, str] = {}
    from hayu.workflow import SELF_REPORT_WORKFLOW

    for workflow in (SELF_REPORT_WORKFLOW, config.hayu.workflow):
        for state in workflow.states:
            labels.setdefault(state.name, state.label)
    return labels


def _source(app_state: Any) -> NotificationSource:
    labels = _labels(app_state.config)

    def label(state: str) -> str:
        return labels.get(state, state)

    async def resolve(session: AsyncSession, ids: list[str]) -> dict[str, Target]:
        numeric = [int(i) for i in ids if i.isdigit()]
        if not numeric:
            return {}
        rows = await session.execute(
            select(
                Application.id,
                Application.applicant_account_id,
                Application.tracking_code,
                Application.status,
            ).where(Application.id.in_(numeric))
        )
        return {
            str(r.id): Target(
                int(r.applicant_account_id), r.tracking_code, label(r.status), f"/berkas/{r.id}"
            )
            for r in rows
            if r.applicant_account_id is not None
        }

    return NotificationSource(
        entity_type="application",
        kinds={
            "application.submit": "submitted",
            "application.register": "document_ready",  # registered at once: the certificate
            "application.request_revision": "revision_requested",
            "application.approve": "approved",
            "application.reject": "rejected",
            "application.issue": "document_ready",
            "application.deemed_approval": "document_ready",
        },
        resolve=resolve,
        state_label=label,
    )


def _notifier(state: Any) -> Notifier:
    return Notifier(
        source=_source(state),
        account_model=Account,
        event_model=AuditEvent,
        outbox_model=NotificationOutbox,
        cursor_model=NotificationCursor,
        templates=state.config.hayu_notifications,
        service_title="HAYU",
        regency=state.config.regency.name,
    )


NOTIFICATIONS = ServiceNotifications(_notifier)
notifier_of = NOTIFICATIONS.notifier_of
notify_once = NOTIFICATIONS.notify_once
NOTIFY_TASK = NOTIFICATIONS.task("hayu-notify")
