"""Master data: units, employees and their accounts (CSV import too), delegations, passwords."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from erk import errors, grades, schemas
from erk.access import READ_ALL_ROLES, check_scope, ensure_may_read, get_employee, write_scope
from erk.accounts import ensure_accounts
from erk.dependencies import Context
from erk.models import AuditEvent, Delegation, Employee, PayAdjustment, Unit
from shared.audit import record_event
from shared.auth import Principal
from shared.rows import read_model


async def create_unit(session: AsyncSession, data: schemas.UnitCreate, *, actor: Principal) -> Unit:
    if await session.scalar(select(Unit.id).where(Unit.code == data.code)) is not None:
        raise errors.DuplicateUnitError(f"A unit with code {data.code} already exists")
    parent: Unit | None = None
    if data.parent_code is not None:
        parent = await session.scalar(select(Unit).where(Unit.code == data.parent_code))
        if parent is None:
            raise errors.UnitNotFoundError(f"No parent unit with code {data.parent_code}")
    unit = Unit(
        code=data.code,
        name=data.name,
        parent_id=parent.id if parent else None,
        path=f"{parent.path if parent else '/'}{data.code}/",
    )
    session.add(unit)
    await session.flush()
    await record_event(
        session,
        AuditEvent,
        actor=actor,
        action="unit.created",
        entity_type="unit",
        entity_id=unit.id,
        after={"code": unit.code, "name": unit.name, "path": unit.path},
    )
    return unit


async def list_units(session: AsyncSession) -> list[Unit]:
    return list((await session.scalars(select(Unit).order_by(Unit.path))).all())


def _employee_read(employee: Employee, unit_code: str) -> schemas.EmployeeRead:
    return read_model(schemas.EmployeeRead, employee, unit_code=unit_code)


def employee_snapshot(values: dict[str, Any]) -> dict[str, Any]:
    keys = (
        "unit_code",
        "position",
        "job_class",
        "rank",
        "supervisor_nip",
        "tpp_base_idr",
        "active",
        "employment_status",
        "ptkp_status",
        "salary_gross_idr",
        "joined_on",
        "left_on",
    )
    return {
        k: v.isoformat() if isinstance(v, dt.date) else v for k, v in values.items() if k in keys
    }


def may_set_pay(actor: Principal) -> bool:
    """Pay inputs (the TPP base) are HR's: a unit admin maintains people, not their pay."""
    return actor.has_any("hr_admin", "admin")


# What an employee's TPP and its tax are computed from. Only HR sets them; someone else registers
# an employee without them (no job class: "awaiting HR", paid nothing until HR sets it).
PAY_INPUTS = ("job_class", "tpp_base_idr", "employment_status", "ptkp_status", "salary_gross_idr")


def pay_inputs_given(values: Mapping[str, Any]) -> list[str]:
    """The pay inputs a registration gives: any value but none (or an amount of 0, which sets
    nothing)."""
    return [key for key in PAY_INPUTS if values.get(key) not in (None, 0)]


def refuse_pay_inputs(actor: Principal, values: Mapping[str, Any]) -> None:
    """Someone other than HR registers an employee without pay inputs: a 403 naming them."""
    given = pay_inputs_given(values)
    if given and not may_set_pay(actor):
        raise errors.PayInputForbiddenError(
            f"Only HR (BKPSDM) sets pay inputs; leave out {', '.join(given)}: the employee is "
            "paid nothing until HR sets them",
            fields=given,
        )


async def create_employee(
    session: AsyncSession, data: schemas.EmployeeCreate, *, actor: Principal, ctx: Context
) -> schemas.EmployeeRead:
    scope = await write_scope(session, actor)
    unit = await session.scalar(select(Unit).where(Unit.code == data.unit_code))
    if unit is None:
        raise errors.UnitNotFoundError(f"No unit with code {data.unit_code}")
    check_scope(unit.path, scope, f"Unit {unit.code}")
    refuse_pay_inputs(actor, data.model_dump())
    if may_set_pay(actor):
        missing = [k for k in ("job_class", "tpp_base_idr") if getattr(data, k) is None]
        if missing:
            raise errors.PayInputsMissingError(
                f"HR registers an employee with {' and '.join(missing)}", fields=missing
            )
    if data.nip == actor.username:
        raise errors.OwnRecordError("Nobody registers or changes their own employee record")
    if await session.scalar(select(Employee.id).where(Employee.nip == data.nip)) is not None:
        raise errors.DuplicateEmployeeError("An employee with this NIP is already registered")
    if data.supervisor_nip is not None:
        if data.supervisor_nip == data.nip:
            raise errors.InvalidDelegationError("An employee cannot supervise themself")
        if data.supervisor_nip == actor.username:
            # the import holds the same rule: whoever registers a person is not thereby their
            # supervisor (who would then verify the work that feeds their TPP)
            raise errors.InvalidDelegationError("Nobody names themself the supervisor")
        found = await session.scalar(select(Employee.id).where(Employee.nip == data.supervisor_nip))
        if found is None:
            raise errors.EmployeeNotFoundError("The supervisor NIP is not a registered employee")
    employee = Employee(
        nip=data.nip,
        name=data.name,
        unit_id=unit.id,
        position=data.position,
        job_class=data.job_class,
        rank=data.rank,
        supervisor_nip=data.supervisor_nip,
        tpp_base_idr=data.tpp_base_idr or 0,
        active=data.active,
        employment_status=(data.employment_status or schemas.EmploymentStatus.pns).value,
        ptkp_status=data.ptkp_status or "TK/0",
        salary_gross_idr=data.salary_gross_idr or 0,
        joined_on=data.joined_on,
        left_on=data.left_on,
    )
    session.add(employee)
    await session.flush()
    # the audit event records the pay inputs as stored (defaults filled in)
    values = data.model_dump() | {k: getattr(employee, k) for k in PAY_INPUTS}
    await record_event(
        session,
        AuditEvent,
        actor=actor,
        action="employee.created",
        entity_type="employee",
        entity_id=data.nip,
        after=employee_snapshot(values),
    )
    await ensure_accounts(session, [(data.nip, data.name, unit.code)], actor=actor, now=ctx.now)
    return _employee_read(employee, unit.code)


