"""What e-RK's rules share: the request's rules and dates, scopes, reading rights, audit helpers.

The rules themselves live by resource in `people` (units, employees, accounts, delegations),
`activities` (targets, activities, evidence, verification, escalation), `attendance` and `recap`.
Functions take the request's session, raise typed errors from `erk.errors`, flush, and never commit.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Date, exists, insert, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from erk import errors, schemas
from erk.config import ErkSection
from erk.models import AuditEvent, Delegation, Employee, Period, Unit
from shared.auth import Principal
from shared.calendar import WorkingCalendar
from shared.db import utcnow
from shared.observability import request_id_var

READ_ALL_ROLES = ("hr_admin", "admin", "auditor")


@dataclass(frozen=True)
class Rules:
    """What one request reasons with: the regency's e-RK rules, its calendar and local today."""

    config: ErkSection
    calendar: WorkingCalendar
    today: dt.date
    now: dt.datetime


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def next_month(day: dt.date) -> dt.date:
    return (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def previous_month(day: dt.date) -> dt.date:
    return (day.replace(day=1) - dt.timedelta(days=1)).replace(day=1)


def period_of(day: dt.date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def parse_period(period: str) -> dt.date:
    try:
        year, month = period.split("-")
        return dt.date(int(year), int(month), 1)
    except ValueError:
        raise errors.InvalidPeriodError(f"{period!r} is not a month written YYYY-MM") from None


def open_from(today: dt.date, day_of_next_month: int) -> dt.date:
    """First activity date still inside a window that ends on `day_of_next_month` of the month
    after the activity's month: until that day the previous month is still open."""
    if today.day <= day_of_next_month:
        return previous_month(today)
    return month_start(today)


def entry_open_from(rules: Rules) -> dt.date:
    return open_from(rules.today, rules.config.entry_cutoff_day)


def verification_boundary(rules: Rules) -> dt.date:
    """Activities dated before this are past the supervisor's deadline and escalate."""
    return open_from(rules.today, rules.config.verification_deadline_day)


def closed_on(day: Any) -> Any:
    return exists().where(Period.start_date <= day, Period.end_date >= day)


async def audit_many(
    session: AsyncSession,
    actor: Principal | str,
    *,
    action: str,
    entity_type: str,
    items: Sequence[tuple[int | str, dict[str, Any] | None, dict[str, Any] | None]],
    role: str | None = None,
) -> None:
    """One audit event per item, written in one executemany round trip."""
    if not items:
        return
    if isinstance(actor, Principal):
        name, actor_role = actor.username, role or actor.primary_role
    else:
        name, actor_role = actor, role or "system"
    now = utcnow()
    request_id = request_id_var.get()
    await session.execute(
        insert(AuditEvent),
        [
            {
                "occurred_at": now,
                "actor": name,
                "actor_role": actor_role,
                "action": action,
                "entity_type": entity_type,
                "entity_id": str(entity_id),
                "before": before,
                "after": after,
                "request_id": request_id,
            }
            for entity_id, before, after in items
        ],
    )


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


def chunks(values: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


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


def read_csv(content: bytes, required: Sequence[str]) -> list[dict[str, str]]:
    """Rows of a CSV (comma or semicolon, UTF-8 with or without BOM) with the required columns."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise errors.ImportRejectedError("The file is not UTF-8 text", rows=[]) from None
    # Old spreadsheet programs end lines with a bare CR: one line ending for the csv module.
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    try:
        return _rows(text, delimiter, required)
    except csv.Error as exc:
        raise errors.ImportRejectedError(f"The file is not readable CSV: {exc}", rows=[]) from None


def _rows(text: str, delimiter: str, required: Sequence[str]) -> list[dict[str, str]]:
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    missing = [c for c in required if c not in header]
    if missing:
        raise errors.ImportRejectedError(
            f"The file lacks the columns: {', '.join(missing)}", rows=[]
        )
    rows = []
    for raw in reader:
        rows.append(
            {
                (k or "").strip().lower(): (v or "").strip()
                for k, v in raw.items()
                if isinstance(v, str) or v is None
            }
        )
    if not rows:
        raise errors.ImportRejectedError("The file has no data rows", rows=[])
    return rows


def reject_import(report: list[schemas.ImportRowError]) -> errors.ImportRejectedError:
    return errors.ImportRejectedError(
        f"{len(report)} row(s) have errors; nothing was imported",
        rows=[r.model_dump() for r in report],
    )


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


async def ensure_month_open(session: AsyncSession, day: dt.date) -> None:
    closed = await session.scalar(select(closed_on(literal(day, Date()))))
    if closed:
        raise errors.PeriodClosedError(f"{period_of(day)} is closed; attendance is frozen")
