"""Bulk writes: audit events in one round trip, and lists cut into chunks for IN clauses."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from erk.models import AuditEvent
from shared.auth import Principal
from shared.observability import request_id_var


async def audit_many(
    session: AsyncSession,
    actor: Principal | str,
    *,
    action: str,
    entity_type: str,
    items: Sequence[tuple[int | str, dict[str, Any] | None, dict[str, Any] | None]],
    now: dt.datetime,
    role: str | None = None,
) -> None:
    """One audit event per item, written in one executemany round trip."""
    if not items:
        return
    if isinstance(actor, Principal):
        name, actor_role = actor.username, role or actor.primary_role
    else:
        name, actor_role = actor, role or "system"
    request_id = request_id_var.get()
    await session.execute(
        insert(AuditEvent),
        [
            {
                "occurred_at": now,
                "actor": name,
                "actor_role": actor_role,
                "action": action,
                "entity_type": entity_type,
                "entity_id": str(entity_id),
                "before": before,
                "after": after,
                "request_id": request_id,
            }
            for entity_id, before, after in items
        ],
    )


def chunks(values: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]
