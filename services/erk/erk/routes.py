"""e-RK's JSON API: thin routes, one domain call each."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Path, Query, Request, UploadFile
from fastapi.responses import FileResponse, JSONResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.concurrency import run_in_threadpool

from erk import access, activities, attendance, ekinerja, people, recap, schemas
from erk.dependencies import (
    AdminRoles,
    Context,
    ContextDep,
    DelegatorRoles,
    EmployeeRole,
    PeriodPath,
    RecapReaders,
    UnitAdminRoles,
)
from shared.auth import CurrentPrincipal, Principal
from shared.db import SessionDep
from shared.idempotency import IdempotencyDep
from shared.pagination import CursorQuery, LimitQuery, Page
from shared.problems import PayloadTooLargeError, problem_responses
from shared.validators import NIP

router = APIRouter(prefix="/api/v1", tags=["erk"])
IdPath = Annotated[int, Path(ge=1, le=schemas.MAX_ID)]

MAX_CSV_BYTES = 20 * 1024 * 1024
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


async def _csv_bytes(file: UploadFile) -> bytes:
    content = await file.read(MAX_CSV_BYTES + 1)
    if len(content) > MAX_CSV_BYTES:
        raise PayloadTooLargeError(f"A CSV import may have at most {MAX_CSV_BYTES} bytes")
    return content


@router.post(
    "/units",
    status_code=201,
    response_model=schemas.UnitRead,
    responses=problem_responses(401, 403, 404, 409, 422),
    dependencies=[AdminRoles],
)
async def create_unit(
    data: schemas.UnitCreate, session: SessionDep, principal: CurrentPrincipal, idem: IdempotencyDep
) -> JSONResponse:
    """Add a unit (OPD, bidang or sub-bidang) under an optional parent."""
    unit = await people.create_unit(session, data, actor=principal)
    return await idem.respond(schemas.UnitRead.model_validate(unit), 201)


@router.get(
    "/units",
    response_model=list[schemas.UnitRead],
    responses=problem_responses(401),
)
async def list_units(session: SessionDep, principal: CurrentPrincipal) -> list[schemas.UnitRead]:
    """Every unit, in tree order."""
    return [schemas.UnitRead.model_validate(u) for u in await people.list_units(session)]


@router.post(
    "/employees",
    status_code=201,
    response_model=schemas.EmployeeRead,
    responses=problem_responses(401, 403, 404, 409, 422),
    dependencies=[UnitAdminRoles],
)
async def create_employee(
    data: schemas.EmployeeCreate,
    session: SessionDep,
    principal: CurrentPrincipal,
    idem: IdempotencyDep,
    ctx: ContextDep,
) -> JSONResponse:
    """Register an employee and their account (username = NIP, no usable password yet)."""
    employee = await people.create_employee(session, data, actor=principal, ctx=ctx)
    return await idem.respond(employee, 201)


@router.post(
    "/employees/import",
    status_code=201,
    response_model=schemas.ImportReport,
    responses=problem_responses(401, 403, 413, 422),
    dependencies=[UnitAdminRoles],
)
async def import_employees(
    file: Annotated[UploadFile, File(description="CSV from the personnel system")],
    session: SessionDep,
    principal: CurrentPrincipal,
    ctx: ContextDep,
) -> schemas.ImportReport:
    """Create or update employees from a CSV: every row or none, with a per-row report."""
    content = await _csv_bytes(file)
    return await people.import_employees(session, content, actor=principal, ctx=ctx)


@router.get(
    "/employees/{nip}",
    response_model=schemas.EmployeeRead,
    responses=problem_responses(401, 403, 404, 422),
)
async def read_employee(
    nip: NIP, session: SessionDep, principal: CurrentPrincipal, ctx: ContextDep
) -> schemas.EmployeeRead:
    """One employee's master data (themself, their supervisors and admins)."""
    return await people.read_employee(session, nip, principal=principal, ctx=ctx)


