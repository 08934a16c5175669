"""Targets, daily activities, evidence, verification and escalation.

The hot paths (submitting and verifying activities) are Core statements: submitting is one
INSERT ... SELECT that checks the employee, the closed month, leave or absence, the daily cap and
the target in the same statement, and only a refused insert pays for a second query that says
which rule was broken. Verifying loads the rows with their supervisors in one SELECT and changes
them with one UPDATE; the audit events go in one executemany.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    BigInteger,
    Date,
    Integer,
    String,
    bindparam,
    exists,
    func,
    insert,
    literal,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from erk import errors, schemas, workflow
from erk.access import (
    READ_ALL_ROLES,
    ensure_may_read,
    get_employee,
    scope_path,
)
from erk.dependencies import Context
from erk.models import (
    Activity,
    Attendance,
    AuditEvent,
    Employee,
    IdempotencyRecord,
    Target,
    Unit,
)
from erk.periods import (
    closed_on,
    ensure_month_open,
    entry_open_from,
    next_month,
    parse_period,
    period_of,
)
from shared.audit import audit_params, events_from, record_event
from shared.auth import Principal
from shared.db import StatementRunner, UTCDateTime
from shared.idempotency import Idempotency, record_from, record_params
from shared.pagination import InvalidCursorError, decode_cursor, keyset_page
from shared.problems import AppError
from shared.rows import read_model


def check_dates(ctx: Context, day: dt.date) -> None:
    if day > ctx.today:
        raise errors.ActivityDateInFutureError(
            f"{day.isoformat()} is after today ({ctx.today.isoformat()})"
        )
    if not ctx.calendar.is_working_day(day):
        raise errors.NonWorkingDayError(
            f"{day.isoformat()} is not a working day: activities are logged on working days"
        )
    if day < entry_open_from(ctx):
        raise errors.EntryCutoffPassedError(
            f"Activities of {period_of(day)} could be entered until day "
            f"{ctx.erk.entry_cutoff_day} of the next month"
        )


async def _diagnose(
    session: AsyncSession,
    ctx: Context,
    *,
    nip: str,
    day: dt.date,
    minutes: int,
    target_id: int | None,
    exclude_id: int | None = None,
) -> None:
    """Say which rule refused a write (only refused writes pay for this query)."""
    employee_id = select(Employee.id).where(Employee.nip == nip).scalar_subquery()
    others = select(func.coalesce(func.sum(Activity.minutes), 0)).where(
        Activity.employee_id == employee_id,
        Activity.activity_date == day,
        Activity.status != workflow.REJECTED.value,
    )
    if exclude_id is not None:
        others = others.where(Activity.id != exclude_id)
    row = (
        await session.execute(
            select(
                employee_id.label("employee_id"),
                select(Employee.active).where(Employee.nip == nip).scalar_subquery().label("a"),
                closed_on(literal(day, Date())).label("closed"),
                select(Attendance.status)
                .where(Attendance.employee_id == employee_id, Attendance.day == day)
                .scalar_subquery()
                .label("attendance"),
                others.scalar_subquery().label("logged"),
                (
                    select(Target.id)
                    .where(Target.id == target_id, Target.employee_id == employee_id)
                    .scalar_subquery()
                    if target_id is not None
                    else literal(None, Integer())
                ).label("target"),
            )
        )
    ).one()
    if row.employee_id is None or not row.a:
        raise errors.NotAnEmployeeError("Your account is not an active employee of the regency")
    refusal = entry_refusal(
        ctx,
        day=day,
        minutes=minutes,
        closed=bool(row.closed),
        attendance=row.attendance,
        logged=int(row.logged),
        target_ok=target_id is None or row.target is not None,
        target_id=target_id,
    )
    if refusal is not None:
        raise refusal


def entry_refusal(
    ctx: Context,
    *,
    day: dt.date,
    minutes: int,
    closed: bool,
    attendance: str | None,
    logged: int,
    target_ok: bool,
    target_id: int | None,
) -> AppError | None:
    """The rule an entry on `day` breaks given the day's state (None: it may be logged); shared
    by the single entry's diagnosis and every row of a batch, so both refuse alike."""
    if closed:
        return errors.PeriodClosedError(f"{period_of(day)} is closed; nothing more can be logged")
    if attendance in schemas.NO_WORK_STATUSES:
        return errors.AbsentOnDateError(
            f"Attendance records {attendance} on {day.isoformat()}: no activity can be logged"
        )
    cap = ctx.erk.daily_cap_minutes
    if logged + minutes > cap:
        return errors.DailyCapExceededError(
            f"{logged} minutes are already logged on {day.isoformat()}; adding {minutes} "
            f"would pass the daily cap of {cap}",
            logged_minutes=logged,
            daily_cap_minutes=cap,
        )
    if not target_ok:
        return errors.TargetNotFoundError(f"Target {target_id} is not one of your targets")
    return None


