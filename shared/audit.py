"""The audit trail that outsiders can check.

Every state change writes an event in the same transaction as the change (`record_event`). Events
are append-only. A sealer, run every few seconds by one replica at a time, numbers the events it has
not sealed yet and extends a hash chain over them in that order:

    hash(n) = sha256(hash(n-1) || canonical(event n))

so writers never wait on a global lock. After each run it signs a checkpoint (position, hash, time)
with the service's Ed25519 key; the public endpoint publishes the latest checkpoint and the key.
`verify_chain` recomputes the chain and names the first broken position: an edited or deleted sealed
row, or a chain that no longer reaches a signed checkpoint.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    BigInteger,
    Index,
    String,
    Text,
    bindparam,
    cast,
    insert,
    literal,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from shared.auth import Principal
from shared.db import BigIntId, JSONType, UTCDateTime, try_single_replica_lock, utcnow
from shared.observability import request_id_var
from shared.signing import Signer, canonical_json, verify

GENESIS_HASH = "0" * 64
SYSTEM_ACTOR = "system"


class AuditEventMixin:
    """Columns of a service's `audit_events` table."""

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    occurred_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(64))
    actor_role: Mapped[str] = mapped_column(String(64), default="")
    action: Mapped[str] = mapped_column(String(64))
    entity_type: Mapped[str] = mapped_column(String(64))
    entity_id: Mapped[str] = mapped_column(String(64))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSONType, default=None)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSONType, default=None)
    request_id: Mapped[str | None] = mapped_column(String(64), default=None)
    seal_position: Mapped[int | None] = mapped_column(BigInteger, unique=True, default=None)
    seal_hash: Mapped[str | None] = mapped_column(String(64), default=None)

    @classmethod
    def audit_indexes(cls, table: str) -> tuple[Index, ...]:
        return (Index(f"ix_{table}_entity", "entity_type", "entity_id"),)


class AuditCheckpointMixin:
    """Columns of a service's `audit_checkpoints` table: one signed row per sealing run."""

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    position: Mapped[int] = mapped_column(BigInteger)
    chain_hash: Mapped[str] = mapped_column(String(64))
    sealed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    key_id: Mapped[str] = mapped_column(String(16))
    signature: Mapped[str] = mapped_column(Text)


def event_canonical(row: Any, position: int) -> bytes:
    """The exact bytes hashed for one event; any change to a stored field changes them."""
    occurred = row.occurred_at
    if occurred.tzinfo is None:
        occurred = occurred.replace(tzinfo=dt.UTC)
    return canonical_json(
        {
            "position": position,
            "id": row.id,
            "occurred_at": occurred.astimezone(dt.UTC).isoformat(),
            "actor": row.actor,
            "actor_role": row.actor_role,
            "action": row.action,
            "entity_type": row.entity_type,
            "entity_id": row.entity_id,
            "before": row.before,
            "after": row.after,
            "request_id": row.request_id,
        }
    )


def chain_step(prev_hash: str, canonical: bytes) -> str:
    return hashlib.sha256(bytes.fromhex(prev_hash) + canonical).hexdigest()


def checkpoint_message(
    service: str, position: int, chain_hash: str, sealed_at: dt.datetime
) -> bytes:
    return canonical_json(
        {
            "service": service,
            "position": position,
            "hash": chain_hash,
            "sealed_at": sealed_at.astimezone(dt.UTC).isoformat(),
        }
    )


async def record_event(
    session: AsyncSession,
    model: type[AuditEventMixin],
    *,
    actor: Principal | str | None,
    action: str,
    entity_type: str,
    entity_id: str | int,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    role: str | None = None,
    occurred_at: dt.datetime | None = None,
) -> None:
    """Append one event in the caller's transaction (one INSERT, no ORM unit of work)."""
    name, actor_role = _actor_of(actor, role)
    await session.execute(
        _insert_of(model),
        {
            "occurred_at": occurred_at or utcnow(),
            "actor": name,
            "actor_role": actor_role,
            "action": action,
            "entity_type": entity_type,
            "entity_id": str(entity_id),
            "before": before,
            "after": after,
            "request_id": request_id_var.get(),
        },
    )


