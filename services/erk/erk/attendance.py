"""Attendance and discipline: one day at a time, or the fingerprint machines' CSV."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from erk import errors, schemas
from erk.access import check_scope, employees_by_nip, get_employee, write_scope
from erk.dependencies import Context
from erk.imports import read_table, reject_import
from erk.models import Attendance, AuditEvent, Period
from erk.periods import ensure_month_open, period_of
from erk.writes import audit_many, chunks
from shared.audit import record_event
from shared.auth import Principal


def day_problem(
    ctx: Context,
    day: dt.date,
    status: schemas.AttendanceStatus,
    minutes_late: int,
    minutes_early: int,
) -> errors.NonWorkingDayError | errors.LatenessOnLeaveError | None:
    """Attendance exists only on working days; lateness only on a day at work."""
    if not ctx.calendar.is_working_day(day):
        name = ctx.calendar.holiday_name(day)
        return errors.NonWorkingDayError(
            f"{day.isoformat()} is not a working day" + (f" ({name})" if name else "")
        )
    if (minutes_late or minutes_early) and status not in schemas.AT_WORK_STATUSES:
        return errors.LatenessOnLeaveError(
            f"Minutes late or early cannot be recorded with status {status.value}"
        )
    return None


async def record_attendance(
    session: AsyncSession, data: schemas.AttendanceCreate, *, actor: Principal, ctx: Context
) -> schemas.AttendanceRead:
    if data.date > ctx.today:
        raise errors.ActivityDateInFutureError("Attendance cannot be recorded ahead of the day")
    if data.nip == actor.username:
        raise errors.OwnRecordError("Nobody records their own attendance")
    problem = day_problem(ctx, data.date, data.status, data.minutes_late, data.minutes_early)
    if problem is not None:
        raise problem
    employee, unit = await get_employee(session, data.nip)
    check_scope(unit.path, await write_scope(session, actor), "The employee")
    await ensure_month_open(session, data.date)
    current = await session.scalar(
        select(Attendance).where(Attendance.employee_id == employee.id, Attendance.day == data.date)
    )
    if (data.minutes_late or data.minutes_early) and current is not None:
        leave = _leave_of(current)
        if leave is not None:
            raise errors.LatenessOnLeaveError(
                f"{data.date.isoformat()} is recorded as {leave}: minutes late or early cannot "
                "be recorded on a day of approved leave"
            )
    before = None
    if current is None:
        current = Attendance(employee_id=employee.id, day=data.date)
        session.add(current)
    else:
        before = {
            "status": current.status,
            "minutes_late": current.minutes_late,
            "minutes_early": current.minutes_early,
        }
    current.status = data.status.value
    current.minutes_late = data.minutes_late
    current.minutes_early = data.minutes_early
    current.missed_apel = data.missed_apel
    current.updated_at = ctx.now
    await session.flush()
    await record_event(
        session,
        AuditEvent,
        actor=actor,
        action="attendance.recorded",
        entity_type="attendance",
        entity_id=f"{data.nip}:{data.date.isoformat()}",
        before=before,
        after={
            "status": data.status.value,
            "minutes_late": data.minutes_late,
            "minutes_early": data.minutes_early,
        },
    )
    return schemas.AttendanceRead(
        nip=data.nip,
        date=data.date,
        status=data.status,
        minutes_late=data.minutes_late,
        minutes_early=data.minutes_early,
        missed_apel=data.missed_apel,
    )


def _leave_of(record: Attendance) -> str | None:
    """The approved leave a stored day is recorded as, if any."""
    return record.status if record.status in schemas.LEAVE_STATUSES else None


def _row_day(
    row: dict[str, str], ctx: Context, closed: list[tuple[dt.date, dt.date]], problems: list[str]
) -> dt.date:
    try:
        day = dt.date.fromisoformat(row.get("date", ""))
    except ValueError:
        problems.append("date must be written YYYY-MM-DD")
        return dt.date.min
    if day > ctx.today:
        problems.append("date lies in the future")
    if any(start <= day <= end for start, end in closed):
        problems.append(f"{period_of(day)} is closed")
    return day


def _row_minutes(row: dict[str, str], problems: list[str]) -> list[int]:
    minutes: list[int] = []
    for column in ("minutes_late", "minutes_early"):
        try:
            value = int(row.get(column) or 0)
            if not 0 <= value <= 1440:
                raise ValueError
            minutes.append(value)
        except ValueError:
            minutes.append(0)
            problems.append(f"{column} must be a whole number from 0 to 1440")
    return minutes


async def import_attendance(
    session: AsyncSession, content: bytes, *, actor: Principal, ctx: Context
) -> schemas.ImportReport:
    """Attendance from the fingerprint machines' CSV (nip,date,status,minutes_late,minutes_early):
    every row or none."""
    scope = await write_scope(session, actor)
    rows = read_table(content, ("nip", "date", "status"))
    people = await employees_by_nip(session, {r.get("nip", "") for r in rows})
    closed = [
        (r.start_date, r.end_date)
        for r in (await session.execute(select(Period.start_date, Period.end_date))).all()
    ]
    statuses = {s.value for s in schemas.AttendanceStatus}
    report: list[schemas.ImportRowError] = []
    parsed: dict[tuple[int, dt.date], dict[str, Any]] = {}
    for number, row in enumerate(rows, start=2):
        problems = []
        nip = row.get("nip", "")
        person = people.get(nip)
        if nip == actor.username:
            problems.append("nobody records their own attendance")
        if person is None:
            problems.append("NIP is not a registered employee")
        elif scope is not None and not person[1].startswith(scope):
            problems.append("employee is outside the unit you administer")
        day = _row_day(row, ctx, closed, problems)
        given = row.get("status", "").strip().lower()
        status = schemas.ATTENDANCE_STATUS_OF.get(given, given)
        if status not in statuses:
            problems.append(f"status must be one of {', '.join(sorted(statuses))}")
        minutes = _row_minutes(row, problems)
        if status in statuses and day != dt.date.min:
            problem = day_problem(
                ctx, day, schemas.AttendanceStatus(status), minutes[0], minutes[1]
            )
            if isinstance(problem, errors.NonWorkingDayError):
                problems.append("date is not a working day")
            elif problem is not None:
                problems.append("minutes late or early need the status present")
        apel = row.get("missed_apel", "").lower()
        if apel not in ("", "0", "1", "ya", "tidak", "true", "false"):
            problems.append("missed_apel must be 1/0 or ya/tidak")
        if person is not None and (person[0], day) in parsed:
            problems.append("the same employee and date appear twice")
        if problems:
            report.append(schemas.ImportRowError(row=number, nip=nip or None, errors=problems))
            continue
        assert person is not None
        parsed[(person[0], day)] = {
            "employee_id": person[0],
            "day": day,
            "status": status,
            "minutes_late": minutes[0],
            "minutes_early": minutes[1],
            "missed_apel": apel in ("1", "ya", "true"),
            "updated_at": ctx.now,
            "nip": nip,
        }
    if report:
        raise reject_import(report)
    existing = await _existing(session, parsed)
    report = _lateness_on_leave(rows, parsed, existing)
    if report:
        raise reject_import(report)
    return await _store_attendance(session, parsed, existing, actor=actor, ctx=ctx)


def _lateness_on_leave(
    rows: list[dict[str, str]],
    parsed: dict[tuple[int, dt.date], dict[str, Any]],
    existing: dict[tuple[int, dt.date], Attendance],
) -> list[schemas.ImportRowError]:
    """Rows with minutes late or early for a day stored as approved leave."""
    number_of = {(r.get("nip", ""), r.get("date", "")): n for n, r in enumerate(rows, start=2)}
    report = []
    for key, values in parsed.items():
        current = existing.get(key)
        if current is None or not (values["minutes_late"] or values["minutes_early"]):
            continue
        leave = _leave_of(current)
        if leave is not None:
            report.append(
                schemas.ImportRowError(
                    row=number_of.get((values["nip"], values["day"].isoformat()), 0),
                    nip=values["nip"],
                    errors=[f"the day is recorded as {leave}: no minutes late or early on leave"],
                )
            )
    return sorted(report, key=lambda r: r.row)


async def _existing(
    session: AsyncSession, parsed: dict[tuple[int, dt.date], dict[str, Any]]
) -> dict[tuple[int, dt.date], Attendance]:
    existing: dict[tuple[int, dt.date], Attendance] = {}
    ids = sorted({k[0] for k in parsed})
    days = [k[1] for k in parsed]
    for chunk in chunks(ids, 500):
        records = await session.scalars(
            select(Attendance).where(
                Attendance.employee_id.in_(chunk),
                Attendance.day >= min(days),
                Attendance.day <= max(days),
            )
        )
        existing.update({(a.employee_id, a.day): a for a in records})
    return existing


async def _store_attendance(
    session: AsyncSession,
    parsed: dict[tuple[int, dt.date], dict[str, Any]],
    existing: dict[tuple[int, dt.date], Attendance],
    *,
    actor: Principal,
    ctx: Context,
) -> schemas.ImportReport:
    new_rows = []
    events: list[tuple[int | str, dict[str, Any] | None, dict[str, Any] | None]] = []
    for key, values in parsed.items():
        after = {k: values[k] for k in ("status", "minutes_late", "minutes_early")}
        entity = f"{values['nip']}:{values['day'].isoformat()}"
        current = existing.get(key)
        if current is None:
            new_rows.append({k: v for k, v in values.items() if k != "nip"})
            events.append((entity, None, after))
        else:
            before = {
                "status": current.status,
                "minutes_late": current.minutes_late,
                "minutes_early": current.minutes_early,
            }
            current.status = values["status"]
            current.minutes_late = values["minutes_late"]
            current.minutes_early = values["minutes_early"]
            current.missed_apel = values["missed_apel"]
            current.updated_at = ctx.now
            events.append((entity, before, after))
    if new_rows:
        await session.execute(insert(Attendance), new_rows)
    await session.flush()
    await audit_many(
        session,
        actor,
        now=ctx.now,
        action="attendance.imported",
        entity_type="attendance",
        items=events,
    )
    return schemas.ImportReport(
        imported=len(parsed), created=len(new_rows), updated=len(parsed) - len(new_rows)
    )
