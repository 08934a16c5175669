"""Performance targets (SKP): proposed by the employee, approved by the supervisor."""

from __future__ import annotations

from functools import partial
from typing import Annotated

from fastapi import Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from erk import dependencies, schemas, targets
from erk.dependencies import ContextDep
from erk.pages.common import Viewer, attempt, outcome, page_router
from erk.pages.verification import inbox_page
from shared.auth import Principal
from shared.db import SessionDep
from shared.problems import AppError
from shared.web import render

router = page_router()


async def _targets_page(
    request: Request,
    session: AsyncSession,
    who: Principal,
    ctx: dependencies.Context,
    *,
    form: dict[str, str] | None = None,
    error: str | None = None,
    status_code: int = 200,
    messages: list[tuple[str, str]] | None = None,
) -> HTMLResponse:
    mine = await attempt(session, lambda: targets.list_targets(session, who.username, who, ctx))
    return render(
        request,
        "targets.html",
        {
            "targets": [] if isinstance(mine, AppError) else mine,
            "year": ctx.today.year,
            "form": form or {},
            "error": error,
        },
        principal=who,
        status_code=status_code,
        messages=messages or [],
    )


@router.get("/sasaran")
async def targets_page(
    request: Request, session: SessionDep, who: Viewer, ctx: ContextDep
) -> Response:
    return await _targets_page(request, session, who, ctx)


@router.post("/sasaran")
async def targets_propose(
    request: Request,
    session: SessionDep,
    who: Viewer,
    ctx: ContextDep,
    tahun: Annotated[str, Form()],
    judul: Annotated[str, Form()],
    jumlah: Annotated[str, Form()] = "",
    satuan: Annotated[str, Form()] = "",
) -> Response:
    form = {"tahun": tahun, "judul": judul, "jumlah": jumlah, "satuan": satuan}
    try:
        data = schemas.TargetCreate(
            year=int(tahun),
            title=judul.strip(),
            quantity=int(jumlah) if jumlah.strip() else None,
            output_unit=satuan.strip() or None,
        )
    except ValueError:
        return await _targets_page(
            request,
            session,
            who,
            ctx,
            form=form,
            error="Isi tahun, uraian sasaran (paling sedikit 3 huruf), dan jumlah berupa angka.",
            status_code=422,
        )
    return await outcome(
        await attempt(session, lambda: targets.create_target(session, data, actor=who, ctx=ctx)),
        partial(_targets_page, request, session, who, ctx, form=form),
        lambda _: "Sasaran diusulkan; menunggu persetujuan atasan.",
    )


@router.post("/sasaran/{target_id}/setujui")
async def targets_approve(
    request: Request,
    target_id: int,
    session: SessionDep,
    who: Viewer,
    ctx: ContextDep,
) -> Response:
    return await outcome(
        await attempt(
            session, lambda: targets.approve_target(session, target_id, actor=who, ctx=ctx)
        ),
        partial(inbox_page, request, session, who, ctx),
        lambda _: "Sasaran kinerja disetujui.",
    )
