"""Idempotency-Key for create endpoints.

The same key with the same body answers the first response again without a second write; the same
key
with another body is a 422 problem. The record is written in the request's own transaction, so a
request that fails leaves no record and can be retried; two concurrent requests with one key collide
on the unique constraint and only one of them commits.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Annotated, Any

from fastapi import Depends, Header, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import Integer, String, UniqueConstraint, insert, select
from sqlalchemy.orm import Mapped, mapped_column

from shared.auth import OptionalPrincipal
from shared.db import BigIntId, JSONType, SessionDep, UTCDateTime, utcnow
from shared.problems import AppError, UnprocessableError

KEY_HEADER_DOC = (
    "a unique key per intended write; a retry with the same key and body is not repeated"
)


class IdempotencyRecordMixin:
    """Columns of a service's `idempotency_records` table."""

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    scope: Mapped[str] = mapped_column(String(200))
    key: Mapped[str] = mapped_column(String(200))
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    response_body: Mapped[Any] = mapped_column(JSONType)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    @classmethod
    def idempotency_constraints(cls) -> tuple[UniqueConstraint]:
        return (UniqueConstraint("scope", "key"),)


class IdempotencyKeyReusedError(UnprocessableError):
    title = "Idempotency key reused with a different request"
    type = "idempotency-key-reused"


class StoredResponseReplayError(AppError):
    """Raised before the route runs when a stored response answers the request."""

    def __init__(self, status_code: int, body: Any) -> None:
        super().__init__("replay")
        self.status_code = status_code
        self.body = body


class Idempotency:
    """A per-request handle: `await idem.respond(model, 201)` stores and returns the response."""

    def __init__(
        self,
        model: type[IdempotencyRecordMixin] | None,
        session: Any,
        scope: str,
        key: str | None,
        request_hash: str,
    ) -> None:
        self.model = model
        self.session = session
        self.scope = scope
        self.key = key
        self.request_hash = request_hash

    async def respond(
        self, payload: BaseModel | dict[str, Any], status_code: int = 201
    ) -> JSONResponse:
        body = payload.model_dump(mode="json") if isinstance(payload, BaseModel) else payload
        if self.key is not None and self.model is not None:
            await self.session.execute(
                insert(self.model).values(
                    scope=self.scope,
                    key=self.key,
                    request_hash=self.request_hash,
                    status_code=status_code,
                    response_body=body,
                    created_at=utcnow(),
                )
            )
        return JSONResponse(body, status_code=status_code)


async def get_idempotency(
    request: Request,
    session: SessionDep,
    principal: OptionalPrincipal,
    idempotency_key: Annotated[
        str | None, Header(alias="Idempotency-Key", max_length=200, description=KEY_HEADER_DOC)
    ] = None,
) -> Idempotency:
    model: type[IdempotencyRecordMixin] | None = getattr(
        request.app.state, "idempotency_model", None
    )
    who = principal.username if principal else "anonymous"
    scope = f"{who}:{request.method}:{request.url.path}"[:200]
    if idempotency_key is None or model is None:
        return Idempotency(model, session, scope, None, "")
    digest = hashlib.sha256(await request.body()).hexdigest()
    stored = (
        await session.execute(
            select(model.request_hash, model.status_code, model.response_body).where(
                model.scope == scope, model.key == idempotency_key
            )
        )
    ).first()
    if stored is not None:
        if stored.request_hash != digest:
            raise IdempotencyKeyReusedError(
                "This Idempotency-Key was already used for a different request body"
            )
        raise StoredResponseReplayError(stored.status_code, stored.response_body)
    return Idempotency(model, session, scope, idempotency_key, digest)


IdempotencyDep = Annotated[Idempotency, Depends(get_idempotency, scope="function")]