_EMPLOYEE_LOCK = select(
    func.pg_advisory_xact_lock(func.hashtext(bindparam("lock_key", type_=String())))
)


def employee_lock_key(nip: str) -> str:
    """The advisory lock every writer of one employee's entries takes (`serialize_employee`,
    and inside the single entry's statement `erk.logged_minutes_locked`)."""
    return f"erk-activity:{nip}"


async def serialize_employee(connection: AsyncConnection, nip: str) -> None:
    """One writer per employee at a time, so two simultaneous entries cannot both pass the cap.

    PostgreSQL under READ COMMITTED takes each statement's snapshot when it starts, so the lock must
    be its own statement, before the statements that read the cap; it is released at commit. (A
    single entry takes it inside its one statement instead: `_submit_statement`.) SQLite needs
    nothing: BEGIN IMMEDIATE already lets one writer in at a time.
    """
    if connection.dialect.name == "postgresql":
        await connection.execute(_EMPLOYEE_LOCK, {"lock_key": employee_lock_key(nip)})


def _submit_statement(*, with_target: bool, locks: bool = False) -> Any:
    """INSERT ... SELECT that inserts only when every entry rule holds (built once, bound later).

    With `locks` (PostgreSQL) the minutes already logged come from `erk.logged_minutes_locked`
    (migration erk_0007): it takes the employee's lock and only then reads the sum, with a
    snapshot of its own (a VOLATILE function), so the statement needs no lock statement before it.
    Without, the caller holds the lock already (or SQLite's BEGIN IMMEDIATE does)."""
    day = bindparam("day", type_=Date())
    logged: Any
    if locks:
        logged = func.erk.logged_minutes_locked(
            Employee.id,
            bindparam("lock_key", type_=String()),
            day,
            literal(workflow.REJECTED.value, String()),
        )
    else:
        logged = (
            select(func.coalesce(func.sum(Activity.minutes), 0))
            .where(
                Activity.employee_id == Employee.id,
                Activity.activity_date == day,
                Activity.status != workflow.REJECTED.value,
            )
            .scalar_subquery()
        )
    conditions = [
        Employee.nip == bindparam("nip", type_=String()),
        Employee.active.is_(True),
        ~closed_on(day),
        ~exists().where(
            Attendance.employee_id == Employee.id,
            Attendance.day == day,
            # one bound value each, not a list: an `IN` list is rendered into the text anew
            # at every execution, these are compiled once with the statement
            Attendance.status.in_([literal(s.value, String()) for s in schemas.NO_WORK_STATUSES]),
        ),
        logged + bindparam("minutes", type_=Integer()) <= bindparam("cap", type_=Integer()),
    ]
    if with_target:
        conditions.append(
            exists().where(
                Target.id == bindparam("target_id", type_=BigInteger()),
                Target.employee_id == Employee.id,
            )
        )
    source = select(
        Employee.id,
        day,
        bindparam("description", type_=String()),
        bindparam("minutes", type_=Integer()),
        bindparam("output_quantity", type_=Integer()),
        bindparam("output_unit", type_=String()),
        bindparam("target_id", type_=BigInteger()),
        literal(workflow.PENDING.value, String()),
        bindparam("created_at", type_=UTCDateTime()),
        bindparam("updated_at", type_=UTCDateTime()),
    ).where(*conditions)
    return (
        insert(Activity)
        .from_select(
            [
                "employee_id",
                "activity_date",
                "description",
                "minutes",
                "output_quantity",
                "output_unit",
                "target_id",
                "status",
                "created_at",
                "updated_at",
            ],
            source,
        )
        .returning(Activity.id)
    )


# Built once per process: a request only binds values (no statement building, cached compile).
_SUBMIT = {False: _submit_statement(with_target=False), True: _submit_statement(with_target=True)}


def _submit_recorded(stmt: Any) -> Any:
    """PostgreSQL: the employee's lock, the checked insert, its audit event and the idempotency
    record (the answer, when the request has a key) in ONE statement of data-modifying CTEs. It
    returns one row: the new id (NULL when a rule refused the entry) and whether the idempotency
    record was written. The statement may run as a transaction of its own (autocommit), so a
    taken key fails all of it (`taken_key_fails`): nothing of a retry stands, and the request's
    failure handler answers with the stored response."""
    rows = stmt.cte("new_activity")
    events = events_from(
        rows, AuditEvent, action=workflow.ACTIONS["submit"].event, entity_type="activity"
    )
    record = record_from(rows, IdempotencyRecord, taken_key_fails=True).cte("new_record")
    stored = select(func.count()).select_from(record).scalar_subquery()
    new_id = select(rows.c.id).scalar_subquery()
    return select(new_id.label("id"), stored.label("stored")).add_cte(events.cte("new_event"))


