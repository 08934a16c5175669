"""The BKN e-Kinerja bridge: Rencana Aksi, links to them, and the daily-progress export."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Path, Request, UploadFile
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from erk import ekinerja, schemas
from erk.dependencies import (
    ContextDep,
    EmployeeCaller,
    PeriodPath,
    PlanImporterCaller,
)
from erk.routes.common import XLSX, IdPath, csv_bytes
from shared.auth import CurrentPrincipal
from shared.db import SessionDep
from shared.problems import problem_responses
from shared.validators import NIP

router = APIRouter(prefix="/api/v1", tags=["erk"])


@router.post(
    "/rencana-aksi/import",
    status_code=201,
    response_model=schemas.ImportReport,
    responses=problem_responses(401, 403, 413, 422),
)
async def import_action_plans(
    file: Annotated[UploadFile, File(description="CSV: nip,periode,rencana_aksi[,kode]")],
    session: SessionDep,
    principal: PlanImporterCaller,
    ctx: ContextDep,
) -> schemas.ImportReport:
    """Rencana Aksi from the file BKN e-Kinerja exports (own, or the unit's for admins)."""
    content = await csv_bytes(file)
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
)
async def link_action_plan(
    activity_id: IdPath,
    data: schemas.ActionPlanLink,
    session: SessionDep,
    principal: EmployeeCaller,
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
