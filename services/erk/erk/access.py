"""Who may read or change what: unit scopes, supervision (with acting officials), reading rights."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from erk import errors
from erk.models import Delegation, Employee, Unit
from erk.writes import chunks
from shared.auth import Principal

READ_ALL_ROLES = ("hr_admin", "admin", "auditor")


async def employees_by_nip(
    session: AsyncSession, nips: Iterable[str]
) -> dict[str, tuple[int, str]]:
    """NIP → (employee id, unit path) for the NIPs that exist, 500 to a query (an import's rows)."""
    people: dict[str, tuple[int, str]] = {}
    for chunk in chunks(sorted(set(nips)), 500):
        found = await session.execute(
            select(Employee.nip, Employee.id, Unit.path)
            .join(Unit, Unit.id == Employee.unit_id)
            .where(Employee.nip.in_(chunk))
        )
        people.update({r.nip: (r.id, r.path) for r in found})
    return people


async def scope_path(session: AsyncSession, principal: Principal) -> str | None:
    """None when the caller sees every unit; else the path prefix of the caller's unit subtree."""
    if principal.has_any(*READ_ALL_ROLES):
        return None
    if principal.has_any("unit_admin") and principal.unit:
        path = await session.scalar(select(Unit.path).where(Unit.code == principal.unit))
        if path is not None:
            return path
    raise errors.OutOfScopeError("Your account is not attached to a unit you administer")


async def write_scope(session: AsyncSession, principal: Principal) -> str | None:
    """Where the caller may change master data: everywhere (hr_admin, admin), their unit subtree
    (unit_admin), or nowhere: auditors read everything and write nothing."""
    if principal.has_any("hr_admin", "admin"):
        return None
    if principal.has_any("unit_admin") and principal.unit:
        path = await session.scalar(select(Unit.path).where(Unit.code == principal.unit))
        if path is not None:
            return path
    raise errors.OutOfScopeError("You may not change data of this unit")


async def unit_scope(
    session: AsyncSession, principal: Principal, unit_code: str | None
) -> str | None:
    """The path prefix to filter by: the chosen unit's subtree, inside the caller's scope."""
    scope = await scope_path(session, principal)
    if unit_code is None:
        return scope
    path = await session.scalar(select(Unit.path).where(Unit.code == unit_code))
    if path is None:
        raise errors.UnitNotFoundError(f"No unit with code {unit_code}")
    check_scope(path, scope, f"Unit {unit_code}")
    return path


def check_scope(path: str, scope: str | None, what: str) -> None:
    if scope is not None and not path.startswith(scope):
        raise errors.OutOfScopeError(f"{what} is outside the unit you administer")


async def get_employee(session: AsyncSession, nip: str) -> tuple[Employee, Unit]:
    row = (
        await session.execute(
            select(Employee, Unit)
            .join(Unit, Unit.id == Employee.unit_id)
            .where(Employee.nip == nip)
        )
    ).first()
    if row is None:
        raise errors.EmployeeNotFoundError("No employee with this NIP")
    return row[0], row[1]


async def acting_for(session: AsyncSession, nip: str, day: dt.date) -> set[str]:
    """The supervisors whose verification `nip` holds on `day` (themself included)."""
    rows = await session.scalars(
        select(Delegation.supervisor_nip).where(
            Delegation.delegate_nip == nip,
            Delegation.start_date <= day,
            Delegation.end_date >= day,
        )
    )
    return {nip, *rows}


async def supervises(
    session: AsyncSession, principal: Principal, employee: Employee, today: dt.date
) -> bool:
    """Direct supervisor, the supervisor's acting official today, or the supervisor's supervisor."""
    me = principal.username
    if employee.supervisor_nip is None:
        return False
    if employee.supervisor_nip == me:
        return True
    grand = await session.scalar(
        select(Employee.supervisor_nip).where(Employee.nip == employee.supervisor_nip)
    )
    if grand == me:
        return True
    return employee.supervisor_nip in await acting_for(session, me, today)


async def ensure_may_read(
    session: AsyncSession,
    principal: Principal,
    employee: Employee,
    unit: Unit | None = None,
    *,
    today: dt.date,
) -> None:
    if principal.username == employee.nip or principal.has_any(*READ_ALL_ROLES):
        return
    if principal.has_any("unit_admin") and principal.unit:
        if unit is None:
            unit = await session.get_one(Unit, employee.unit_id)
        path = await session.scalar(select(Unit.path).where(Unit.code == principal.unit))
        if path is not None and unit.path.startswith(path):
            return
    if await supervises(session, principal, employee, today):
        return
    raise errors.NotYourSubordinateError(
        "You may read only your own activities and those of people you supervise"
    )
