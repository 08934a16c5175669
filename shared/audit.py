"""The audit trail that outsiders can check.

Every state change writes an event in the same transaction as the change (`record_event`). Events
are append-only. A sealer, run every few seconds by one replica at a time, numbers the events it has
not sealed yet and extends a hash chain over them in that order:

    hash(n) = sha256(hash(n-1) || canonical(event n))

so writers never wait on a global lock. The same events are the leaves of a Merkle tree (RFC 9162,
see `shared.audit_proofs`), whose perfect subtrees are stored in `audit_tree`. After each run the
sealer signs a checkpoint with the service's Ed25519 key: a signed tree head (size, Merkle root,
chain hash, time) that also names the digest of the checkpoint before it, so checkpoints form a
chain of their own. Events, checkpoints and tree nodes are append-only (database triggers, and a
runtime role that owns none of them: deploy/postgres/).

`verify_chain` recomputes the chain and the tree and names the first broken position: an edited or
deleted sealed row, a removed checkpoint, or a log that no longer reaches a signed checkpoint,
including checkpoints held outside the database (`audit-verify --against`), which is how a rewrite
by someone holding the database and the signing key is caught.
"""

from __future__ import annotations

import collections
import datetime as dt
import hashlib
import logging
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
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
    func,
    insert,
    literal,
    select,
    tuple_,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from shared.audit_proofs import (
    EMPTY_ROOT,
    GENESIS_HASH,
    LEGACY_VERSION,
    TREE_VERSION,
    ChainProblem,
    Frontier,
    SignedCheckpoint,
    check_link,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
)
from shared.auth import Principal
from shared.db import BigIntId, JSONType, UTCDateTime, try_single_replica_lock, utcnow
from shared.observability import request_id_var
from shared.signing import Signer, canonical_json

SYSTEM_ACTOR = "system"
logger = logging.getLogger("shared.audit")
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


@dataclass(frozen=True)
class Checkpoint:
    """The latest checkpoint as the public page and endpoint show it."""

    service: str
    position: int
    hash: str
    sealed_at: dt.datetime
    key_id: str
    signature: str
    public_key: str
    algorithm: str = "Ed25519"
    version: int = TREE_VERSION
    root: str | None = None
    previous: str | None = None
    digest: str = ""

    @classmethod
    def of(cls, signed: SignedCheckpoint, public_key: str) -> Checkpoint:
        return cls(
            service=signed.service,
            position=signed.size,
            hash=signed.chain_hash,
            sealed_at=signed.sealed_at,
            key_id=signed.key_id,
            signature=signed.signature,
            public_key=public_key,
            version=signed.version,
            root=signed.root,
            previous=signed.previous,
            digest=signed.digest(),
        )


async def _tree_nodes(
    session: AsyncSession, tree: Table, keys: Sequence[tuple[int, int]]
) -> dict[tuple[int, int], bytes]:
    if not keys:
        return {}
    rows = await session.execute(
        select(tree.c.level, tree.c.idx, tree.c.hash).where(
            tuple_(tree.c.level, tree.c.idx).in_(list(keys))
        )
    )
    return {(int(lv), int(ix)): bytes.fromhex(h) for lv, ix, h in rows}


async def tree_size(session: AsyncSession, tree: Table) -> int:
    top = await session.scalar(select(func.max(tree.c.idx)).where(tree.c.level == 0))
    return 0 if top is None else int(top) + 1


