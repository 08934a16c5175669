"""Performance targets (SKP): proposed by the employee, approved by the supervisor."""

from __future__ import annotations

from sqlalchemy import (
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession

from erk import errors, schemas
from erk.access import (
    acting_for,
    check_scope,
    ensure_may_read,
    get_employee,
    supervises,
    write_scope,
)
from erk.dependencies import Context
from erk.models import (
    AuditEvent,
    Employee,
    Target,
)
from shared.audit import record_event
from shared.auth import Principal


async def create_target(
    session: AsyncSession, data: schemas.TargetCreate, *, actor: Principal, ctx: Context
) -> Target:
    nip = data.nip or actor.username
    employee, unit = await get_employee(session, nip)
    if nip != actor.username:
        scope = await write_scope(session, actor)
        check_scope(unit.path, scope, "The employee")
    target = Target(
        employee_id=employee.id,
        year=data.year,
        title=data.title,
        quantity=data.quantity,
        output_unit=data.output_unit,
        status="proposed",
    )
    session.add(target)
    await session.flush()
    await record_event(
        session,
        AuditEvent,
        actor=actor,
        action="target.proposed",
        entity_type="target",
        entity_id=target.id,
        after={"nip": nip, "year": data.year, "title": data.title},
    )
    return target


async def approve_target(
    session: AsyncSession, target_id: int, *, actor: Principal, ctx: Context
) -> Target:
    row = (
        await session.execute(
            select(Target, Employee)
            .join(Employee, Employee.id == Target.employee_id)
            .where(Target.id == target_id)
        )
    ).first()
    if row is None:
        raise errors.TargetNotFoundError(f"No target {target_id}")
    target, employee = row[0], row[1]
    if employee.nip == actor.username:
        raise errors.SelfVerificationError("Your supervisor approves your targets")
    if not await supervises(session, actor, employee, ctx.today):
        raise errors.NotVerifierError("Only the employee's supervisor approves their targets")
    target.status = "approved"
    target.approved_by = actor.username
    target.approved_at = ctx.now
    await session.flush()
    await record_event(
        session,
        AuditEvent,
        actor=actor,
        action="target.approved",
        entity_type="target",
        entity_id=target.id,
        before={"status": "proposed"},
        after={"status": "approved"},
    )
    return target


async def list_targets(
    session: AsyncSession, nip: str, principal: Principal, ctx: Context
) -> list[Target]:
    employee, unit = await get_employee(session, nip)
    await ensure_may_read(session, principal, employee, unit, today=ctx.today)
    stmt = (
        select(Target)
        .where(Target.employee_id == employee.id)
        .order_by(Target.year.desc(), Target.id)
    )
    return list((await session.scalars(stmt)).all())


async def targets_to_approve(
    session: AsyncSession, *, actor: Principal, ctx: Context
) -> list[tuple[Target, str]]:
    """Proposed targets of the people the caller supervises today (directly or as delegate)."""
    acting = await acting_for(session, actor.username, ctx.today)
    stmt = (
        select(Target, Employee.name)
        .join(Employee, Employee.id == Target.employee_id)
        .where(
            Target.status == "proposed",
            Employee.supervisor_nip.in_(acting),
            Employee.nip != actor.username,
        )
        .order_by(Employee.name, Target.id)
        .limit(200)
    )
    return [(row[0], row[1]) for row in (await session.execute(stmt)).all()]
