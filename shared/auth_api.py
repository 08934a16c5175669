"""The account endpoints every service shares beside the token: logout and password change."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from shared import audit
from shared.auth import CurrentPrincipal, change_password, end_sessions, tokens_of
from shared.db import SessionDep
from shared.problems import problem_responses


class PasswordChange(BaseModel):
    current_password: str = Field(max_length=256)
    new_password: str = Field(max_length=256)


class NewToken(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int


def auth_router() -> APIRouter:
    router = APIRouter(prefix="/api/v1/auth", tags=["auth"])

    @router.post("/logout", status_code=204, responses=problem_responses(401, 403))
    async def logout(request: Request, principal: CurrentPrincipal) -> Response:
        """End every session and token of the caller's account (on every device), at once."""
        await end_sessions(request, principal)
        return Response(status_code=204)

    @router.post(
        "/password", response_model=NewToken, responses=problem_responses(401, 403, 422, 503)
    )
    async def password(
        request: Request, body: PasswordChange, principal: CurrentPrincipal, session: SessionDep
    ) -> NewToken:
        """Change the caller's password (also a temporary one): earlier tokens end; a new one is
        returned."""
        state = request.app.state
        account = await change_password(
            session, state.models.account, principal, body.current_password, body.new_password
        )
        await audit.record_event(
            session,
            state.models.audit_event,
            actor=principal,
            action="account.password_changed",
            entity_type="account",
            entity_id=principal.username,
        )
        token, expires = tokens_of(request).issue(account)
        epochs = getattr(state, "account_epochs", None)
        if epochs is not None:
            epochs.note(account.id, int(account.token_epoch or 0))
        return NewToken(access_token=token, expires_in=expires)

    return router
