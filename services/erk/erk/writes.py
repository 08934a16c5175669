"""Bulk writes: audit events in one round trip, and lists cut into chunks for IN clauses."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from erk.models import AuditEvent
from shared.audit import Change, record_events
from shared.auth import Principal


async def audit_many(
    session: AsyncSession,
    actor: Principal | str,
    *,
    action: str,
    entity_type: str,
    items: Sequence[Change],
    now: dt.datetime,
    role: str | None = None,
) -> None:
    """One audit event per item, written in one executemany round trip."""
    if not isinstance(actor, Principal):
        role = role or "system"
    await record_events(
        session,
        AuditEvent,
        actor=actor,
        action=action,
        entity_type=entity_type,
        changes=items,
        role=role,
        occurred_at=now,
    )


def chunks(values: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]
