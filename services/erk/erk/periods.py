"""Months and their windows: a day's month, until when it may be entered or verified, closing."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Date, exists, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from erk import errors
from erk.dependencies import Context
from erk.models import Period


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


def entry_open_from(ctx: Context) -> dt.date:
    return open_from(ctx.today, ctx.erk.entry_cutoff_day)


def verification_boundary(ctx: Context) -> dt.date:
    """Activities dated before this are past the supervisor's deadline and escalate."""
    return open_from(ctx.today, ctx.erk.verification_deadline_day)


def closed_on(day: Any) -> Any:
    return exists().where(Period.start_date <= day, Period.end_date >= day)


async def ensure_month_open(session: AsyncSession, day: dt.date) -> None:
    closed = await session.scalar(select(closed_on(literal(day, Date()))))
    if closed:
        raise errors.PeriodClosedError(f"{period_of(day)} is closed; attendance is frozen")
