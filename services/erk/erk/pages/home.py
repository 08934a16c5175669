"""The start page: for a signed-in employee what today and this month look like and what waits;
for everyone else what e-RK is."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response

from erk import home as home_figures
from erk import workflow
from erk.dependencies import ContextDep
from erk.pages.common import page_router, signed_in
from shared.auth import OptionalPrincipal
from shared.db import SessionDep
from shared.web import render

router = page_router()


@router.get("/")
async def home(
    request: Request, session: SessionDep, principal: OptionalPrincipal, ctx: ContextDep
) -> Response:
    if principal is None:
        return render(request, "index.html")
    who = await signed_in(request, session, principal)
    if isinstance(who, Response):
        return who  # the password-change redirect
    figures = await home_figures.home_of(session, actor=who, ctx=ctx)
    return render(
        request,
        "home.html",
        {"home": figures, "today": ctx.today, "status_id": workflow.LABELS_ID},
        principal=who,
    )
