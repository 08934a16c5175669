"""Public pages: home, tracking a proposal, the transparency ledger, verifying a document."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from sabilulungan import budgets, issued, public
from sabilulungan.dependencies import context_of
from sabilulungan.pages.common import KIND_LABELS, problem
from shared.auth import OptionalPrincipal
from shared.db import SessionDep
from shared.problems import AppError
from shared.web import render, root_of

router = APIRouter(include_in_schema=False)


@router.get("/")
async def home(request: Request, principal: OptionalPrincipal) -> HTMLResponse:
    ctx = context_of(request.app.state)
    return render(request, "index.html", {"year": ctx.today.year + 1}, principal=principal)


@router.get("/lacak")
async def track_form(
    request: Request, kode: Annotated[str | None, Query(max_length=40)] = None
) -> Response:
    if kode:
        return RedirectResponse(f"{root_of(request)}/lacak/{kode.strip()}", status_code=303)
    return render(request, "track_form.html", {})


@router.get("/lacak/{code}")
async def track_page(request: Request, code: str, session: SessionDep) -> Response:
    ctx = context_of(request.app.state)
    try:
        tracked = await public.track(session, ctx, code)
    except AppError as exc:
        return render(
            request,
            "track_form.html",
            {"code": code},
            status_code=404,
            messages=[("error", problem(exc))],
        )
    longest = max([t.working_days for t in tracked.timeline] + [1])
    return render(
        request,
        "track.html",
        {"t": tracked, "longest": longest, "kinds": KIND_LABELS},
    )


@router.get("/transparansi")
async def transparency(
    request: Request,
    session: SessionDep,
    tahun: Annotated[int | None, Query(ge=2000, le=2100)] = None,
) -> HTMLResponse:
    ctx = context_of(request.app.state)
    year = tahun or ctx.today.year + 1
    budget = await budgets.public_budget(session, ctx, year)
    rows = await public.ledger_all(session, ctx, fiscal_year=year, kind=None)
    return render(
        request,
        "transparency.html",
        {"year": year, "budget": budget, "rows": rows, "kinds": KIND_LABELS, "ctx": ctx},
    )


@router.get("/verify/{number}")
async def verify_page(
    request: Request,
    number: str,
    session: SessionDep,
    t: Annotated[str | None, Query(max_length=2000)] = None,
) -> Response:
    ctx = context_of(request.app.state)
    try:
        result = await issued.verification(session, ctx, number, t)
    except AppError:
        return render(request, "verify.html", {"result": None, "number": number}, status_code=404)
    return render(
        request, "verify.html", {"result": result, "number": number, "head_title": ctx.head_title}
    )
