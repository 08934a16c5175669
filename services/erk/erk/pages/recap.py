"""The unit recap for admins and auditors, and closing a month for HR."""

from __future__ import annotations

from functools import partial
from typing import Annotated

from fastapi import Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from erk import access, closing, dependencies, explain, people, periods, recap, schemas
from erk.dependencies import ContextDep
from erk.pages.common import (
    HrViewer,
    RecapViewer,
    attempt,
    month_label,
    month_param,
    outcome,
    page_router,
)
from shared.auth import Principal
from shared.db import SessionDep
from shared.web import bilangan, render

router = page_router()


@router.get("/rekap")
async def unit_recap(
    request: Request,
    session: SessionDep,
    who: RecapViewer,
    ctx: ContextDep,
    bulan: str | None = None,
    unit: str | None = None,
) -> Response:
    first = month_param(bulan, periods.previous_month(ctx.today))
    period = periods.period_of(first)
    scope = await access.scope_path(session, who)
    units = await people.list_units(session)
    path = scope
    chosen = next((u for u in units if u.code == unit), None)
    if chosen is not None and (scope is None or chosen.path.startswith(scope)):
        path = chosen.path
    result = await recap.recap_rows(session, ctx, period, unit_path=path)
    rows = [explain.to_read(r, result.rule) for r in result.rows]
    by_unit: dict[str, list[float]] = {}
    for r in rows:
        by_unit.setdefault(r.unit_code, []).append(r.performance_pct)
    unit_bars = sorted(
        ((code, round(sum(v) / len(v), 2), len(v)) for code, v in by_unit.items()),
        key=lambda item: -item[1],
    )
    return render(
        request,
        "recap.html",
        {
            "rows": sorted(rows, key=lambda r: -r.performance_pct),
            "unit_bars": unit_bars,
            "period": period,
            "label": month_label(first),
            "closed": result.closed,
            "rule_version": result.rule.version,
            "units": [u for u in units if scope is None or u.path.startswith(scope)],
            "unit": unit or "",
            "total": sum(r.tpp_total_idr for r in rows),
        },
        principal=who,
    )


async def _closing_page(
    request: Request,
    session: AsyncSession,
    who: Principal,
    ctx: dependencies.Context,
    period: str,
    *,
    error: str | None = None,
    status_code: int = 200,
    messages: list[tuple[str, str]] | None = None,
) -> HTMLResponse:
    ready = await closing.readiness(session, ctx, period)
    return render(
        request,
        "closing.html",
        {
            "period": period,
            "label": month_label(ready.month.start),
            "ready": ready,
            "error": error,
        },
        principal=who,
        status_code=status_code,
        messages=messages or [],
    )


@router.get("/tutup-bulan")
async def closing_form(
    request: Request,
    session: SessionDep,
    who: HrViewer,
    ctx: ContextDep,
    bulan: str | None = None,
) -> Response:
    """HR sees what stands between a month and its closing, then closes it."""
    first = month_param(bulan, periods.previous_month(ctx.today))
    return await _closing_page(request, session, who, ctx, periods.period_of(first))


@router.post("/tutup-bulan")
async def closing_submit(
    request: Request,
    session: SessionDep,
    who: HrViewer,
    ctx: ContextDep,
    bulan: Annotated[str, Form()],
    tetap_tutup: Annotated[str | None, Form()] = None,
) -> Response:
    period = periods.period_of(month_param(bulan, periods.previous_month(ctx.today)))
    result = await attempt(
        session,
        lambda: closing.close_period(
            session, period, actor=who, ctx=ctx, anyway=tetap_tutup == "1"
        ),
    )

    def done(closed: schemas.PeriodRead) -> str:
        left_out, missing = closed.not_counted_activities, closed.missing_attendance_days
        note = f"; {bilangan(left_out)} aktivitas tertunda tidak dihitung" if left_out else ""
        if missing:
            note += f"; {bilangan(missing)} hari kerja tanpa catatan kehadiran dibekukan"
        return f"Bulan {month_label(periods.parse_period(period))} ditutup{note}."

    return await outcome(result, partial(_closing_page, request, session, who, ctx, period), done)
