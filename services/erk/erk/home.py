"""The employee's start page: today's and this month's minutes against the standard, what waits
for them (rejected entries to correct, entries still pending), and for a supervisor or an acting
official what waits for their verification, oldest first, and whom they act for."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import and_, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from erk import errors, recap, schemas, verification, workflow
from erk.dependencies import Context
from erk.models import Activity, Delegation, Employee
from erk.periods import closed_on, next_month, period_of
from erk.recap_sql import month_of
from shared.auth import Principal

OLDEST_SHOWN = 5


@dataclass
class ActingPost:
    """A delegation in force today: the caller verifies for `supervisor` until `until`."""

    supervisor_name: str
    supervisor_position: str
    until: dt.date
    subordinates: int


@dataclass
class Home:
    employee: bool
    today_working: bool
    today_minutes: int = 0
    daily_standard: int = 0
    month_logged: int = 0
    month_recap: schemas.RecapRow | None = None
    pending_own: int = 0
    rejected_own: list[Activity] = field(default_factory=list)
    to_verify: int = 0
    oldest_to_verify: list[tuple[schemas.ActivityRead, str]] = field(default_factory=list)
    acting: list[ActingPost] = field(default_factory=list)


async def _own_figures(session: AsyncSession, nip: str, ctx: Context, home: Home) -> None:
    first = ctx.today.replace(day=1)
    counted = Activity.status != workflow.REJECTED.value
    row = (
        await session.execute(
            select(
                func.coalesce(
                    func.sum(
                        case((and_(counted, Activity.activity_date == ctx.today), Activity.minutes))
                    ),
                    0,
                ).label("today"),
                func.coalesce(func.sum(case((counted, Activity.minutes))), 0).label("month"),
            )
            .join(Employee, Employee.id == Activity.employee_id)
            .where(
                Employee.nip == nip,
                Activity.activity_date >= first,
                Activity.activity_date < next_month(first),
            )
        )
    ).one()
    home.today_minutes, home.month_logged = int(row.today), int(row.month)
    home.pending_own = int(
        await session.scalar(
            select(func.count())
            .select_from(Activity)
            .join(Employee, Employee.id == Activity.employee_id)
            .where(Employee.nip == nip, Activity.status == workflow.PENDING.value)
        )
        or 0
    )
    home.rejected_own = list(
        await session.scalars(
            select(Activity)
            .join(Employee, Employee.id == Activity.employee_id)
            .where(
                Employee.nip == nip,
                Activity.status == workflow.REJECTED.value,
                ~closed_on(Activity.activity_date),
            )
            .order_by(Activity.activity_date, Activity.id)
            .limit(20)
        )
    )
    try:
        home.month_recap = await recap.recap_of(session, ctx, period_of(ctx.today), nip)
    except errors.RecapNotFoundError:
        home.month_recap = None


async def _acting_posts(session: AsyncSession, nip: str, today: dt.date) -> list[ActingPost]:
    staff = aliased(Employee)
    subordinates = (
        select(func.count())
        .select_from(staff)
        .where(staff.supervisor_nip == Delegation.supervisor_nip, staff.active.is_(True))
        .correlate(Delegation)
        .scalar_subquery()
    )
    rows = await session.execute(
        select(Employee.name, Employee.position, Delegation.end_date, subordinates.label("n"))
        .join(Employee, Employee.nip == Delegation.supervisor_nip)
        .where(
            Delegation.delegate_nip == nip,
            Delegation.start_date <= today,
            Delegation.end_date >= today,
        )
        .order_by(Delegation.end_date, Employee.name)
    )
    return [ActingPost(r.name, r.position, r.end_date, int(r.n)) for r in rows]


async def home_of(session: AsyncSession, *, actor: Principal, ctx: Context) -> Home:
    nip = actor.username
    is_employee = await session.scalar(select(Employee.id).where(Employee.nip == nip)) is not None
    month = month_of(ctx, period_of(ctx.today))
    home = Home(
        employee=is_employee,
        today_working=ctx.calendar.is_working_day(ctx.today),
        daily_standard=month.day_credit,
    )
    if not is_employee:
        return home
    await _own_figures(session, nip, ctx, home)
    waiting = await verification.pending_for(session, actor=actor, ctx=ctx, limit=1000)
    home.to_verify = len(waiting)
    home.oldest_to_verify = sorted(waiting, key=lambda w: (w[0].date, w[0].id))[:OLDEST_SHOWN]
    home.acting = await _acting_posts(session, nip, ctx.today)
    return home