async def _frontier(session: AsyncSession, tree: Table) -> Frontier:
    size = await tree_size(session, tree)
    keys = Frontier.levels(size)
    found = await _tree_nodes(session, tree, keys)
    return Frontier(size, [found[k] for k in keys])


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
    """Seal unsealed events (oldest id first), add them to the tree and sign a checkpoint that
    names the one before it; returns how many were sealed."""
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
    tree = side_table(checkpoint_model, TREE_TABLE)
    frontier = await _frontier(session, tree)
    nodes: list[dict[str, Any]] = []
    if frontier.size < position:  # events sealed before the tree existed: add them once
        async for row in _stream_sealed(session, event_model, after=frontier.size):
            nodes += _append(frontier, event_canonical(row, int(row.seal_position)))
    updates = []
    for row in pending:
        position += 1
        canonical = event_canonical(row, position)
        chain_hash = chain_step(chain_hash, canonical)
        nodes += _append(frontier, canonical)
        updates.append({"b_id": row.id, "b_pos": position, "b_hash": chain_hash})
    if frontier.size != position:
        raise RuntimeError("the audit tree and the hash chain disagree on the log's size")
    table = event_model.__table__  # type: ignore[attr-defined]
    await session.execute(
        update(table)
        .where(table.c.id == bindparam("b_id"))
        .values(seal_position=bindparam("b_pos"), seal_hash=bindparam("b_hash")),
        updates,
        execution_options={"synchronize_session": False},
    )
    await session.execute(insert(tree), nodes)
    prior = (
        await session.execute(
            select(checkpoint_model).order_by(checkpoint_model.position.desc()).limit(1)
        )
    ).scalar_one_or_none()
    if (0 if prior is None else int(prior.position)) != position - len(pending):
        # Every run signs a checkpoint at the size it reached: a gap means one was removed.
        logger.error(
            "audit log of %s: the last checkpoint signs %s events but %s were sealed before this "
            "run; a checkpoint was removed (compare with copies held outside: audit-verify "
            "--against)",
            service,
            0 if prior is None else prior.position,
            position - len(pending),
        )
    signed = SignedCheckpoint(
        service=service,
        size=position,
        chain_hash=chain_hash,
        sealed_at=utcnow(),
        signature="",
        root=frontier.root().hex(),
        previous=GENESIS_HASH if prior is None else signed_of(prior, service).digest(),
        key_id=signer.key_id(),
    )
    await session.execute(
        insert(checkpoint_model).values(
            position=signed.size,
            chain_hash=signed.chain_hash,
            sealed_at=signed.sealed_at,
            key_id=signed.key_id,
            signature=signer.sign(signed.message()),
            version=signed.version,
            tree_root=signed.root,
            previous_hash=signed.previous,
        )
    )
    if prior is not None:
        session.expunge(prior)
    for row in pending:
        session.expunge(row)
    return len(pending)


def _append(frontier: Frontier, canonical: bytes) -> list[dict[str, Any]]:
    return [
        {"level": level, "idx": index, "hash": value.hex()}
        for level, index, value in frontier.append(leaf_hash(canonical))
    ]


def empty_checkpoint(service: str, signer: Signer) -> SignedCheckpoint:
    """A signed statement of the empty log, before anything was sealed."""
    unsigned = SignedCheckpoint(
        service=service,
        size=0,
        chain_hash=GENESIS_HASH,
        sealed_at=dt.datetime(1970, 1, 1, tzinfo=dt.UTC),
        signature="",
        root=EMPTY_ROOT,
        previous=GENESIS_HASH,
        key_id=signer.key_id(),
    )
    return SignedCheckpoint(**{**unsigned.__dict__, "signature": signer.sign(unsigned.message())})


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
    signed = empty_checkpoint(service, signer) if row is None else signed_of(row, service)
    return Checkpoint.of(signed, signer.public_key_b64())


class ProofUnavailableError(ValueError):
    """The sizes asked for are not ones this log can prove between."""


async def consistency(
    session: AsyncSession,
    checkpoint_model: type[AuditCheckpointMixin],
    first: int,
    second: int,
) -> list[str]:
    """The RFC 9162 consistency proof between the trees of `first` and `second` events, read
    from the stored subtrees in one query."""
    tree = side_table(checkpoint_model, TREE_TABLE)
    size = await tree_size(session, tree)
    if not 0 <= first <= second <= size:
        raise ProofUnavailableError(f"sizes must satisfy 0 <= first <= second <= {size}")
    if first in (0, second):
        return []
    wanted: list[tuple[int, int]] = []

    def record(level: int, index: int) -> bytes:
        wanted.append((level, index))
        return b"\0" * 32

    consistency_proof(first, second, record)
    found = await _tree_nodes(session, tree, sorted(set(wanted)))
    if len(found) != len(set(wanted)):
        raise RuntimeError("the stored audit tree is missing nodes")
    return [h.hex() for h in consistency_proof(first, second, lambda lv, ix: found[(lv, ix)])]


@dataclass(frozen=True)
class Inclusion:
    """Where one sealed event is in the tree a checkpoint signed, and the path proving it."""

    event_id: int
    position: int
    leaf_data: str
    leaf_hash: str
    checkpoint: SignedCheckpoint
    proof: list[str]


