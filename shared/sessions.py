"""The page session cookie: set at login, renewed while used, replaced after a password change.

The cookie holds a page-session token (see `shared.auth.LocalTokens`). It is kept by the browser
until the session's hard limit (plus a day), past the token's own expiry, so that a form posted
after the session ended still reaches the service with its expired token: the service then knows
to say "Sesi Anda berakhir" and to keep the form (see `shared.web`), instead of seeing a stranger.

`Secure` is set whenever the site is public over https, the environment is production, or the
request came over https (directly or through a trusted proxy: `shared.network`).
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession

from shared.auth import SESSION_COOKIE, AccountMixin, Principal, tokens_of
from shared.network import secure_cookies

KEEP_EXPIRED_COOKIE_SECONDS = 24 * 3600


def _cookie_path(request: Request) -> str:
    return str(request.scope.get("root_path", "")).rstrip("/") or "/"


def set_session_cookie(request: Request, response: Response, token: str) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=tokens_of(request).session_max_seconds + KEEP_EXPIRED_COOKIE_SECONDS,
        httponly=True,
        samesite="lax",
        secure=secure_cookies(request),
        path=_cookie_path(request),
    )


def clear_session_cookie(request: Request, response: Response) -> None:
    response.delete_cookie(
        SESSION_COOKIE,
        path=_cookie_path(request),
        httponly=True,
        samesite="lax",
        secure=secure_cookies(request),
    )


def apply_renewal(request: Request, response: Response) -> None:
    """Give the browser the renewed session token, if this request renewed it."""
    renewed: tuple[str, int] | None = getattr(request.state, "renewed_session", None)
    if renewed is not None:
        set_session_cookie(request, response, renewed[0])
        request.state.renewed_session = None


async def reissue_session(
    request: Request,
    response: Response,
    db_session: AsyncSession,
    principal: Principal,
    account: AccountMixin | None = None,
) -> None:
    """A new session for the same person after their password changed (which ended the old one).

    Call it in the request that changed the password, with that request's database session: the
    new token carries the raised epoch, read from the uncommitted row.
    """
    model: Any = request.app.state.models.account
    if account is None:
        account = await db_session.get(model, principal.account_id)
        if account is None:
            return
    await db_session.refresh(account)
    token, _ = tokens_of(request).issue(account, session=True)
    set_session_cookie(request, response, token)
    epochs = getattr(request.app.state, "account_epochs", None)
    if epochs is not None:
        epochs.note(account.id, int(account.token_epoch or 0))
