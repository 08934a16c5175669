"""Units, employees, accounts, delegations and pay inputs."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, UploadFile
from fastapi.responses import JSONResponse, Response

from erk import accounts, grades, people, people_import, schemas
from erk.dependencies import (
    AdminCaller,
    AdminRoles,
    ContextDep,
    DelegatorCaller,
    UnitAdminCaller,
)
from erk.routes.common import csv_bytes
from shared.auth import CurrentPrincipal
from shared.db import SessionDep
from shared.idempotency import IdempotencyDep
from shared.problems import problem_responses
from shared.rows import read_model
from shared.validators import NIP

router = APIRouter(prefix="/api/v1", tags=["erk"])


@router.post(
    "/units",
    status_code=201,
    response_model=schemas.UnitRead,
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def create_unit(
    data: schemas.UnitCreate, session: SessionDep, principal: AdminCaller, idem: IdempotencyDep
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
)
async def create_employee(
    data: schemas.EmployeeCreate,
    session: SessionDep,
    principal: UnitAdminCaller,
    ctx: ContextDep,
    idem: IdempotencyDep,
) -> JSONResponse:
    """Register an employee and their account (username = NIP, no usable password yet)."""
    employee = await people.create_employee(session, data, actor=principal, ctx=ctx)
    return await idem.respond(employee, 201)


@router.post(
    "/employees/import",
    status_code=201,
    response_model=schemas.ImportReport,
    responses=problem_responses(401, 403, 413, 422),
)
async def import_employees(
    file: Annotated[UploadFile, File(description="CSV from the personnel system")],
    session: SessionDep,
    principal: UnitAdminCaller,
    ctx: ContextDep,
) -> schemas.ImportReport:
    """Create or update employees from a CSV: every row or none, with a per-row report."""
    content = await csv_bytes(file)
    return await people_import.import_employees(session, content, actor=principal, ctx=ctx)


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
    "/employees/{nip}/grades",
    status_code=201,
    response_model=list[schemas.GradeRead],
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def record_grade(
    nip: NIP,
    data: schemas.GradeChange,
    session: SessionDep,
    principal: AdminCaller,
    ctx: ContextDep,
) -> list[schemas.GradeRead]:
    """Change job class or employment status from a date; earlier months keep their pay."""
    return await grades.record_grade(session, nip, data, actor=principal, ctx=ctx)


@router.get(
    "/employees/{nip}/grades",
    response_model=list[schemas.GradeRead],
    responses=problem_responses(401, 403, 404, 422),
    dependencies=[AdminRoles],
)
async def list_grades(nip: NIP, session: SessionDep) -> list[schemas.GradeRead]:
    """The employee's dated job class and status history (empty: never changed)."""
    return await grades.list_grades(session, nip)


@router.post(
    "/employees/{nip}/password",
    status_code=204,
    responses=problem_responses(401, 403, 404, 422),
)
async def reset_password(
    nip: NIP, data: schemas.PasswordReset, session: SessionDep, principal: AdminCaller
) -> Response:
    """Set a temporary password; the employee must change it at the next login."""
    await accounts.reset_password(session, nip, data.password, actor=principal)
    return Response(status_code=204)


@router.post(
    "/delegations",
    status_code=201,
    response_model=schemas.DelegationRead,
    responses=problem_responses(401, 403, 404, 422),
)
async def create_delegation(
    data: schemas.DelegationCreate,
    session: SessionDep,
    principal: DelegatorCaller,
    idem: IdempotencyDep,
) -> JSONResponse:
    """Name an acting official (Plt/Plh) who verifies for a supervisor during a date range."""
    delegation = await people.create_delegation(session, data, actor=principal)
    body = read_model(schemas.DelegationRead, delegation)
    return await idem.respond(body, 201)


@router.post(
    "/pay-adjustments",
    status_code=201,
    response_model=schemas.PayAdjustmentRead,
    responses=problem_responses(401, 403, 404, 422),
)
async def create_pay_adjustment(
    data: schemas.PayAdjustmentCreate,
    session: SessionDep,
    principal: AdminCaller,
    idem: IdempotencyDep,
) -> JSONResponse:
    """Record a disciplinary sentence (PP 94/2021) or a Plt/Plh post that changes the TPP."""
    result = await people.create_pay_adjustment(session, data, actor=principal)
    return await idem.respond(result, 201)