async def inclusion(
    session: AsyncSession,
    event_model: type[AuditEventMixin],
    checkpoint_model: type[AuditCheckpointMixin],
    *,
    event_id: int,
    service: str,
    size: int | None = None,
) -> Inclusion:
    """The RFC 9162 inclusion proof of a sealed event in the tree of the checkpoint of `size`
    (default: the latest)."""
    row = (
        await session.execute(select(event_model).where(event_model.id == event_id))
    ).scalar_one_or_none()
    if row is None or row.seal_position is None:
        raise ProofUnavailableError("the event does not exist or is not sealed yet")
    stmt = select(checkpoint_model)
    stmt = (
        stmt.order_by(checkpoint_model.position.desc()).limit(1)
        if size is None
        else stmt.where(checkpoint_model.position == size)
    )
    cp = (await session.execute(stmt)).scalar_one_or_none()
    if cp is None or cp.tree_root is None:
        raise ProofUnavailableError("no tree checkpoint of that size")
    position = int(row.seal_position)
    if position > int(cp.position):
        raise ProofUnavailableError("the event was sealed after that checkpoint")
    data = event_canonical(row, position)
    tree = side_table(checkpoint_model, TREE_TABLE)
    wanted: list[tuple[int, int]] = []

    def record(level: int, index: int) -> bytes:
        wanted.append((level, index))
        return b"\0" * 32

    inclusion_proof(position - 1, int(cp.position), record)
    found = await _tree_nodes(session, tree, sorted(set(wanted)))
    if len(found) != len(set(wanted)):
        raise RuntimeError("the stored audit tree is missing nodes")
    proof = inclusion_proof(position - 1, int(cp.position), lambda lv, ix: found[(lv, ix)])
    return Inclusion(
        event_id=event_id,
        position=position,
        leaf_data=data.decode(),
        leaf_hash=leaf_hash(data).hex(),
        checkpoint=signed_of(cp, service),
        proof=[h.hex() for h in proof],
    )


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    checked: int
    first_broken_position: int | None = None
    reason: str = ""


async def _stream_sealed(
    session: AsyncSession,
    event_model: type[AuditEventMixin],
    chunk: int = 2000,
    *,
    after: int = 0,
) -> AsyncIterator[Any]:
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
        for row in rows:
            session.expunge(row)


def _differs(cp: SignedCheckpoint, chain_hash: str, root: str) -> bool:
    if cp.chain_hash != chain_hash:
        return True
    return cp.version >= TREE_VERSION and cp.root != root


CHECKPOINT_CHUNK = 2000


class _CheckpointWalk:
    """The stored checkpoints in order of size, read a chunk at a time (a busy log has millions),
    each checked against the one before it as it is reached."""

    def __init__(
        self,
        session: AsyncSession,
        model: type[AuditCheckpointMixin],
        public_key: str,
        service: str,
    ) -> None:
        self.session, self.model, self.chunk = session, model, CHECKPOINT_CHUNK
        self.public_key, self.service = public_key, service
        self.buffer: collections.deque[SignedCheckpoint] = collections.deque()
        self.read_up_to = 0
        self.prior: SignedCheckpoint | None = None  # the last one checked and passed
        self.current: SignedCheckpoint | None = None  # the next one to meet in the events
        self.any_tree = False

    async def advance(self) -> ChainProblem | None:
        if self.current is not None:
            self.prior = self.current
        if not self.buffer:
            rows = (
                (
                    await self.session.execute(
                        select(self.model)
                        .where(self.model.position > self.read_up_to)
                        .order_by(self.model.position)
                        .limit(self.chunk)
                    )
                )
                .scalars()
                .all()
            )
            for row in rows:
                self.buffer.append(signed_of(row, self.service))
                self.session.expunge(row)
            if rows:
                self.read_up_to = self.buffer[-1].size
        self.current = self.buffer.popleft() if self.buffer else None
        if self.current is None:
            return None
        self.any_tree = self.any_tree or self.current.version >= TREE_VERSION
        return check_link(
            self.prior, self.current, self.public_key, self.service, complete=self.prior is None
        )


@dataclass
class _Outside:
    """The checkpoints held outside, by size, and what the walk learnt about them."""

    held: dict[int, list[SignedCheckpoint]]
    kept: dict[int, SignedCheckpoint] = field(default_factory=dict)  # local ones at those sizes
    agreed: int = 0  # the largest size an outside checkpoint confirmed


def _outside_of(
    outside: Sequence[SignedCheckpoint], public_key: str, service: str
) -> _Outside | VerifyResult:
    for cp in outside:
        if cp.service != service or not cp.signature_ok(public_key):
            return VerifyResult(
                False, 0, cp.size, "a checkpoint held outside is not signed by this service's key"
            )
    held: dict[int, list[SignedCheckpoint]] = {}
    for cp in outside:
        held.setdefault(cp.size, []).append(cp)
    return _Outside(held)


