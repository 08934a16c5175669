"""Witnesses: outside parties that receive a copy of every signed audit checkpoint.

A regency lists URLs in `<P>AUDIT_WITNESS_URLS` (the Inspektorat, a provincial archive, a public
mirror). A periodic task POSTs each new checkpoint, oldest first, as JSON (the shape of
`GET /api/v1/public/audit/checkpoints` items) to each of them. `audit_witness_cursors` is the
outbox: per witness, the last checkpoint it accepted (any 2xx answer); a refusal or an unreachable
witness is retried on later runs with a growing pause (up to five minutes), from where it stopped,
so every witness ends up holding every checkpoint even across restarts and outages. One replica
at a time delivers (an advisory lock on PostgreSQL); a witness must accept the same checkpoint
twice.

Whoever holds a witness's copy can later run `audit-verify --against` or
`python -m shared.audit_verifier --state` with it: a log rewritten or rolled back since then no
longer matches.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from shared import audit
from shared.audit_routes import checkpoint_read
from shared.db import try_single_replica_lock, utcnow

logger = logging.getLogger("shared.audit_witness")

BATCH = 20
MAX_PAUSE_SECONDS = 300
TIMEOUT_SECONDS = 5.0
RUN_BUDGET_SECONDS = 15.0  # per witness and run: a slow witness never holds a connection for long


def _pause(attempts: int) -> dt.timedelta:
    return dt.timedelta(seconds=min(2 ** min(attempts, 16), MAX_PAUSE_SECONDS))


async def _deliver_to(
    session: AsyncSession,
    client: httpx.AsyncClient,
    witness: str,
    checkpoint_model: type[audit.AuditCheckpointMixin],
    *,
    service: str,
    public_key: str,
) -> int:
    cursors = audit.side_table(checkpoint_model, audit.WITNESS_TABLE)
    row = (await session.execute(select(cursors).where(cursors.c.witness == witness))).first()
    now = utcnow()
    if row is None:
        await session.execute(insert(cursors).values(witness=witness, checkpoint_id=0, attempts=0))
        last_id, attempts = 0, 0
    else:
        if row.next_attempt_at is not None and row.next_attempt_at > now:
            return 0
        last_id, attempts = int(row.checkpoint_id), int(row.attempts)
    pending = (
        (
            await session.execute(
                select(checkpoint_model)
                .where(checkpoint_model.id > last_id)
                .order_by(checkpoint_model.id)
                .limit(BATCH)
            )
        )
        .scalars()
        .all()
    )
    sent = 0
    error: str | None = None
    deadline = time.monotonic() + RUN_BUDGET_SECONDS
    for cp in pending:
        if time.monotonic() > deadline:
            break  # the rest goes in the next run
        body = checkpoint_read(audit.signed_of(cp, service), public_key).model_dump()
        try:
            answer = await client.post(witness, json=body, timeout=TIMEOUT_SECONDS)
        except httpx.HTTPError as exc:
            error = f"unreachable: {type(exc).__name__}"
            break
        if not answer.is_success:
            error = f"answered {answer.status_code}"
            break
        last_id = int(cp.id)
        sent += 1
    values: dict[str, Any] = {"checkpoint_id": last_id}
    if error is None:
        values |= {"attempts": 0, "next_attempt_at": None, "last_error": None}
    else:
        logger.warning("audit witness %s: %s; retrying later", witness, error)
        values |= {
            "attempts": attempts + 1,
            "next_attempt_at": now + _pause(attempts + 1),
            "last_error": error[:200],
        }
    await session.execute(update(cursors).where(cursors.c.witness == witness).values(**values))
    return sent


async def deliver_once(app: FastAPI, client: httpx.AsyncClient | None = None) -> int:
    """POST the checkpoints each witness has not accepted yet; returns how many were accepted."""
    state = app.state
    witnesses = state.settings.witness_urls()
    if not witnesses:
        return 0
    own = client is None
    http = client or httpx.AsyncClient(follow_redirects=False)
    sent = 0
    try:
        for witness in witnesses:
            async with state.db.sessionmaker.begin() as session:
                if not await try_single_replica_lock(
                    session, f"audit-witness:{state.db.schema}:{witness}"
                ):
                    continue
                sent += await _deliver_to(
                    session,
                    http,
                    witness,
                    state.models.audit_checkpoint,
                    service=state.service_name,
                    public_key=state.signer.public_key_b64(),
                )
    finally:
        if own:
            await http.aclose()
    return sent


async def witness_task(app: FastAPI) -> None:
    await deliver_once(app)
