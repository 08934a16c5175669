"""The employee's month: a calendar of verified, pending and rejected minutes, the TPP so far."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import Request
from fastapi.responses import Response
from sqlalchemy import func, select

from erk import explain, periods, recap, workflow
from erk.dependencies import ContextDep
from erk.models import Activity, Employee
from erk.pages.common import Viewer, month_label, month_param, page_router
from shared.db import SessionDep
from shared.web import render

router = page_router()


@router.get("/bulan-saya")
async def my_month(
    request: Request,
    session: SessionDep,
    who: Viewer,
    ctx: ContextDep,
    bulan: str | None = None,
) -> Response:
    first = month_param(bulan, ctx.today)
    after = periods.next_month(first)
    sums = (
        await session.execute(
            select(Activity.activity_date, Activity.status, func.sum(Activity.minutes))
            .join(Employee, Employee.id == Activity.employee_id)
            .where(
                Employee.nip == who.username,
                Activity.activity_date >= first,
                Activity.activity_date < after,
            )
            .group_by(Activity.activity_date, Activity.status)
        )
    ).all()
    per_day: dict[dt.date, dict[str, int]] = {}
    for day, status, minutes in sums:
        per_day.setdefault(day, {})[status] = int(minutes)
    weeks: list[list[dict[str, Any] | None]] = []
    week: list[dict[str, Any] | None] = [None] * first.weekday()
    day = first
    while day < after:
        counts = per_day.get(day, {})
        verified = counts.get(workflow.COUNTED, 0)
        working = ctx.calendar.is_working_day(day)
        if not working:
            tone = "libur"
        elif verified >= 300:
            tone = "penuh"
        elif verified > 0:
            tone = "sebagian"
        elif counts.get(workflow.PENDING):
            tone = "menunggu"
        else:
            tone = "kosong"
        week.append(
            {
                "day": day,
                "verified": verified,
                "pending": counts.get(workflow.PENDING, 0),
                "rejected": counts.get(workflow.REJECTED, 0),
                "tone": tone,
            }
        )
        if len(week) == 7:
            weeks.append(week)
            week = []
        day += dt.timedelta(days=1)
    if week:
        weeks.append(week + [None] * (7 - len(week)))
    result = await recap.recap_rows(session, ctx, periods.period_of(first), nip=who.username)
    row = explain.to_read(result.rows[0], result.rule) if result.rows else None
    return render(
        request,
        "month.html",
        {
            "weeks": weeks,
            "label": month_label(first),
            "period": periods.period_of(first),
            "previous": periods.period_of(periods.previous_month(first)),
            "next": periods.period_of(after),
            "row": row,
            "closed": result.closed,
            "totals": {
                s: sum(v.get(s, 0) for v in per_day.values())
                for s in (workflow.APPROVED, workflow.SUBMITTED, workflow.REJECTED)
            },
        },
        principal=who,
    )