def _actor_of(actor: Principal | str | None, role: str | None) -> tuple[str, str]:
    if isinstance(actor, Principal):
        return actor.username, role or actor.primary_role
    return actor or SYSTEM_ACTOR, role or (SYSTEM_ACTOR if actor is None else "")


_EVENT_COLUMNS = (
    "occurred_at",
    "actor",
    "actor_role",
    "action",
    "entity_type",
    "entity_id",
    "before",
    "after",
    "request_id",
)


def events_from(
    rows: Any, model: type[AuditEventMixin], *, action: str, entity_type: str, id_column: str = "id"
) -> Any:
    """PostgreSQL only: the INSERT of one audit event per row of `rows` (a CTE of an INSERT or
    UPDATE ... RETURNING the entity id), to run as a CTE of the same statement. The events are
    the rows `record_event` writes (same columns; sealed into the chain later); bind
    `audit_params(...)` per request."""
    source = select(
        bindparam("audit_at", type_=UTCDateTime()),
        bindparam("audit_actor", type_=String()),
        bindparam("audit_role", type_=String()),
        literal(action, String()),
        literal(entity_type, String()),
        cast(rows.c[id_column], String()),
        bindparam("audit_before", type_=JSONType),
        bindparam("audit_after", type_=JSONType),
        bindparam("audit_request", type_=String()),
    )
    table: Any = model
    return insert(table).from_select(list(_EVENT_COLUMNS), source).returning(table.entity_id)


def audited(
    dml: Any, model: type[AuditEventMixin], *, action: str, entity_type: str, id_column: str = "id"
) -> Any:
    """PostgreSQL only: `dml` (an INSERT or UPDATE ... RETURNING the entity id) and one audit event
    per row it returns, as ONE statement (a data-modifying CTE). It returns the events'
    `entity_id`s, so the caller still sees which rows were written. Build it once; bind the
    statement's own parameters and `audit_params(...)` per request."""
    rows = dml.cte("audited_rows")
    return events_from(rows, model, action=action, entity_type=entity_type, id_column=id_column)


def audit_params(
    actor: Principal | str | None,
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    role: str | None = None,
    occurred_at: dt.datetime | None = None,
) -> dict[str, Any]:
    """The audit parameters of an `audited` statement (the same for every row it writes)."""
    name, actor_role = _actor_of(actor, role)
    return {
        "audit_at": occurred_at or utcnow(),
        "audit_actor": name,
        "audit_role": actor_role,
        "audit_before": before,
        "audit_after": after,
        "audit_request": request_id_var.get(),
    }


_INSERTS: dict[type[AuditEventMixin], Any] = {}


def _insert_of(model: type[AuditEventMixin]) -> Any:
    """One INSERT per table, built once: on the hot path only the parameters change."""
    stmt = _INSERTS.get(model)
    if stmt is None:
        stmt = _INSERTS[model] = insert(model)
    return stmt


@dataclass(frozen=True)
class Checkpoint:
    service: str
    position: int
    hash: str
    sealed_at: dt.datetime
    key_id: str
    signature: str
    public_key: str
    algorithm: str = "Ed25519"


async def seal_pending(
    session: AsyncSession,
    event_model: type[AuditEventMixin],
    checkpoint_model: type[AuditCheckpointMixin],
    *,
    signer: Signer,
    service: str,
    schema: str,
    batch: int = 5000,
) -> int:
    """Seal unsealed events (oldest id first) and sign a checkpoint; returns how many were
    sealed."""
    if not await try_single_replica_lock(session, f"audit-seal:{schema}"):
        return 0
    last = (
        await session.execute(
            select(event_model.seal_position, event_model.seal_hash)
            .where(event_model.seal_position.is_not(None))
            .order_by(event_model.seal_position.desc())
            .limit(1)
        )
    ).first()
    position, chain_hash = (int(last[0] or 0), str(last[1])) if last else (0, GENESIS_HASH)
    pending = (
        (
            await session.execute(
                select(event_model)
                .where(event_model.seal_position.is_(None))
                .order_by(event_model.id)
                .limit(batch)
            )
        )
        .scalars()
        .all()
    )
    if not pending:
        return 0
    updates = []
    for row in pending:
        position += 1
        chain_hash = chain_step(chain_hash, event_canonical(row, position))
        updates.append({"b_id": row.id, "b_pos": position, "b_hash": chain_hash})
    table = event_model.__table__  # type: ignore[attr-defined]
    await session.execute(
        update(table)
        .where(table.c.id == bindparam("b_id"))
        .values(seal_position=bindparam("b_pos"), seal_hash=bindparam("b_hash")),
        updates,
        execution_options={"synchronize_session": False},
    )
    sealed_at = utcnow()
    await session.execute(
        insert(checkpoint_model).values(
            position=position,
            chain_hash=chain_hash,
            sealed_at=sealed_at,
            key_id=signer.key_id(),
            signature=signer.sign(checkpoint_message(service, position, chain_hash, sealed_at)),
        )
    )
    for row in pending:
        session.expunge(row)
    return len(pending)


