"""Job class and employment status, effective-dated.

A promotion to another kelas jabatan or a CPNS appointed PNS (TMT) changes the TPP from its date
on: earlier months keep the values they were paid with. Each change is a row of
`employee_grades`; the recap of a month takes the row in force on the month's first working day
(no pro-rating within the month: a TMT is the first of a month, and the TPP base is not pro-rated
for other mid-month changes either). `employees.job_class` and `employment_status` are set to
the row in force when a change is recorded; reading an employee shows the row in force that day.
An employee registered by someone other than HR has no job class ("awaiting HR", paid nothing):
HR's first change records that empty class as the values before it, so the months before its
date stay unpaid.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, NamedTuple

from sqlalchemy import delete, exists, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from erk import errors, schemas
from erk.access import get_employee
from erk.dependencies import Context
from erk.models import AuditEvent, EmployeeGrade, Period
from erk.periods import month_start, period_of
from erk.writes import audit_many
from shared.audit import record_event
from shared.auth import Principal
from shared.rows import read_model

# The values an employee had before their first dated change apply from the beginning.
SINCE_REGISTRATION = dt.date(1900, 1, 1)


class Regrade(NamedTuple):
    """An imported change of job class or status: the values it replaces and the new ones."""

    employee_id: int
    nip: str
    old_class: int | None  # None: awaiting HR
    old_status: str
    job_class: int
    status: str


def grade_read(row: EmployeeGrade) -> schemas.GradeRead:
    return read_model(schemas.GradeRead, row)


async def _ensure_months_open_from(session: AsyncSession, day: dt.date) -> None:
    """A closed month keeps its frozen pay: no change may take effect inside or before it."""
    closed = await session.scalar(
        select(Period.period).where(Period.end_date >= day).order_by(Period.end_date).limit(1)
    )
    if closed is not None:
        raise errors.PeriodClosedError(
            f"{closed} is closed; a job class or status change can take effect from "
            f"{period_of(day)} only after the months it reaches are open"
        )


def _baseline(
    employee_id: int, job_class: int | None, status: str, actor: str, now: dt.datetime
) -> dict[str, Any]:
    return {
        "employee_id": employee_id,
        "effective_from": SINCE_REGISTRATION,
        "job_class": job_class,
        "employment_status": status,
        "legal_basis": "values before the first dated change",
        "created_by": actor,
        "created_at": now,
    }


async def record_grade(
    session: AsyncSession,
    nip: str,
    data: schemas.GradeChange,
    *,
    actor: Principal,
    ctx: Context,
) -> list[schemas.GradeRead]:
    """HR records a job class / status change from a date (upserting that date's row)."""
    if not actor.has_any("hr_admin", "admin"):
        raise errors.PayInputForbiddenError("Only HR (BKPSDM) changes job class or status")
    if nip == actor.username:
        raise errors.OwnRecordError("Nobody changes their own job class or status")
    employee, _ = await get_employee(session, nip)
    await _ensure_months_open_from(session, data.effective_from)
    rows: list[dict[str, Any]] = []
    if not await session.scalar(select(exists().where(EmployeeGrade.employee_id == employee.id))):
        rows.append(
            _baseline(
                employee.id,
                employee.job_class,
                employee.employment_status,
                actor.username,
                ctx.now,
            )
        )
    before = {"job_class": employee.job_class, "employment_status": employee.employment_status}
    await session.execute(
        delete(EmployeeGrade).where(
            EmployeeGrade.employee_id == employee.id,
            EmployeeGrade.effective_from == data.effective_from,
        )
    )
    rows.append(
        {
            "employee_id": employee.id,
            "effective_from": data.effective_from,
            "job_class": data.job_class,
            "employment_status": data.employment_status.value,
            "legal_basis": data.legal_basis,
            "created_by": actor.username,
            "created_at": ctx.now,
        }
    )
    await session.execute(insert(EmployeeGrade), rows)
    history = list(
        await session.scalars(
            select(EmployeeGrade)
            .where(EmployeeGrade.employee_id == employee.id)
            .order_by(EmployeeGrade.effective_from)
        )
    )
    today = [g for g in history if g.effective_from <= ctx.today]
    if today:
        employee.job_class = today[-1].job_class
        employee.employment_status = today[-1].employment_status
        employee.updated_at = ctx.now
    await session.flush()
    await record_event(
        session,
        AuditEvent,
        actor=actor,
        action="employee.grade_changed",
        entity_type="employee",
        entity_id=nip,
        before=before,
        after={
            "effective_from": data.effective_from.isoformat(),
            "job_class": data.job_class,
            "employment_status": data.employment_status.value,
            "legal_basis": data.legal_basis,
        },
    )
    return [grade_read(g) for g in history]


async def in_force(session: AsyncSession, employee_id: int, day: dt.date) -> EmployeeGrade | None:
    """The dated row in force on `day` (None: never changed, `employees` holds the values)."""
    return await session.scalar(
        select(EmployeeGrade)
        .where(EmployeeGrade.employee_id == employee_id, EmployeeGrade.effective_from <= day)
        .order_by(EmployeeGrade.effective_from.desc())
        .limit(1)
    )


async def list_grades(session: AsyncSession, nip: str) -> list[schemas.GradeRead]:
    employee, _ = await get_employee(session, nip)
    return [
        grade_read(g)
        for g in await session.scalars(
            select(EmployeeGrade)
            .where(EmployeeGrade.employee_id == employee.id)
            .order_by(EmployeeGrade.effective_from)
        )
    ]


async def record_imported_changes(
    session: AsyncSession, changes: Sequence[Regrade], *, actor: Principal, ctx: Context
) -> None:
    """An import that changes someone's job class or status changes it from the first day of the
    current month (earlier months keep theirs); a dated change goes through `record_grade`."""
    if not changes:
        return
    start = month_start(ctx.today)
    await _ensure_months_open_from(session, start)
    ids = [c.employee_id for c in changes]
    dated = set(
        await session.scalars(
            select(EmployeeGrade.employee_id).where(EmployeeGrade.employee_id.in_(ids)).distinct()
        )
    )
    await session.execute(
        delete(EmployeeGrade).where(
            EmployeeGrade.employee_id.in_(ids), EmployeeGrade.effective_from == start
        )
    )
    rows = [
        _baseline(c.employee_id, c.old_class, c.old_status, actor.username, ctx.now)
        for c in changes
        if c.employee_id not in dated
    ]
    rows += [
        {
            "employee_id": c.employee_id,
            "effective_from": start,
            "job_class": c.job_class,
            "employment_status": c.status,
            "legal_basis": "employee import",
            "created_by": actor.username,
            "created_at": ctx.now,
        }
        for c in changes
    ]
    await session.execute(insert(EmployeeGrade), rows)
    await audit_many(
        session,
        actor,
        now=ctx.now,
        action="employee.grade_changed",
        entity_type="employee",
        items=[
            (
                c.nip,
                {"job_class": c.old_class, "employment_status": c.old_status},
                {
                    "effective_from": start.isoformat(),
                    "job_class": c.job_class,
                    "employment_status": c.status,
                },
            )
            for c in changes
        ],
    )
