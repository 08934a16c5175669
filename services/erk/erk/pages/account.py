"""The signed-in person's own account: changing the password."""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, Request
from fastapi.responses import RedirectResponse, Response

from erk import accounts
from erk.pages.common import Viewer, attempt, message_of, page_router
from shared.db import SessionDep
from shared.problems import AppError
from shared.sessions import reissue_session
from shared.web import render, root_of

router = page_router()


@router.get("/ganti-sandi")
async def password_form(request: Request, session: SessionDep, who: Viewer) -> Response:
    forced = await accounts.must_change_password(session, who.username)
    return render(request, "password.html", {"forced": forced}, principal=who)


@router.post("/ganti-sandi")
async def password_change(
    request: Request,
    session: SessionDep,
    who: Viewer,
    sandi_lama: Annotated[str, Form(max_length=256)],
    sandi_baru: Annotated[str, Form(max_length=256)],
    sandi_ulang: Annotated[str, Form(max_length=256)],
) -> Response:
    if sandi_baru != sandi_ulang:
        return render(
            request,
            "password.html",
            {"forced": True, "error": "Ulangan kata sandi baru tidak sama."},
            principal=who,
            status_code=422,
        )
    result = await attempt(
        session, lambda: accounts.change_password(session, who, sandi_lama, sandi_baru)
    )
    if isinstance(result, AppError):
        return render(
            request,
            "password.html",
            {"forced": True, "error": message_of(result)},
            principal=who,
            status_code=result.status,
        )
    response = RedirectResponse(f"{root_of(request)}/aktivitas", status_code=303)
    # The new password ended every earlier session, this one included: give it a new one.
    await reissue_session(request, response, session, who)
    return response
