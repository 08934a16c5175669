"""Several activities at once, all or none: every row goes through the single entry's rules
(date not in the future, a working day, before the cut-off, an open month, no leave or absence,
the daily cap counting the batch's own rows, one's own target), and the rows are written in one
bulk statement.

Round trips: on PostgreSQL the employee's transaction lock (as for one entry), ONE SELECT that
reads the state of every day and target in the batch, and ONE data-modifying statement that
inserts the rows with their audit events; SQLite (whose BEGIN IMMEDIATE already serialises
writers) the SELECT, one multi-row INSERT and the events in one executemany.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Date, String, cast, exists, func, insert, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from erk import errors, schemas, workflow
from erk.activities import check_dates, entry_refusal, serialize_employee
from erk.dependencies import Context
from erk.models import Activity, Attendance, AuditEvent, Employee, Target
from erk.periods import closed_on
from erk.writes import audit_many
from shared.audit import audit_params, events_from
from shared.auth import Principal
from shared.problems import AppError

MAX_ROWS = 20


def row_problems(refused: dict[int, AppError]) -> list[dict[str, Any]]:
    """The per-row refusals as the API reports them (rows counted from 1)."""
    return [
        {"row": index + 1, "type": exc.type, "detail": exc.detail or exc.title}
        for index, exc in sorted(refused.items())
    ]


async def _state(
    session: AsyncSession, nip: str, days: list[dt.date], target_ids: list[int]
) -> Any:
    """Everything the rules need, in one SELECT: per day closed / attendance / minutes logged,
    per target whether it is the employee's."""
    employee_id = select(Employee.id).where(Employee.nip == nip).scalar_subquery()
    columns: list[Any] = [
        employee_id.label("employee_id"),
        select(Employee.active).where(Employee.nip == nip).scalar_subquery().label("active"),
    ]
    for k, day in enumerate(days):
        columns += [
            closed_on(literal(day, Date())).label(f"closed_{k}"),
            select(Attendance.status)
            .where(Attendance.employee_id == employee_id, Attendance.day == day)
            .scalar_subquery()
            .label(f"attendance_{k}"),
            select(func.coalesce(func.sum(Activity.minutes), 0))
            .where(
                Activity.employee_id == employee_id,
                Activity.activity_date == day,
                Activity.status != workflow.REJECTED.value,
            )
            .scalar_subquery()
            .label(f"logged_{k}"),
        ]
    for k, target_id in enumerate(target_ids):
        columns.append(
            exists()
            .where(Target.id == target_id, Target.employee_id == employee_id)
            .label(f"target_{k}")
        )
    return (await session.execute(select(*columns))).one()


def _refusals(
    ctx: Context,
    items: Sequence[schemas.ActivityCreate],
    state: Any,
    days: list[dt.date],
    target_ids: list[int],
    refused: dict[int, AppError],
) -> None:
    """Each row against the rules, in order: a row that passes counts towards its day's cap."""
    logged = {day: int(state._mapping[f"logged_{k}"]) for k, day in enumerate(days)}
    owned = {t: bool(state._mapping[f"target_{k}"]) for k, t in enumerate(target_ids)}
    for index, item in enumerate(items):
        if index in refused:
            continue
        k = days.index(item.date)
        refusal = entry_refusal(
            ctx,
            day=item.date,
            minutes=item.minutes,
            closed=bool(state._mapping[f"closed_{k}"]),
            attendance=state._mapping[f"attendance_{k}"],
            logged=logged[item.date],
            target_ok=item.target_id is None or owned[item.target_id],
            target_id=item.target_id,
        )
        if refusal is None:
            logged[item.date] += item.minutes
        else:
            refused[index] = refusal


def _after_sql(rows: Any) -> Any:
    """The event's `after` of each inserted row, as one entry's: date, minutes, status."""
    return func.jsonb_build_object(
        "date",
        cast(rows.c.activity_date, String()),
        "minutes",
        rows.c.minutes,
        "status",
        literal(workflow.SUBMITTED.value, String()),
    )


async def submit_batch(
    session: AsyncSession,
    items: Sequence[schemas.ActivityCreate],
    *,
    actor: Principal,
    ctx: Context,
) -> list[schemas.ActivityRead]:
    """Log several activities of the caller, all or none; a refusal names every refused row."""
    nip = actor.username
    refused: dict[int, AppError] = {}
    for index, item in enumerate(items):
        try:
            check_dates(ctx, item.date)
        except AppError as exc:
            refused[index] = exc
    connection = await session.connection()
    await serialize_employee(connection, nip)
    days = sorted({item.date for item in items})
    target_ids = sorted({i.target_id for i in items if i.target_id is not None})
    state = await _state(session, nip, days, target_ids)
    if state.employee_id is None or not state.active:
        raise errors.NotAnEmployeeError("Your account is not an active employee of the regency")
    _refusals(ctx, items, state, days, target_ids, refused)
    if refused:
        raise errors.BatchRejectedError(
            f"{len(refused)} of {len(items)} row(s) are refused; nothing was logged",
            rows=row_problems(refused),
        )
    now = ctx.now
    values = [
        {
            "employee_id": state.employee_id,
            "activity_date": item.date,
            "description": item.description,
            "minutes": item.minutes,
            "output_quantity": item.output_quantity,
            "output_unit": item.output_unit,
            "target_id": item.target_id,
            "status": workflow.PENDING.value,
            "created_at": now,
            "updated_at": now,
        }
        for item in items
    ]
    new_rows = insert(Activity).values(values)
    action = workflow.ACTIONS["submit"].event
    if connection.dialect.name == "postgresql":
        rows = new_rows.returning(Activity.id, Activity.activity_date, Activity.minutes).cte(
            "new_activities"
        )
        events = events_from(
            rows, AuditEvent, action=action, entity_type="activity", after=_after_sql(rows)
        ).cte("new_events")
        stmt = select(rows.c.id).add_cte(events).order_by(rows.c.id)
        params = audit_params(actor, occurred_at=now)
        ids = [int(i) for i in (await connection.execute(stmt, params)).scalars()]
    else:
        ids = [
            int(i) for i in (await connection.execute(new_rows.returning(Activity.id))).scalars()
        ]
        ids.sort()
        await audit_many(
            session,
            actor,
            now=now,
            action=action,
            entity_type="activity",
            items=[
                (
                    activity_id,
                    None,
                    {
                        "date": item.date.isoformat(),
                        "minutes": item.minutes,
                        "status": workflow.SUBMITTED.value,
                    },
                )
                for activity_id, item in zip(ids, items, strict=True)
            ],
        )
    return [
        schemas.ActivityRead(
            id=activity_id,
            nip=nip,
            date=item.date,
            description=item.description,
            minutes=item.minutes,
            output_quantity=item.output_quantity,
            output_unit=item.output_unit,
            target_id=item.target_id,
            status=workflow.SUBMITTED,
        )
        for activity_id, item in zip(ids, items, strict=True)
    ]
