"""The audit log's Merkle tree as stored (`audit_tree`), and the proofs read from it.

The sealer (`shared.audit_seal`) stores every perfect subtree of the tree over the sealed events
once, as (level, index, hash), so any RFC 9162 proof is a handful of rows read in one query (the
maths, without a database: `shared.audit_proofs`). This module reads them: the tree's size and
right edge (`stored_frontier`, which the sealer extends and `audit-verify` compares with the
events), the sealed events in chain order (`sealed_events`), and the consistency and inclusion
proofs the audit routes serve (`shared.audit_routes`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from shared.audit import (
    TREE_TABLE,
    AuditCheckpointMixin,
    AuditEventMixin,
    event_canonical,
    side_table,
    signed_of,
)
from shared.audit_proofs import (
    Frontier,
    SignedCheckpoint,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
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


async def stored_frontier(session: AsyncSession, tree: Table) -> Frontier:
    """The stored tree's size and the roots of its perfect subtrees along the right edge."""
    size = await tree_size(session, tree)
    keys = Frontier.levels(size)
    found = await _tree_nodes(session, tree, keys)
    return Frontier(size, [found[k] for k in keys])


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


async def sealed_events(
    session: AsyncSession,
    event_model: type[AuditEventMixin],
    chunk: int = 2000,
    *,
    after: int = 0,
) -> AsyncIterator[Any]:
    """The sealed events after position `after`, in chain order, read `chunk` at a time."""
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
