"""Sealing the audit log, and its signed checkpoints (signed tree heads).

A sealer, run every few seconds by one replica at a time (`seal_pending`: the service's periodic
task and `audit-seal`), numbers the events not sealed yet in order of id, extends the hash chain
(`shared.audit.chain_step`) and the stored Merkle tree (`shared.audit_tree`) over them, and signs a
checkpoint with the service's Ed25519 key: a signed tree head (size, Merkle root, chain hash,
time) that also names the digest of the checkpoint before it, so checkpoints form a chain of their
own. `latest_checkpoint` is what the public page and endpoint show; `empty_checkpoint` stands for
the log before anything was sealed.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from shared.audit import (
    TREE_TABLE,
    AuditCheckpointMixin,
    AuditEventMixin,
    chain_step,
    event_canonical,
    side_table,
    signed_of,
)
from shared.audit_proofs import (
    EMPTY_ROOT,
    GENESIS_HASH,
    TREE_VERSION,
    Frontier,
    SignedCheckpoint,
    leaf_hash,
)
from shared.audit_tree import sealed_events, stored_frontier
from shared.db import try_single_replica_lock, utcnow
from shared.signing import Signer

# The audit log's logger since before its modules were split: log filters and alerts name it.
logger = logging.getLogger("shared.audit")


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
    frontier = await stored_frontier(session, tree)
    nodes: list[dict[str, Any]] = []
    if frontier.size < position:  # events sealed before the tree existed: add them once
        async for row in sealed_events(session, event_model, after=frontier.size):
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
