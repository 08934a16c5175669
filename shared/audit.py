"""The audit trail: its tables, the bytes each event is hashed as, and writing events.

Every state change writes an event in the same transaction as the change (`record_event`,
`record_events`, or on PostgreSQL `audited`/`events_from`, a CTE of the change's own statement).
Events are append-only. A sealer later numbers the events it has not sealed yet and extends a hash
chain over them in that order:

    hash(n) = sha256(hash(n-1) || canonical(event n))

(`event_canonical`, `chain_step`), so writers never wait on a global lock. The same events are the
leaves of a Merkle tree (RFC 9162). Events, checkpoints and tree nodes are append-only (database
triggers, `shared.migrations_audit`, and a runtime role that owns none of them: deploy/postgres/).

The rest of the audit log lives beside this module:

- `shared.audit_proofs`: the Merkle tree and signed-tree-head maths, without a database;
- `shared.audit_tree`: the stored tree (`audit_tree`) and the proofs read from it;
- `shared.audit_seal`: sealing and the signed checkpoints;
- `shared.audit_integrity`: `verify_chain`, what `audit-verify` and the auditor's browser run;
- `shared.audit_routes`, `shared.audit_browser`: the public and auditor routes, the browser page;
- `shared.audit_witness`, `shared.audit_witness_server`, `shared.audit_verifier`: the copies and
  checks held outside the regency's database.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Index,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    bindparam,
    cast,
    insert,
    literal,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from shared.audit_proofs import LEGACY_VERSION, TREE_VERSION, SignedCheckpoint
from shared.auth import Principal
from shared.db import BigIntId, JSONType, UTCDateTime, utcnow
from shared.observability import request_id_var
from shared.signing import canonical_json

SYSTEM_ACTOR = "system"
TREE_TABLE = "audit_tree"
WITNESS_TABLE = "audit_witness_cursors"


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
    """Columns of a service's `audit_checkpoints` table: one signed row per sealing run.

    Declaring the model also declares, in the same metadata, the tables that belong with it:
    `audit_tree` (the Merkle tree's perfect subtrees) and `audit_witness_cursors` (how far each
    witness has received the checkpoints)."""

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    position: Mapped[int] = mapped_column(BigInteger, index=True, unique=True)
    chain_hash: Mapped[str] = mapped_column(String(64))
    sealed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    key_id: Mapped[str] = mapped_column(String(16))
    signature: Mapped[str] = mapped_column(Text)
    version: Mapped[int] = mapped_column(SmallInteger, default=TREE_VERSION)
    tree_root: Mapped[str | None] = mapped_column(String(64), default=None)
    previous_hash: Mapped[str | None] = mapped_column(String(64), default=None)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        table = getattr(cls, "__table__", None)
        if table is not None:
            declare_side_tables(table.metadata)


def declare_side_tables(metadata: MetaData) -> None:
    """`audit_tree` and `audit_witness_cursors` in a service's metadata (once)."""
    schema = metadata.schema
    key = f"{schema}.{TREE_TABLE}" if schema else TREE_TABLE
    if key in metadata.tables:
        return
    Table(
        TREE_TABLE,
        metadata,
        Column("level", SmallInteger, primary_key=True, autoincrement=False),
        Column("idx", BigInteger, primary_key=True, autoincrement=False),
        Column("hash", String(64), nullable=False),
    )
    Table(
        WITNESS_TABLE,
        metadata,
        Column("witness", String(500), primary_key=True),
        Column("checkpoint_id", BigInteger, nullable=False),
        Column("attempts", BigInteger, nullable=False),
        Column("next_attempt_at", UTCDateTime(), nullable=True),
        Column("last_error", String(200), nullable=True),
    )


def side_table(checkpoint_model: type[AuditCheckpointMixin], name: str) -> Table:
    metadata: MetaData = checkpoint_model.__table__.metadata  # type: ignore[attr-defined]
    return metadata.tables[f"{metadata.schema}.{name}" if metadata.schema else name]


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
    """What a legacy checkpoint (hash chain only, signed before the tree existed) signed."""
    return SignedCheckpoint(
        service, position, chain_hash, sealed_at, "", version=LEGACY_VERSION
    ).message()


def signed_of(row: AuditCheckpointMixin, service: str) -> SignedCheckpoint:
    """A stored checkpoint row as the statement it signed."""
    return SignedCheckpoint(
        service=service,
        size=int(row.position),
        chain_hash=row.chain_hash,
        sealed_at=row.sealed_at,
        signature=row.signature,
        version=int(row.version or LEGACY_VERSION),
        root=row.tree_root,
        previous=row.previous_hash,
        key_id=row.key_id,
    )


Change = tuple[str | int, dict[str, Any] | None, dict[str, Any] | None]
"""One audited change: the entity's id, what it was before, what it is after."""


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
    await record_events(
        session,
        model,
        actor=actor,
        action=action,
        entity_type=entity_type,
        changes=[(entity_id, before, after)],
        role=role,
        occurred_at=occurred_at,
    )


async def record_events(
    session: AsyncSession,
    model: type[AuditEventMixin],
    *,
    actor: Principal | str | None,
    action: str,
    entity_type: str,
    changes: Sequence[Change],
    role: str | None = None,
    occurred_at: dt.datetime | None = None,
) -> None:
    """One event per change, by one actor for one action, in one round trip (executemany)."""
    if not changes:
        return
    name, actor_role = _actor_of(actor, role)
    when = occurred_at or utcnow()
    request_id = request_id_var.get()
    rows = [
        {
            "occurred_at": when,
            "actor": name,
            "actor_role": actor_role,
            "action": action,
            "entity_type": entity_type,
            "entity_id": str(entity_id),
            "before": before,
            "after": after,
            "request_id": request_id,
        }
        for entity_id, before, after in changes
    ]
    await session.execute(_insert_of(model), rows if len(rows) > 1 else rows[0])


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
    rows: Any,
    model: type[AuditEventMixin],
    *,
    action: str,
    entity_type: str,
    id_column: str = "id",
    after: Any = None,
) -> Any:
    """PostgreSQL only: the INSERT of one audit event per row of `rows` (a CTE of an INSERT or
    UPDATE ... RETURNING the entity id), to run as a CTE of the same statement. The events are
    the rows `record_event` writes (same columns; sealed into the chain later); bind
    `audit_params(...)` per request. `after`, when given, is the SQL expression of the event's
    `after` (one that adds what only the statement knows to the bound `audit_after`)."""
    source = select(
        bindparam("audit_at", type_=UTCDateTime()),
        bindparam("audit_actor", type_=String()),
        bindparam("audit_role", type_=String()),
        literal(action, String()),
        literal(entity_type, String()),
        cast(rows.c[id_column], String()),
        bindparam("audit_before", type_=JSONType),
        bindparam("audit_after", type_=JSONType) if after is None else after,
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