async def _meet_checkpoints(
    walk: _CheckpointWalk, outside: _Outside, position: int, chain_hash: str, frontier: Frontier
) -> VerifyResult | None:
    """Compare the chain at `position` with the local and outside checkpoints of that size."""
    mine = walk.current if walk.current and walk.current.size == position else None
    outside_here = outside.held.get(position, [])
    if mine is None and not outside_here:
        return None
    root = frontier.root().hex()
    if mine is not None and _differs(mine, chain_hash, root):
        return VerifyResult(
            False, position - 1, position, "chain differs from the signed checkpoint"
        )
    if any(_differs(o, chain_hash, root) for o in outside_here):
        agreed = outside.agreed
        return VerifyResult(
            False,
            agreed,
            agreed + 1,
            f"the log differs from the checkpoint held outside at size {position}: "
            f"the first changed event is between positions {agreed + 1} and {position}",
        )
    if outside_here:
        outside.agreed = position
    if mine is not None:
        if outside_here:
            outside.kept[position] = mine
        problem = await walk.advance()
        if problem is not None:
            return VerifyResult(False, position, problem.size, problem.reason)
    return None


async def _check_tail(
    session: AsyncSession,
    checkpoint_model: type[AuditCheckpointMixin],
    walk: _CheckpointWalk,
    frontier: Frontier,
    last: int,
) -> VerifyResult | None:
    """After the last event: no signed event missing, none after the last checkpoint, and the
    stored tree equal to the recomputed one."""
    if walk.current is not None:
        return VerifyResult(False, last, last + 1, "events signed in a checkpoint are missing")
    signed_up_to = walk.prior.size if walk.prior else 0
    if last > signed_up_to:
        return VerifyResult(
            False,
            last,
            signed_up_to + 1,
            "sealed events after the last checkpoint: a checkpoint was removed",
        )
    if walk.any_tree:
        stored = await _frontier(session, side_table(checkpoint_model, TREE_TABLE))
        if stored.size != last or stored.root() != frontier.root():
            return VerifyResult(
                False,
                last,
                min(stored.size, last) + 1,
                "the stored Merkle tree differs from the events (its proofs would not hold)",
            )
    return None


def _check_outside_kept(outside: _Outside, last: int) -> VerifyResult:
    """Every checkpoint held outside must still be in the log, unchanged."""
    beyond = [size for size in outside.held if size > last]
    if beyond:
        return VerifyResult(
            False,
            last,
            last + 1,
            f"the log ends at {last} but a checkpoint held outside signs {max(beyond)} events "
            "(a truncated log or an older backup)",
        )
    for size, copies in sorted(outside.held.items()):
        local = outside.kept.get(size)
        for cp in copies:
            if local is None:
                return VerifyResult(
                    False, last, size, f"the checkpoint held outside at size {size} was removed"
                )
            if local.digest() != cp.digest():
                return VerifyResult(
                    False,
                    last,
                    size,
                    f"two different signed checkpoints for size {size}: history was re-signed",
                )
    return VerifyResult(True, last)


async def verify_chain(
    session: AsyncSession,
    event_model: type[AuditEventMixin],
    checkpoint_model: type[AuditCheckpointMixin],
    *,
    public_key: str,
    service: str,
    outside: Sequence[SignedCheckpoint] = (),
) -> VerifyResult:
    """Recompute the chain and the tree from position 1 and check every signed checkpoint, the
    chain of checkpoints, and the checkpoints held `outside` (saved earlier, or a witness's)
    against them."""
    held = _outside_of(outside, public_key, service)
    if isinstance(held, VerifyResult):
        return held
    walk = _CheckpointWalk(session, checkpoint_model, public_key, service)
    problem = await walk.advance()
    if problem is not None:
        return VerifyResult(False, 0, problem.size, problem.reason)
    expected = 1
    chain_hash = GENESIS_HASH
    frontier = Frontier()
    async for row in _stream_sealed(session, event_model):
        if row.seal_position != expected:
            return VerifyResult(False, expected - 1, expected, "event missing from the chain")
        canonical = event_canonical(row, expected)
        chain_hash = chain_step(chain_hash, canonical)
        frontier.append(leaf_hash(canonical))
        if chain_hash != row.seal_hash:
            return VerifyResult(
                False, expected - 1, expected, "event content does not match its hash"
            )
        broken = await _meet_checkpoints(walk, held, expected, chain_hash, frontier)
        if broken is not None:
            return broken
        expected += 1
    last = expected - 1
    broken = await _check_tail(session, checkpoint_model, walk, frontier, last)
    if broken is not None:
        return broken
    return _check_outside_kept(held, last)