_SUBMIT_RECORDED = {
    with_target: _submit_recorded(_submit_statement(with_target=with_target, locks=True))
    for with_target in (False, True)
}


async def submit_activity(
    session: AsyncSession,
    data: schemas.ActivityCreate,
    *,
    actor: Principal,
    ctx: Context,
    idem: Idempotency | None = None,
    standalone: StatementRunner | None = None,
) -> schemas.ActivityRead:
    """Log one activity; with `idem`, PostgreSQL stores the answer in the same statement. On
    PostgreSQL the entry is one statement (lock, checks, insert, audit event, record); with
    `standalone` (the API route, whose transaction has done nothing yet and does nothing after)
    it runs as a transaction of its own: one round trip, and the employee's lock is released as
    it commits."""
    check_dates(ctx, data.date)
    nip = actor.username
    now = ctx.now
    params = {
        "nip": nip,
        "day": data.date,
        "minutes": data.minutes,
        "cap": ctx.erk.daily_cap_minutes,
        "description": data.description,
        "output_quantity": data.output_quantity,
        "output_unit": data.output_unit,
        "target_id": data.target_id,
        "created_at": now,
        "updated_at": now,
    }
    after = {
        "date": data.date.isoformat(),
        "minutes": data.minutes,
        "status": workflow.SUBMITTED.value,
    }
    with_target = data.target_id is not None
    postgres = session.get_bind().dialect.name == "postgresql"
    read = schemas.ActivityRead(
        id=0,  # set below (and, in the stored answer, in SQL)
        nip=nip,
        date=data.date,
        description=data.description,
        minutes=data.minutes,
        output_quantity=data.output_quantity,
        output_unit=data.output_unit,
        target_id=data.target_id,
        status=workflow.SUBMITTED,
    )
    if postgres:
        params |= audit_params(actor, after=after, occurred_at=now)
        params |= record_params(idem, read, 201)
        params["lock_key"] = employee_lock_key(nip)
        statement = _SUBMIT_RECORDED[with_target]
        if standalone is not None:
            row = await standalone(statement, params)
        else:
            # On the connection: with a parameter dict the ORM session would take this for a
            # bulk insert.
            row = (await (await session.connection()).execute(statement, params)).one()
        activity_id = None if row.id is None else int(row.id)
        if activity_id is not None and idem is not None:
            read.id = activity_id
            await idem.settle(bool(row.stored))
    else:
        connection = await session.connection()
        activity_id = (await connection.execute(_SUBMIT[with_target], params)).scalar()
    if activity_id is None:
        await _diagnose(
            session, ctx, nip=nip, day=data.date, minutes=data.minutes, target_id=data.target_id
        )
        raise errors.ActivityNotPendingError("The activity could not be logged; try again")
    if not postgres:
        await record_event(
            session,
            AuditEvent,
            actor=actor,
            action=workflow.ACTIONS["submit"].event,
            entity_type="activity",
            entity_id=activity_id,
            after=after,
            occurred_at=now,
        )
    read.id = activity_id
    return read


def activity_read(activity: Any, nip: str) -> schemas.ActivityRead:
    """From an `Activity` row, or a result row with its columns (the list's)."""
    return read_model(
        schemas.ActivityRead,
        activity,
        nip=nip,
        date=activity.activity_date,
        has_evidence=activity.evidence_sha256 is not None,
    )


async def update_activity(
    session: AsyncSession,
    activity_id: int,
    data: schemas.ActivityUpdate,
    *,
    actor: Principal,
    ctx: Context,
) -> schemas.ActivityRead:
    """Correct one's own activity that is not yet approved; a rejected one is resubmitted."""
    activity = await own_activity(session, activity_id, actor=actor)
    nip = actor.username
    action = workflow.owner_action(activity.status)
    workflow.ensure_owner_may(action.name, activity.status)
    changes = data.model_dump(exclude_unset=True)
    new_day = changes.get("date") or activity.activity_date
    new_minutes = changes.get("minutes") or activity.minutes
    target_id = changes.get("target_id", activity.target_id)
    check_dates(ctx, activity.activity_date)
    check_dates(ctx, new_day)
    await serialize_employee(await session.connection(), nip)
    await _diagnose(
        session,
        ctx,
        nip=nip,
        day=new_day,
        minutes=new_minutes,
        target_id=target_id,
        exclude_id=activity.id,
    )
    if activity.activity_date != new_day:
        await ensure_month_open(session, activity.activity_date)
    before = {
        "date": activity.activity_date.isoformat(),
        "minutes": activity.minutes,
        "status": activity.status,
    }
    values: dict[str, Any] = {
        "activity_date": new_day,
        "minutes": new_minutes,
        "target_id": target_id,
        "status": action.to_state,
        "verified_by": None,
        "verified_at": None,
        "note": None,
        "escalated_to_nip": None,
        "updated_at": ctx.now,
    }
    if changes.get("description"):
        values["description"] = changes["description"]
    for key in ("output_quantity", "output_unit"):
        if key in changes:
            values[key] = changes[key]
    await session.execute(update(Activity).where(Activity.id == activity.id).values(**values))
    await record_event(
        session,
        AuditEvent,
        actor=actor,
        action=action.event,
        entity_type="activity",
        entity_id=activity.id,
        before=before,
        after={"date": new_day.isoformat(), "minutes": new_minutes, "status": action.to_state},
    )
    for key, value in values.items():
        setattr(activity, key, value)
    return activity_read(activity, nip)


