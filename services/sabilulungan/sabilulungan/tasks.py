"""Sabilulungan's periodic jobs (the service contract's `tasks.py`).

Every deadline Sabilulungan knows is evaluated when a file is read or acted on, against
`Context.now`, so no job wakes up for those. The one job here notifies applicants
(`shared.notifications`): it reads the sealed audit events, turns the submission, each stage
change, a return for revision, the decision and the signed NPHD into outbox messages, and sends
them by e-mail and SMS/WhatsApp when these are configured. It adds nothing to the write paths.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from sabilulungan.dependencies import context_of
from sabilulungan.models import (
    Account,
    AuditEvent,
    NotificationCursor,
    NotificationOutbox,
    Proposal,
)
from shared.app import PeriodicTask
from shared.notifications import (
    NotificationSource,
    Notifier,
    ServiceNotifications,
    Target,
)

logger = logging.getLogger("sabilulungan.tasks")


def _source(app_state: Any) -> NotificationSource:
    ctx = context_of(app_state)

    async def resolve(session: AsyncSession, ids: list[str]) -> dict[str, Target]:
        numeric = [int(i) for i in ids if i.isdigit()]
        if not numeric:
            return {}
        rows = await session.execute(
            select(Proposal.id, Proposal.owner_id, Proposal.tracking_code, Proposal.status).where(
                Proposal.id.in_(numeric)
            )
        )
        return {
            str(r.id): Target(int(r.owner_id), r.tracking_code, ctx.state_label(r.status),
                              f"/usulan/{r.id}")
            for r in rows
            if r.owner_id is not None
        }  # fmt: skip

    return NotificationSource(
        entity_type="proposal",
        kinds={
            "proposal.submitted": "submitted",
            "proposal.return_for_revision": "revision_requested",
            "proposal.return_report": "revision_requested",
            "proposal.approve": "approved",
            "proposal.reject": "rejected",
            "proposal.sign_agreement": "document_ready",
        },
        resolve=resolve,
        state_label=ctx.state_label,
    )


def _notifier(state: Any) -> Notifier:
    return Notifier(
        source=_source(state),
        account_model=Account,
        event_model=AuditEvent,
        outbox_model=NotificationOutbox,
        cursor_model=NotificationCursor,
        templates=state.config.sabilulungan_notifications,
        service_title="Sabilulungan",
        regency=state.config.regency.name,
    )


NOTIFICATIONS = ServiceNotifications(_notifier)
notifier_of = NOTIFICATIONS.notifier_of
notify_once = NOTIFICATIONS.notify_once
NOTIFY_TASK = NOTIFICATIONS.task("sabilulungan-notify")

PERIODIC: Sequence[PeriodicTask] = (NOTIFY_TASK,)
