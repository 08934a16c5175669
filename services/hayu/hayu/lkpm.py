"""LKPM (Laporan Kegiatan Penanaman Modal) reminders by business-size class.

Micro businesses are exempt; small ones report each semester (1-10 January and July), medium and
large ones each quarter (1-10 January, April, July and October). The windows are configuration
(`[hayu.lkpm]`); the class comes from the size-class rule in force on the day
(`size_classes`, PP 7/2021 Pasal 35), from the business's capital and annual sales.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hayu.dependencies import Context
from hayu.models import Application, Business
from hayu.schemas import LkpmDueRead


def window_open(ctx: Context, size_class: str, day: dt.date) -> bool:
    by_class = {str(k): v for k, v in ctx.hayu.lkpm.months.items()}
    months = by_class.get(size_class, [])
    return day.month in months and 1 <= day.day <= ctx.hayu.lkpm.last_day


def period_label(day: dt.date, size_class: str) -> str:
    """The period being reported: the previous quarter or semester."""
    if size_class == "kecil":
        return f"Semester {'II' if day.month == 1 else 'I'} {day.year - (day.month == 1)}"
    quarter = (day.month - 1) // 3 or 4
    return f"Triwulan {('I', 'II', 'III', 'IV')[quarter - 1]} {day.year - (day.month == 1)}"


async def due_on(session: AsyncSession, ctx: Context, day: dt.date) -> list[LkpmDueRead]:
    """Businesses with a live registration or permit whose LKPM window is open on `day`."""
    classes = ctx.hayu.size_classes_on(day)
    live = sorted({"issued", "registered"})
    rows = (
        await session.execute(
            select(
                Business.id,
                Business.name,
                Business.nib,
                Business.capital_idr,
                Business.annual_sales_idr,
            )
            .join(Application, Application.business_id == Business.id)
            .where(Application.status.in_(live))
            .distinct()
            .order_by(Business.id)
        )
    ).all()
    due = []
    for row in rows:
        size = classes.classify(row.capital_idr, row.annual_sales_idr)
        if window_open(ctx, size, day):
            due.append(
                LkpmDueRead(
                    business_id=row.id,
                    business_name=row.name,
                    nib=row.nib,
                    size_class=size,
                    period=period_label(day, size),
                    deadline=day.replace(day=ctx.hayu.lkpm.last_day),
                )
            )
    return due
