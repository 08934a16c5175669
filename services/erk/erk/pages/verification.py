"""The supervisor's queue: activities and targets waiting for verification."""

from __future__ import annotations

import datetime as dt
from functools import partial
from typing import Annotated

from fastapi import Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from erk import dependencies, schemas, targets, verification
from erk.dependencies import ContextDep
from erk.pages.common import Viewer, attempt, outcome, page_router
from shared.auth import Principal
from shared.db import SessionDep
from shared.web import render

router = page_router()


async def inbox_page(
    request: Request,
    session: AsyncSession,
    who: Principal,
    ctx: dependencies.Context,
    *,
    error: str | None = None,
    messages: list[tuple[str, str]] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    params = request.query_params
    if error:
        messages = [("error", error)]
    nip = params.get("pegawai") or None
    try:
        day = dt.date.fromisoformat(params["tanggal"]) if params.get("tanggal") else None
    except ValueError:
        day = None
    everyone = await verification.pending_for(session, actor=who, ctx=ctx)
    items = [
        (a, name)
        for a, name in everyone
        if (nip is None or a.nip == nip) and (day is None or a.date == day)
    ]
    people = sorted({(a.nip, name) for a, name in everyone}, key=lambda p: p[1])
    waiting = await targets.targets_to_approve(session, actor=who, ctx=ctx)
    return render(
        request,
        "inbox.html",
        {
            "items": items,
            "targets": waiting,
            "people": people,
            "pegawai": nip or "",
            "tanggal": day.isoformat() if day else "",
            "all_ticked": params.get("pilih") == "semua",
            "acting_for": await verification.acting_for_names(session, actor=who, ctx=ctx),
        },
        principal=who,
        messages=messages or [],
        status_code=status_code,
    )


@router.get("/verifikasi")
async def inbox(request: Request, session: SessionDep, who: Viewer, ctx: ContextDep) -> Response:
    return await inbox_page(request, session, who, ctx)


@router.post("/verifikasi")
async def inbox_decide(
    request: Request,
    session: SessionDep,
    who: Viewer,
    ctx: ContextDep,
    keputusan: Annotated[str, Form()],
    aktivitas: Annotated[list[int] | None, Form()] = None,
    alasan: Annotated[str, Form()] = "",
) -> Response:
    if not aktivitas:
        return await inbox_page(
            request,
            session,
            who,
            ctx,
            error="Pilih paling sedikit satu aktivitas.",
            status_code=422,
        )
    decision = schemas.Decision.rejected if keputusan == "rejected" else schemas.Decision.approved
    ids = list(aktivitas)
    done = "disetujui" if decision == schemas.Decision.approved else "ditolak"
    return await outcome(
        await attempt(
            session,
            lambda: verification.verify_activities(
                session, ids, decision, alasan, actor=who, ctx=ctx
            ),
        ),
        partial(inbox_page, request, session, who, ctx),
        lambda _: f"{len(ids)} aktivitas {done}.",
    )
