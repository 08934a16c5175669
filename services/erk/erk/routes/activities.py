"""Targets, activities, evidence and their verification."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Query, Request, UploadFile
from fastapi.responses import FileResponse, JSONResponse, Response

from erk import activities, batch, evidence, schemas, targets, verification
from erk.dependencies import (
    ContextDep,
    EmployeeCaller,
)
from erk.routes.common import IdPath
from shared.auth import CurrentPrincipal
from shared.db import SessionDep, standalone_runner
from shared.idempotency import IdempotencyDep
from shared.pagination import CursorQuery, LimitQuery, Page
from shared.problems import problem_responses
from shared.validators import NIP

router = APIRouter(prefix="/api/v1", tags=["erk"])


@router.post(
    "/targets",
    status_code=201,
    response_model=schemas.TargetRead,
    responses=problem_responses(401, 403, 404, 422),
)
async def create_target(
    data: schemas.TargetCreate,
    session: SessionDep,
    principal: CurrentPrincipal,
    ctx: ContextDep,
    idem: IdempotencyDep,
) -> JSONResponse:
    """Propose an annual performance target (SKP); the supervisor approves it."""
    target = await targets.create_target(session, data, actor=principal, ctx=ctx)
    return await idem.respond(schemas.TargetRead.model_validate(target), 201)


@router.get(
    "/targets",
    response_model=list[schemas.TargetRead],
    responses=problem_responses(401, 403, 404, 422),
)
async def list_targets(
    session: SessionDep, principal: CurrentPrincipal, ctx: ContextDep, nip: NIP | None = None
) -> list[schemas.TargetRead]:
    """An employee's annual targets (default: the caller's)."""
    mine = await targets.list_targets(session, nip or principal.username, principal, ctx)
    return [schemas.TargetRead.model_validate(t) for t in mine]


@router.post(
    "/targets/{target_id}/approve",
    response_model=schemas.TargetRead,
    responses=problem_responses(401, 403, 404),
)
async def approve_target(
    target_id: IdPath, session: SessionDep, principal: CurrentPrincipal, ctx: ContextDep
) -> schemas.TargetRead:
    """The supervisor approves a subordinate's target."""
    target = await targets.approve_target(session, target_id, actor=principal, ctx=ctx)
    return schemas.TargetRead.model_validate(target)


