"""The public audit routes every service serves: what an outsider needs to hold the log to account.

- `GET /api/v1/public/audit/checkpoint`: the latest signed checkpoint and the public key;
- `GET /api/v1/public/audit/checkpoints`: every checkpoint, oldest first, page by page;
- `GET /api/v1/public/audit/consistency?first=M&second=N`: the RFC 9162 proof that the tree of N
  events extends the tree of M events.

No event is published here (events may name people); the signed tree heads and proofs are enough to
show that the history an outsider saw earlier has not been rewritten or rolled back. Auditors
(signed in) also get `GET /api/v1/audit/events/{id}/inclusion?size=N`: the proof that one event is
in the tree a checkpoint signed, so an event copied into a report can be shown to be in the log.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel
from sqlalchemy import select

from shared import audit, audit_seal, audit_tree
from shared.audit_proofs import SignedCheckpoint
from shared.auth import require_roles
from shared.db import SessionDep
from shared.pagination import CursorQuery, Page, keyset_page
from shared.problems import UnprocessableError, problem_responses

MAX_CHECKPOINTS_PAGE = 1000  # small rows, read in bulk by verifiers


class CheckpointRead(BaseModel):
    """A signed checkpoint. `size`/`root`/`chain_hash`/`previous` are what version 2 signs
    (`position`/`hash` repeat size and chain hash for readers of version 1); `digest` is the
    SHA-256 of the signed message, which the next checkpoint names as `previous`."""

    version: int
    service: str
    size: int
    root: str | None
    chain_hash: str
    previous: str | None
    sealed_at: str
    key_id: str
    signature: str
    digest: str
    position: int
    hash: str
    public_key: str
    algorithm: str = "Ed25519"


class ConsistencyRead(BaseModel):
    first: int
    second: int
    proof: list[str]


class InclusionRead(BaseModel):
    """`leaf_data` is the exact bytes hashed for the event (compare them with the event);
    SHA-256(0x00 || leaf_data) = `leaf_hash`, and `proof` leads from it to `checkpoint.root`."""

    event_id: int
    position: int
    leaf_data: str
    leaf_hash: str
    proof: list[str]
    checkpoint: CheckpointRead


class ProofSizesError(UnprocessableError):
    title = "No consistency proof between these sizes"
    type = "audit-proof-sizes"


def checkpoint_read(signed: SignedCheckpoint, public_key: str) -> CheckpointRead:
    data = signed.to_json()
    return CheckpointRead(
        **data,
        position=signed.size,
        hash=signed.chain_hash,
        public_key=public_key,
    )


def audit_router(service: str) -> APIRouter:
    router = APIRouter(prefix="/api/v1/public/audit", tags=["audit"])

    @router.get("/checkpoint", response_model=CheckpointRead)
    async def latest(request: Request, session: SessionDep) -> CheckpointRead:
        """The latest signed checkpoint of the audit log and the key to check it with."""
        state = request.app.state
        model = state.models.audit_checkpoint
        row = (
            await session.execute(select(model).order_by(model.position.desc()).limit(1))
        ).scalar_one_or_none()
        signed = (
            audit_seal.empty_checkpoint(service, state.signer)
            if row is None
            else audit.signed_of(row, service)
        )
        return checkpoint_read(signed, state.signer.public_key_b64())

    @router.get(
        "/checkpoints", response_model=Page[CheckpointRead], responses=problem_responses(400)
    )
    async def history(
        request: Request,
        session: SessionDep,
        since: Annotated[
            int, Query(ge=0, le=2**62, description="only checkpoints of this size or larger")
        ] = 0,
        limit: Annotated[
            int, Query(ge=1, le=MAX_CHECKPOINTS_PAGE, description="page size, at most 1000")
        ] = 100,
        cursor: CursorQuery = None,
    ) -> Page[CheckpointRead]:
        """Every signed checkpoint, oldest first: save them, and later prove the log extends
        them. `since` starts at the last one you saved (each names the one before it)."""
        state = request.app.state
        model: type[audit.AuditCheckpointMixin] = state.models.audit_checkpoint
        rows, next_cursor = await keyset_page(
            session,
            select(model).where(model.position >= since),
            keys=[model.position],
            limit=limit,
            cursor=cursor,
            descending=False,
        )
        key = state.signer.public_key_b64()
        return Page[CheckpointRead](
            items=[checkpoint_read(audit.signed_of(r, service), key) for r in rows],
            next_cursor=next_cursor,
        )

    @router.get("/consistency", response_model=ConsistencyRead, responses=problem_responses(422))
    async def consistency(
        request: Request,
        session: SessionDep,
        first: Annotated[int, Query(ge=0, le=2**62, description="the earlier tree size")],
        second: Annotated[int, Query(ge=0, le=2**62, description="the later tree size")],
    ) -> ConsistencyRead:
        """The RFC 9162 consistency proof from the tree of `first` events to that of `second`."""
        try:
            proof = await audit_tree.consistency(
                session, request.app.state.models.audit_checkpoint, first, second
            )
        except audit_tree.ProofUnavailableError as exc:
            raise ProofSizesError(str(exc)) from None
        return ConsistencyRead(first=first, second=second, proof=proof)

    return router


def auditor_router(service: str) -> APIRouter:
    """Routes for auditors (signed in): proofs about single events, which are not public."""
    router = APIRouter(
        prefix="/api/v1/audit",
        tags=["audit"],
        dependencies=[Depends(require_roles("auditor", "admin"))],
    )

    @router.get(
        "/events/{event_id}/inclusion",
        response_model=InclusionRead,
        responses=problem_responses(401, 403, 422),
    )
    async def event_inclusion(
        request: Request,
        session: SessionDep,
        event_id: Annotated[int, Path(ge=1, le=2**62)],
        size: Annotated[
            int | None, Query(ge=1, le=2**62, description="a checkpoint's size (default: latest)")
        ] = None,
    ) -> InclusionRead:
        """The RFC 9162 proof that a sealed event is in the tree a checkpoint signed."""
        state = request.app.state
        try:
            found = await audit_tree.inclusion(
                session,
                state.models.audit_event,
                state.models.audit_checkpoint,
                event_id=event_id,
                service=service,
                size=size,
            )
        except audit_tree.ProofUnavailableError as exc:
            raise ProofSizesError(str(exc)) from None
        return InclusionRead(
            event_id=found.event_id,
            position=found.position,
            leaf_data=found.leaf_data,
            leaf_hash=found.leaf_hash,
            proof=found.proof,
            checkpoint=checkpoint_read(found.checkpoint, state.signer.public_key_b64()),
        )

    return router