@router.post(
    "/employees/{nip}/password",
    status_code=204,
    responses=problem_responses(401, 403, 404, 422),
    dependencies=[AdminRoles],
)
async def reset_password(
    nip: NIP, data: schemas.PasswordReset, session: SessionDep, principal: CurrentPrincipal
) -> Response:
    """Set a temporary password; the employee must change it at the next login."""
    await people.reset_password(session, nip, data.password, actor=principal)
    return Response(status_code=204)


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
    target = await activities.create_target(session, data, actor=principal, ctx=ctx)
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
    targets = await activities.list_targets(session, nip or principal.username, principal, ctx)
    return [schemas.TargetRead.model_validate(t) for t in targets]


@router.post(
    "/targets/{target_id}/approve",
    response_model=schemas.TargetRead,
    responses=problem_responses(401, 403, 404),
)
async def approve_target(
    target_id: IdPath, session: SessionDep, principal: CurrentPrincipal, ctx: ContextDep
) -> schemas.TargetRead:
    """The supervisor approves a subordinate's target."""
    target = await activities.approve_target(session, target_id, actor=principal, ctx=ctx)
    return schemas.TargetRead.model_validate(target)


@router.post(
    "/activities",
    status_code=201,
    response_model=schemas.ActivityRead,
    responses=problem_responses(401, 403, 404, 409, 422),
    dependencies=[EmployeeRole],
)
async def submit_activity(
    data: schemas.ActivityCreate,
    session: SessionDep,
    principal: CurrentPrincipal,
    ctx: ContextDep,
    idem: IdempotencyDep,
) -> JSONResponse:
    """Log one activity of a working day; it waits for the supervisor's verification."""
    activity = await activities.submit_activity(session, data, actor=principal, ctx=ctx, idem=idem)
    return await idem.respond(activity, 201)


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
    dependencies=[EmployeeRole],
)
async def delete_activity(
    activity_id: IdPath, session: SessionDep, principal: CurrentPrincipal, ctx: ContextDep
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
    return await activities.attach_evidence(
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
    path, media_type, name = await activities.evidence_of(
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
    return await activities.verify_activities(
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
    return await activities.verify_activities(
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
    rows = await activities.pending_for(session, actor=principal, ctx=ctx)
    return [activity for activity, _ in rows]


@router.post(
    "/attendance",
    status_code=201,
    response_model=schemas.AttendanceRead,
    responses=problem_responses(401, 403, 404, 409, 422),
    dependencies=[UnitAdminRoles],
)
async def record_attendance(
    data: schemas.AttendanceCreate,
    session: SessionDep,
    principal: CurrentPrincipal,
    ctx: ContextDep,
    idem: IdempotencyDep,
) -> JSONResponse:
    """Record (or correct) one employee's attendance on one day."""
    result = await attendance.record_attendance(session, data, actor=principal, ctx=ctx)
    return await idem.respond(result, 201)


@router.post(
    "/attendance/import",
    status_code=201,
    response_model=schemas.ImportReport,
    responses=problem_responses(401, 403, 413, 422),
    dependencies=[UnitAdminRoles],
)
async def import_attendance(
    file: Annotated[UploadFile, File(description="CSV: nip,date,status,minutes_late,...")],
    session: SessionDep,
    principal: CurrentPrincipal,
    ctx: ContextDep,
) -> schemas.ImportReport:
    """Attendance from the fingerprint machines' CSV: every row or none, with a per-row report."""
    content = await _csv_bytes(file)
    return await attendance.import_attendance(session, content, actor=principal, ctx=ctx)


@router.post(
    "/delegations",
    status_code=201,
    response_model=schemas.DelegationRead,
    responses=problem_responses(401, 403, 404, 422),
    dependencies=[DelegatorRoles],
)
async def create_delegation(
    data: schemas.DelegationCreate,
    session: SessionDep,
    principal: CurrentPrincipal,
    idem: IdempotencyDep,
) -> JSONResponse:
    """Name an acting official (Plt/Plh) who verifies for a supervisor during a date range."""
    delegation = await people.create_delegation(session, data, actor=principal)
    body = schemas.DelegationRead(
        id=delegation.id,
        supervisor_nip=delegation.supervisor_nip,
        delegate_nip=delegation.delegate_nip,
        start_date=delegation.start_date,
        end_date=delegation.end_date,
    )
    return await idem.respond(body, 201)


@router.post(
    "/periods/{period}/close",
    response_model=schemas.PeriodRead,
    responses=problem_responses(401, 403, 409, 422),
    dependencies=[AdminRoles],
)
async def close_period(
    period: PeriodPath,
    session: SessionDep,
    principal: CurrentPrincipal,
    ctx: ContextDep,
    anyway: Annotated[
        bool,
        Query(description="close although activities are pending (they will not count; audited)"),
    ] = False,
) -> schemas.PeriodRead:
    """Close a month after its verification deadline: its recap is frozen with the rule version
    in force. Pending activities refuse it unless `anyway` is set."""
    return await recap.close_period(session, period, actor=principal, ctx=ctx, anyway=anyway)


@router.get(
    "/periods/{period}/readiness",
    response_model=schemas.PeriodReadiness,
    responses=problem_responses(401, 403, 422),
    dependencies=[AdminRoles],
)
async def period_readiness(
    period: PeriodPath, session: SessionDep, ctx: ContextDep
) -> schemas.PeriodReadiness:
    """What stands between a month and its closing: deadlines, pending items, missing attendance."""
    return recap.readiness_read(await recap.readiness(session, ctx, period))


async def _recap(
    session: AsyncSession,
    principal: Principal,
    ctx: Context,
    period: str,
    unit_code: str | None,
    *,
    limit: int | None = None,
    cursor: str | None = None,
) -> recap.RecapResult:
    path = await access.unit_scope(session, principal, unit_code)
    return await recap.recap_rows(session, ctx, period, unit_path=path, limit=limit, cursor=cursor)


UnitCodeQuery = Annotated[str | None, Query(max_length=32, description="a unit and its sub-units")]


@router.get(
    "/recaps/{period}.xlsx",
    response_class=Response,
    responses={200: {"content": {XLSX: {}}}, **problem_responses(401, 403, 404, 422)},
    dependencies=[RecapReaders],
)
async def export_recap_xlsx(
    request: Request,
    period: PeriodPath,
    session: SessionDep,
    principal: CurrentPrincipal,
    ctx: ContextDep,
    unit_code: UnitCodeQuery = None,
) -> Response:
    """The month's recap as a spreadsheet for payroll."""
    result = await _recap(session, principal, ctx, period, unit_code)
    # Building a workbook of 20,000 rows takes a second or two: off the event loop.
    body = await run_in_threadpool(
        recap.export_xlsx, result, regency=request.app.state.config.regency.name
    )
    return Response(
        body,
        media_type=XLSX,
        headers={"Content-Disposition": f'attachment; filename="rekap-tpp-{period}.xlsx"'},
    )


@router.get(
    "/recaps/{period}.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}}, **problem_responses(401, 403, 404, 422)},
    dependencies=[RecapReaders],
)
async def export_recap_csv(
    period: PeriodPath,
    session: SessionDep,
    principal: CurrentPrincipal,
    ctx: ContextDep,
    unit_code: UnitCodeQuery = None,
) -> Response:
    """The month's recap as CSV."""
    result = await _recap(session, principal, ctx, period, unit_code)
    return Response(
        recap.export_csv(result),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="rekap-tpp-{period}.csv"'},
    )


@router.get(
    "/recaps/{period}",
    response_model=schemas.RecapPage,
    responses=problem_responses(400, 401, 403, 404, 422),
    dependencies=[RecapReaders],
)
async def read_recap(
    period: PeriodPath,
    session: SessionDep,
    principal: CurrentPrincipal,
    ctx: ContextDep,
    unit_code: UnitCodeQuery = None,
    limit: LimitQuery = 100,
    cursor: CursorQuery = None,
) -> schemas.RecapPage:
    """Each employee's minutes, discipline and TPP for a month, with the reasons."""
    result = await _recap(session, principal, ctx, period, unit_code, limit=limit, cursor=cursor)
    return schemas.RecapPage(
        period=period,
        closed=result.closed,
        rule_version=result.rule.version,
        items=[recap.to_read(r, result.rule) for r in result.rows],
        next_cursor=result.next_cursor,
    )


@router.get(
    "/me/recap/{period}",
    response_model=schemas.RecapRow,
    responses=problem_responses(401, 403, 404, 422),
    dependencies=[EmployeeRole],
)
async def my_recap(
    period: PeriodPath, session: SessionDep, principal: CurrentPrincipal, ctx: ContextDep
) -> schemas.RecapRow:
    """The caller's own recap and TPP for a month, with the reasons."""
    return await recap.recap_of(session, ctx, period, principal.username)


@router.post(
    "/rencana-aksi/import",
    status_code=201,
    response_model=schemas.ImportReport,
    responses=problem_responses(401, 403, 413, 422),
    dependencies=[DelegatorRoles],
)
async def import_action_plans(
    file: Annotated[UploadFile, File(description="CSV: nip,periode,rencana_aksi[,kode]")],
    session: SessionDep,
    principal: CurrentPrincipal,
    ctx: ContextDep,
) -> schemas.ImportReport:
    """Rencana Aksi from the file BKN e-Kinerja exports (own, or the unit's for admins)."""
    content = await _csv_bytes(file)
    return await ekinerja.import_action_plans(session, content, actor=principal, ctx=ctx)


@router.get(
    "/employees/{nip}/rencana-aksi",
    response_model=list[schemas.ActionPlanRead],
    responses=problem_responses(401, 403, 404),
)
async def list_action_plans(
    nip: NIP, session: SessionDep, principal: CurrentPrincipal, ctx: ContextDep
) -> list[schemas.ActionPlanRead]:
    """An employee's Rencana Aksi, newest quarter first."""
    plans = await ekinerja.list_action_plans(session, nip, actor=principal, ctx=ctx)
    return [schemas.ActionPlanRead.model_validate(p) for p in plans]


@router.put(
    "/activities/{activity_id}/rencana-aksi",
    status_code=204,
    responses=problem_responses(401, 403, 404, 409, 422),
    dependencies=[EmployeeRole],
)
async def link_action_plan(
    activity_id: IdPath,
    data: schemas.ActionPlanLink,
    session: SessionDep,
    principal: CurrentPrincipal,
    ctx: ContextDep,
) -> Response:
    """Link one's own activity to a Rencana Aksi of its quarter (null unlinks), while it is not
    approved and its month is open."""
    await ekinerja.link_activity(
        session, activity_id, data.action_plan_id, actor=principal, ctx=ctx
    )
    return Response(status_code=204)


@router.get(
    "/ekinerja/{nip}/{period}.{extension}",
    response_class=Response,
    responses={
        200: {"content": {"text/csv": {}, XLSX: {}}},
        **problem_responses(401, 403, 404, 422),
    },
)
async def export_ekinerja(
    request: Request,
    nip: NIP,
    period: PeriodPath,
    extension: Annotated[str, Path(pattern="^(csv|xlsx)$")],
    session: SessionDep,
    principal: CurrentPrincipal,
    ctx: ContextDep,
) -> Response:
    """A month of one employee's approved activities in the columns of BKN e-Kinerja's daily
    progress form (Tanggal, Jam Mulai, Jam Selesai, Rencana Aksi, Kegiatan, Realisasi, Satuan,
    Link Bukti), to upload or copy without re-typing."""
    rows = await ekinerja.progress_rows(
        session,
        nip,
        period,
        actor=principal,
        ctx=ctx,
        evidence_base=str(request.base_url).rstrip("/"),
    )
    sink = ekinerja.SINKS[extension]
    body = await run_in_threadpool(sink.write, rows)
    return Response(
        body,
        media_type=sink.media_type,
        headers={
            "Content-Disposition": f'attachment; filename="ekinerja-{nip}-{period}.{extension}"'
        },
    )


@router.post(
    "/pay-adjustments",
    status_code=201,
    response_model=schemas.PayAdjustmentRead,
    responses=problem_responses(401, 403, 404, 422),
    dependencies=[AdminRoles],
)
async def create_pay_adjustment(
    data: schemas.PayAdjustmentCreate,
    session: SessionDep,
    principal: CurrentPrincipal,
    idem: IdempotencyDep,
) -> JSONResponse:
    """Record a disciplinary sentence (PP 94/2021) or a Plt/Plh post that changes the TPP."""
    result = await people.create_pay_adjustment(session, data, actor=principal)
    return await idem.respond(result, 201)