@router.post(
    "/activities",
    status_code=201,
    response_model=schemas.ActivityRead,
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def submit_activity(
    data: schemas.ActivityCreate,
    session: SessionDep,
    principal: EmployeeCaller,
    ctx: ContextDep,
    idem: IdempotencyDep,
) -> JSONResponse:
    """Log one activity of a working day; it waits for the supervisor's verification."""
    # On PostgreSQL one statement, committed on its own (`standalone_runner`): the lock, the
    # checked entry, its audit event and the idempotency record.
    activity = await activities.submit_activity(
        session, data, actor=principal, ctx=ctx, idem=idem, standalone=standalone_runner(session)
    )
    return await idem.respond(activity, 201)


@router.post(
    "/activities/batch",
    status_code=201,
    response_model=schemas.ActivityBatchRead,
    responses=problem_responses(401, 403, 404, 422),
)
async def submit_activities(
    data: schemas.ActivityBatch,
    session: SessionDep,
    principal: EmployeeCaller,
    ctx: ContextDep,
    idem: IdempotencyDep,
) -> JSONResponse:
    """Log several activities at once, all or none: each row follows the rules of one entry
    (the daily cap counts the batch's own rows); a refusal (`batch-rejected`) lists every refused
    row with its rule, and nothing is logged."""
    created = await batch.submit_batch(session, data.items, actor=principal, ctx=ctx)
    return await idem.respond(schemas.ActivityBatchRead(items=created), 201)


@router.get(
    "/activities",
    response_model=Page[schemas.ActivityRead],
    responses=problem_responses(400, 401, 403, 404, 422),
)
async def list_activities(
    session: SessionDep,
    principal: CurrentPrincipal,
    ctx: ContextDep,
    nip: NIP | None = None,
    month: Annotated[str | None, Query(pattern=schemas.PERIOD_PATTERN)] = None,
    status: schemas.ActivityStatus | None = None,
    limit: LimitQuery = 20,
    cursor: CursorQuery = None,
) -> Page[schemas.ActivityRead]:
    """Activities, newest first: one's own, a subordinate's, or (admins) a unit's."""
    items, next_cursor = await activities.list_activities(
        session,
        actor=principal,
        ctx=ctx,
        nip=nip,
        month=month,
        status=status,
        limit=limit,
        cursor=cursor,
    )
    return Page[schemas.ActivityRead](items=items, next_cursor=next_cursor)


@router.patch(
    "/activities/{activity_id}",
    response_model=schemas.ActivityRead,
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def update_activity(
    activity_id: IdPath,
    data: schemas.ActivityUpdate,
    session: SessionDep,
    principal: CurrentPrincipal,
    ctx: ContextDep,
) -> schemas.ActivityRead:
    """Correct one's own activity before approval; a rejected one goes back for verification."""
    return await activities.update_activity(session, activity_id, data, actor=principal, ctx=ctx)


@router.delete(
    "/activities/{activity_id}",
    status_code=204,
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def delete_activity(
    activity_id: IdPath, session: SessionDep, principal: EmployeeCaller, ctx: ContextDep
) -> Response:
    """Withdraw one's own entry that is not approved yet (pending or rejected)."""
    await activities.delete_activity(session, activity_id, actor=principal, ctx=ctx)
    return Response(status_code=204)


@router.put(
    "/activities/{activity_id}/evidence",
    response_model=schemas.ActivityRead,
    responses=problem_responses(401, 403, 404, 409, 413, 415, 422),
)
async def attach_evidence(
    request: Request,
    activity_id: IdPath,
    file: Annotated[UploadFile, File(description="PDF, JPEG or PNG")],
    session: SessionDep,
    principal: CurrentPrincipal,
    ctx: ContextDep,
) -> schemas.ActivityRead:
    """Attach (or replace) the evidence of one's own activity before approval."""
    settings = request.app.state.settings
    return await evidence.attach_evidence(
        session,
        activity_id,
        file,
        actor=principal,
        ctx=ctx,
        upload_dir=settings.upload_dir,
        max_bytes=settings.upload_max_bytes,
    )


@router.get(
    "/activities/{activity_id}/evidence",
    response_class=FileResponse,
    responses={
        200: {"content": {"application/pdf": {}, "image/jpeg": {}, "image/png": {}}},
        **problem_responses(401, 403, 404, 422),
    },
)
async def read_evidence(
    request: Request,
    activity_id: IdPath,
    session: SessionDep,
    principal: CurrentPrincipal,
    ctx: ContextDep,
) -> FileResponse:
    """The evidence file of an activity (its employee, their supervisors and admins)."""
    path, media_type, name = await evidence.evidence_of(
        session,
        activity_id,
        actor=principal,
        ctx=ctx,
        upload_dir=request.app.state.settings.upload_dir,
    )
    return FileResponse(path, media_type=media_type, filename=name or None)


@router.post(
    "/activities/{activity_id}/verify",
    response_model=schemas.VerifyResult,
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def verify_activity(
    activity_id: IdPath,
    data: schemas.VerifyRequest,
    session: SessionDep,
    principal: CurrentPrincipal,
    ctx: ContextDep,
) -> schemas.VerifyResult:
    """Approve or reject one activity (a rejection needs a reason)."""
    return await verification.verify_activities(
        session, [activity_id], data.decision, data.note, actor=principal, ctx=ctx
    )


@router.post(
    "/verifications",
    response_model=schemas.VerifyResult,
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def verify_many(
    data: schemas.BulkVerifyRequest,
    session: SessionDep,
    principal: CurrentPrincipal,
    ctx: ContextDep,
) -> schemas.VerifyResult:
    """Approve or reject many activities at once: all of them or none."""
    return await verification.verify_activities(
        session, data.activity_ids, data.decision, data.note, actor=principal, ctx=ctx
    )


@router.get(
    "/verifications/pending",
    response_model=list[schemas.ActivityRead],
    responses=problem_responses(401),
)
async def pending_verifications(
    session: SessionDep, principal: CurrentPrincipal, ctx: ContextDep
) -> list[schemas.ActivityRead]:
    """Activities waiting for the caller's verification now (own, delegated or escalated)."""
    rows = await verification.pending_for(session, actor=principal, ctx=ctx)
    return [activity for activity, _ in rows]
