"""Attendance, month closing and the recap with its exports."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Query, Request, UploadFile
from fastapi.responses import JSONResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.concurrency import run_in_threadpool

from erk import access, attendance, closing, explain, exports, recap, schemas
from erk.dependencies import (
    AdminCaller,
    AdminRoles,
    Context,
    ContextDep,
    EmployeeCaller,
    PeriodPath,
    RecapReaderCaller,
    UnitAdminCaller,
)
from erk.routes.common import XLSX, csv_bytes
from shared.auth import Principal
from shared.db import SessionDep
from shared.idempotency import IdempotencyDep
from shared.pagination import CursorQuery, LimitQuery
from shared.problems import problem_responses

router = APIRouter(prefix="/api/v1", tags=["erk"])


@router.post(
    "/attendance",
    status_code=201,
    response_model=schemas.AttendanceRead,
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def record_attendance(
    data: schemas.AttendanceCreate,
    session: SessionDep,
    principal: UnitAdminCaller,
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
)
async def import_attendance(
    file: Annotated[UploadFile, File(description="CSV: nip,date,status,minutes_late,...")],
    session: SessionDep,
    principal: UnitAdminCaller,
    ctx: ContextDep,
) -> schemas.ImportReport:
    """Attendance from the fingerprint machines' CSV: every row or none, with a per-row report."""
    content = await csv_bytes(file)
    return await attendance.import_attendance(session, content, actor=principal, ctx=ctx)


@router.post(
    "/periods/{period}/close",
    response_model=schemas.PeriodRead,
    responses=problem_responses(401, 403, 409, 422),
)
async def close_period(
    period: PeriodPath,
    session: SessionDep,
    principal: AdminCaller,
    ctx: ContextDep,
    anyway: Annotated[
        bool,
        Query(description="close although activities are pending (they will not count; audited)"),
    ] = False,
) -> schemas.PeriodRead:
    """Close a month after its verification deadline: its recap is frozen with the rule version
    in force. Pending activities refuse it unless `anyway` is set."""
    return await closing.close_period(session, period, actor=principal, ctx=ctx, anyway=anyway)


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
    return closing.readiness_read(await closing.readiness(session, ctx, period))


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
)
async def export_recap_xlsx(
    request: Request,
    period: PeriodPath,
    session: SessionDep,
    principal: RecapReaderCaller,
    ctx: ContextDep,
    unit_code: UnitCodeQuery = None,
) -> Response:
    """The month's recap as a spreadsheet for payroll."""
    result = await _recap(session, principal, ctx, period, unit_code)
    # Building a workbook of 20,000 rows takes a second or two: off the event loop.
    body = await run_in_threadpool(
        exports.export_xlsx, result, regency=request.app.state.config.regency.name
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
)
async def export_recap_csv(
    period: PeriodPath,
    session: SessionDep,
    principal: RecapReaderCaller,
    ctx: ContextDep,
    unit_code: UnitCodeQuery = None,
) -> Response:
    """The month's recap as CSV."""
    result = await _recap(session, principal, ctx, period, unit_code)
    return Response(
        exports.export_csv(result),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="rekap-tpp-{period}.csv"'},
    )


@router.get(
    "/recaps/{period}",
    response_model=schemas.RecapPage,
    responses=problem_responses(400, 401, 403, 404, 422),
)
async def read_recap(
    period: PeriodPath,
    session: SessionDep,
    principal: RecapReaderCaller,
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
        items=[explain.to_read(r, result.rule) for r in result.rows],
        next_cursor=result.next_cursor,
    )


@router.get(
    "/me/recap/{period}",
    response_model=schemas.RecapRow,
    responses=problem_responses(401, 403, 404, 422),
)
async def my_recap(
    period: PeriodPath, session: SessionDep, principal: EmployeeCaller, ctx: ContextDep
) -> schemas.RecapRow:
    """The caller's own recap and TPP for a month, with the reasons."""
    return await recap.recap_of(session, ctx, period, principal.username)
