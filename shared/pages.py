"""The page-action preamble every service's pages share, written once.

A page route declares who may see it (`Viewer`, or a `viewer_with(...)` guard), runs its domain
call with `attempt` (a savepoint in the request's session) or `attempt_alone` (a transaction of its
own, for pages that draw their answer from a fresh session), and answers with `outcome`: the page
again with the Indonesian refusal next to the form, or what was done. A dependency that must answer
at once (to the login page with the path kept in `next`, or a 403 page) raises `PageExit`, which
`PageRoute` turns into the response; use `page_router()` for a service's page routes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from typing import Annotated, Any, TypeVar
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from sqlalchemy.ext.asyncio import AsyncSession

from shared.auth import OptionalPrincipal, Principal
from shared.problems import AppError
from shared.web import render, root_of

T = TypeVar("T")


class PageExit(Exception):  # noqa: N818 - not an error: the page answers with `response`
    """Raised by a page dependency to answer at once (a redirect to log in, a refusal)."""

    def __init__(self, response: Response) -> None:
        self.response = response


class PageRoute(APIRoute):
    """A page route whose dependencies may answer for it by raising `PageExit`."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def run(request: Request) -> Response:
            try:
                return await handler(request)
            except PageExit as exit_:
                return exit_.response

        return run


def page_router() -> APIRouter:
    return APIRouter(include_in_schema=False, route_class=PageRoute)


def login_redirect(request: Request) -> RedirectResponse:
    """To the login page, which brings the person back to this page (`next`) afterwards."""
    return RedirectResponse(
        f"{root_of(request)}/login?next={quote(request.url.path)}", status_code=303
    )


async def page_viewer(request: Request, principal: OptionalPrincipal) -> Principal:
    """The signed-in person; anyone else is sent to the login page."""
    if principal is None:
        raise PageExit(login_redirect(request))
    return principal


def refusal(request: Request, who: Principal, detail: str) -> HTMLResponse:
    return render(
        request,
        "error.html",
        {"title": "Tidak diizinkan", "detail": detail, "status": 403},
        status_code=403,
        principal=who,
    )


def viewer_with(
    *roles: str,
    detail: str,
    viewer: Callable[..., Awaitable[Principal]] = page_viewer,
) -> Callable[..., Awaitable[Principal]]:
    """The signed-in person (`viewer`) holding one of `roles`; anyone else sees `detail` (403)."""

    # `Depends(viewer)` as the default, not in the annotation: annotations are strings here
    # (`from __future__ import annotations`) and FastAPI cannot resolve a closure's `viewer`.
    async def dependency(request: Request, who: Principal = Depends(viewer)) -> Principal:
        if not who.has_any(*roles):
            raise PageExit(refusal(request, who, detail))
        return who

    return dependency


Viewer = Annotated[Principal, Depends(page_viewer)]


async def attempt(session: AsyncSession, action: Callable[[], Awaitable[T]]) -> T | AppError:
    """Run a domain call in a savepoint: a refused form leaves nothing half-written."""
    try:
        async with session.begin_nested():
            return await action()
    except AppError as exc:
        return exc


async def attempt_alone(
    request: Request, action: Callable[[AsyncSession], Awaitable[T]]
) -> T | AppError:
    """Run a domain call in a transaction of its own, committed before the page is drawn."""
    try:
        async with request.app.state.db.sessionmaker.begin() as session:
            return await action(session)
    except AppError as exc:
        return exc


async def outcome(
    result: T | AppError,
    show: Callable[..., Awaitable[HTMLResponse]],
    done: Callable[[T], str | Response],
    message_of: Callable[[AppError], str],
) -> Response:
    """A form's answer: the page again with the refusal next to the form, or what was done.

    `show` draws the page (a `functools.partial` of the area's page function) and takes `error`
    (the refusal in Bahasa Indonesia), `status_code` and `messages`; `done` says what was done,
    or answers itself (a redirect).
    """
    if isinstance(result, AppError):
        return await show(error=message_of(result), status_code=result.status)
    answer = done(result)
    if isinstance(answer, Response):
        return answer
    return await show(messages=[("success", answer)])