async def latest_checkpoint(
    session: AsyncSession,
    checkpoint_model: type[AuditCheckpointMixin],
    *,
    signer: Signer,
    service: str,
) -> Checkpoint:
    row = (
        await session.execute(
            select(checkpoint_model).order_by(checkpoint_model.position.desc()).limit(1)
        )
    ).scalar_one_or_none()
    if row is None:
        # Nothing sealed yet: a signed statement of the empty chain.
        sealed_at = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
        message = checkpoint_message(service, 0, GENESIS_HASH, sealed_at)
        return Checkpoint(
            service,
            0,
            GENESIS_HASH,
            sealed_at,
            signer.key_id(),
            signer.sign(message),
            signer.public_key_b64(),
        )
    return Checkpoint(
        service=service,
        position=row.position,
        hash=row.chain_hash,
        sealed_at=row.sealed_at,
        key_id=row.key_id,
        signature=row.signature,
        public_key=signer.public_key_b64(),
    )


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    checked: int
    first_broken_position: int | None = None
    reason: str = ""


async def _stream_sealed(
    session: AsyncSession, event_model: type[AuditEventMixin], chunk: int = 2000
) -> AsyncIterator[Any]:
    after = 0
    while True:
        rows: Sequence[Any] = (
            (
                await session.execute(
                    select(event_model)
                    .where(event_model.seal_position > after)
                    .order_by(event_model.seal_position)
                    .limit(chunk)
                )
            )
            .scalars()
            .all()
        )
        if not rows:
            return
        for row in rows:
            yield row
        after = int(rows[-1].seal_position)
        session.expunge_all()


async def verify_chain(
    session: AsyncSession,
    event_model: type[AuditEventMixin],
    checkpoint_model: type[AuditCheckpointMixin],
    *,
    public_key: str,
    service: str,
) -> VerifyResult:
    """Recompute the chain from position 1 and check every signed checkpoint against it."""
    checkpoints = {
        cp.position: cp
        for cp in (
            await session.execute(select(checkpoint_model).order_by(checkpoint_model.position))
        ).scalars()
    }
    for cp in checkpoints.values():
        message = checkpoint_message(service, cp.position, cp.chain_hash, cp.sealed_at)
        if not verify(message, cp.signature, public_key):
            return VerifyResult(False, 0, cp.position, "checkpoint signature does not verify")
    expected = 1
    chain_hash = GENESIS_HASH
    async for row in _stream_sealed(session, event_model):
        if row.seal_position != expected:
            return VerifyResult(False, expected - 1, expected, "event missing from the chain")
        chain_hash = chain_step(chain_hash, event_canonical(row, expected))
        if chain_hash != row.seal_hash:
            return VerifyResult(
                False, expected - 1, expected, "event content does not match its hash"
            )
        signed = checkpoints.get(expected)
        if signed is not None and signed.chain_hash != chain_hash:
            return VerifyResult(
                False, expected - 1, expected, "chain differs from the signed checkpoint"
            )
        expected += 1
    last = expected - 1
    beyond = [p for p in checkpoints if p > last]
    if beyond:
        return VerifyResult(False, last, last + 1, "events signed in a checkpoint are missing")
    return VerifyResult(True, last)