async def read_employee(
    session: AsyncSession, nip: str, *, principal: Principal, ctx: Context
) -> schemas.EmployeeRead:
    employee, unit = await get_employee(session, nip)
    await ensure_may_read(session, principal, employee, unit, today=ctx.today)
    read = _employee_read(employee, unit.code)
    grade = await grades.in_force(session, employee.id, ctx.today)
    if grade is not None:  # a change dated after it was recorded shows from its date on
        read.job_class, read.employment_status = grade.job_class, grade.employment_status
    if principal.username != nip and not principal.has_any(*READ_ALL_ROLES, "unit_admin"):
        # Supervisors verify work; what someone is paid is not theirs to see (UU 27/2022).
        read.tpp_base_idr = None
        read.salary_gross_idr = None
        read.ptkp_status = None
    return read


EMPLOYEE_COLUMNS = (
    "nip",
    "name",
    "unit_code",
    "position",
    "job_class",
    "rank",
    "supervisor_nip",
    "tpp_base_idr",
    "active",
)


async def create_delegation(
    session: AsyncSession, data: schemas.DelegationCreate, *, actor: Principal
) -> Delegation:
    if data.end_date < data.start_date:
        raise errors.InvalidDelegationError("end_date is before start_date")
    if data.delegate_nip == data.supervisor_nip:
        raise errors.InvalidDelegationError("A supervisor cannot act for themself")
    if data.delegate_nip == actor.username:
        raise errors.SelfDelegationError("Nobody appoints themself as an acting official")
    supervisor, _ = await get_employee(session, data.supervisor_nip)
    await get_employee(session, data.delegate_nip)
    if not actor.has_any("hr_admin", "admin") and not await in_supervisor_chain(
        session, actor.username, supervisor
    ):
        raise errors.NotDelegatorError(
            "Only the supervisor's own superiors or HR (BKPSDM) appoint an acting official"
        )
    delegation = Delegation(
        supervisor_nip=data.supervisor_nip,
        delegate_nip=data.delegate_nip,
        start_date=data.start_date,
        end_date=data.end_date,
        created_by=actor.username,
    )
    session.add(delegation)
    await session.flush()
    await record_event(
        session,
        AuditEvent,
        actor=actor,
        action="delegation.created",
        entity_type="delegation",
        entity_id=delegation.id,
        after={
            "supervisor_nip": data.supervisor_nip,
            "delegate_nip": data.delegate_nip,
            "start_date": data.start_date.isoformat(),
            "end_date": data.end_date.isoformat(),
        },
    )
    return delegation


async def in_supervisor_chain(session: AsyncSession, nip: str, employee: Employee) -> bool:
    """Whether `nip` is above `employee` in the supervisor chain (at most 20 levels)."""
    current = employee.supervisor_nip
    seen: set[str] = set()
    while current is not None and current not in seen and len(seen) < 20:
        if current == nip:
            return True
        seen.add(current)
        current = await session.scalar(
            select(Employee.supervisor_nip).where(Employee.nip == current)
        )
    return False


async def create_pay_adjustment(
    session: AsyncSession, data: schemas.PayAdjustmentCreate, *, actor: Principal
) -> schemas.PayAdjustmentRead:
    """HR records a disciplinary sentence or an acting post with its legal basis (pay input)."""
    if not may_set_pay(actor):
        raise errors.PayInputForbiddenError("Only HR (BKPSDM) records pay decisions")
    if data.nip == actor.username:
        raise errors.OwnRecordError("Nobody records a pay decision about themself")
    employee, _ = await get_employee(session, data.nip)
    adjustment = PayAdjustment(
        employee_id=employee.id,
        kind=data.kind.value,
        start_date=data.start_date,
        end_date=data.end_date,
        percent_bp=int(data.percent * 100),
        acting_base_idr=data.acting_base_idr,
        legal_basis=data.legal_basis,
        created_by=actor.username,
    )
    session.add(adjustment)
    await session.flush()
    read = schemas.PayAdjustmentRead(
        id=adjustment.id,
        nip=data.nip,
        kind=data.kind,
        start_date=data.start_date,
        end_date=data.end_date,
        percent=data.percent,
        acting_base_idr=data.acting_base_idr,
        legal_basis=data.legal_basis,
    )
    await record_event(
        session,
        AuditEvent,
        actor=actor,
        action="pay_adjustment.created",
        entity_type="pay_adjustment",
        entity_id=adjustment.id,
        after=read.model_dump(mode="json"),
    )
    return read


async def delegations_seen_by(
    session: AsyncSession, actor: Principal, today: dt.date
) -> list[Delegation]:
    """Delegations not yet over: every one for HR; else those the actor holds, is replaced in, or
    appointed."""
    stmt = select(Delegation).where(Delegation.end_date >= today)
    if not actor.has_any("hr_admin", "admin", "auditor"):
        me = actor.username
        stmt = stmt.where(
            (Delegation.delegate_nip == me)
            | (Delegation.supervisor_nip == me)
            | (Delegation.created_by == me)
        )
    return list(await session.scalars(stmt.order_by(Delegation.start_date, Delegation.id)))
