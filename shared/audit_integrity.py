"""What `audit-verify` and the auditor's browser run: the audit log checked in its database.

`verify_chain` recomputes the hash chain and the Merkle tree from position 1 and names the first
broken position: an edited or deleted sealed row, a removed checkpoint, or a log that no longer
reaches a signed checkpoint, including checkpoints held outside the database (`audit-verify
--against`), which is how a rewrite by someone holding the database and the signing key is caught.
The same check from outside, with the public key and the public routes only, is
`shared.audit_verifier`.
"""

from __future__ import annotations

import collections
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
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
    GENESIS_HASH,
    TREE_VERSION,
    ChainProblem,
    Frontier,
    SignedCheckpoint,
    check_link,
    leaf_hash,
)
from shared.audit_tree import sealed_events, stored_frontier


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    checked: int
    first_broken_position: int | None = None
    reason: str = ""


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
        stored = await stored_frontier(session, side_table(checkpoint_model, TREE_TABLE))
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
    async for row in sealed_events(session, event_model):
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