async def own_activity(
    session: AsyncSession, activity_id: int, *, actor: Principal, verb: str = "change"
) -> Activity:
    """The actor's own activity; 404 when there is none, 403 when someone else logged it."""
    row = (
        await session.execute(
            select(Activity, Employee.nip)
            .join(Employee, Employee.id == Activity.employee_id)
            .where(Activity.id == activity_id)
        )
    ).first()
    if row is None:
        raise errors.ActivityNotFoundError(f"No activity {activity_id}")
    activity, nip = row[0], row[1]
    if nip != actor.username:
        raise errors.NotYourActivityError(f"Only the employee who logged it may {verb} it")
    return activity


async def own_open_activity(
    session: AsyncSession, activity_id: int, *, actor: Principal, ctx: Context, action: str
) -> Activity:
    """The actor's own activity that the workflow still lets them `action`, in an open month."""
    activity = await own_activity(session, activity_id, actor=actor)
    workflow.ensure_owner_may(action, activity.status)
    await ensure_month_open(session, activity.activity_date)
    check_dates(ctx, activity.activity_date)
    return activity


async def delete_activity(
    session: AsyncSession, activity_id: int, *, actor: Principal, ctx: Context
) -> None:
    """The employee withdraws their own entry that is not approved (pending or rejected)."""
    activity = await own_open_activity(session, activity_id, actor=actor, ctx=ctx, action="delete")
    before = {
        "date": activity.activity_date.isoformat(),
        "minutes": activity.minutes,
        "status": activity.status,
        "description": activity.description,
    }
    await session.delete(activity)
    await session.flush()
    await record_event(
        session,
        AuditEvent,
        actor=actor,
        action=workflow.ACTIONS["delete"].event,
        entity_type="activity",
        entity_id=activity_id,
        before=before,
    )


async def list_activities(
    session: AsyncSession,
    *,
    actor: Principal,
    ctx: Context,
    nip: str | None,
    month: str | None,
    status: schemas.ActivityStatus | None,
    limit: int,
    cursor: str | None,
) -> tuple[list[schemas.ActivityRead], str | None]:
    stmt = select(
        Activity.id,
        Activity.activity_date,
        Activity.description,
        Activity.minutes,
        Activity.output_quantity,
        Activity.output_unit,
        Activity.target_id,
        Activity.status,
        Activity.verified_by,
        Activity.note,
        Activity.escalated_to_nip,
        Activity.evidence_sha256,
        Employee.nip,
    ).join(Employee, Employee.id == Activity.employee_id)
    if nip is None and not actor.has_any(*READ_ALL_ROLES, "unit_admin"):
        nip = actor.username
    if nip is not None:
        employee, unit = await get_employee(session, nip)
        await ensure_may_read(session, actor, employee, unit, today=ctx.today)
        stmt = stmt.where(Activity.employee_id == employee.id)
    else:
        scope = await scope_path(session, actor)
        if scope is not None:
            stmt = stmt.join(Unit, Unit.id == Employee.unit_id).where(Unit.path.startswith(scope))
    if month is not None:
        first = parse_period(month)
        stmt = stmt.where(
            Activity.activity_date >= first, Activity.activity_date < next_month(first)
        )
    if status is not None:
        stmt = stmt.where(Activity.status == status.value)
    if cursor:
        day, last_id = decode_cursor(cursor, 2)
        if not isinstance(day, dt.date) or not isinstance(last_id, int) or not 0 < last_id < 2**63:
            raise InvalidCursorError("The cursor is not one this list gave out")
    rows, next_cursor = await keyset_page(
        session,
        stmt,
        keys=[Activity.activity_date, Activity.id],
        limit=limit,
        cursor=cursor,
    )
    return [activity_read(r, r.nip) for r in rows], next_cursor
