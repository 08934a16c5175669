"""Idempotency-Key for create endpoints.

The same key with the same body answers the first response again without a second write; the same
key with another body is a 422 problem. The record is written in the request's own transaction, so
a request that fails leaves no record and can be retried.

A first try costs one statement: the record is inserted with ON CONFLICT DO NOTHING when the route
answers, and nothing is read up front. When the insert finds the key taken (a retry, or a twin
request that committed while this one ran), the request's own writes are rolled back and the stored
answer is replayed. A retry that fails a rule on its way (the first try already used the daily cap,
say) is also answered from the store: the error path looks the key up before answering with the
problem. Two concurrent requests with one key meet on the unique index; the second waits for the
first to commit, then replays its answer.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping, Sequence
from functools import partial
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, StringConstraints, TypeAdapter, ValidationError
from sqlalchemy import (
    Boolean,
    Integer,
    String,
    UniqueConstraint,
    bindparam,
    func,
    literal_column,
    select,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from shared.auth import Principal, optional_principal
from shared.context import url_path
from shared.db import (
    FAILURE_HANDLER,
    BigIntId,
    Database,
    JSONType,
    UTCDateTime,
    database_of,
    get_session,
    utcnow,
    write_intent,
)
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
        session: AsyncSession,
        scope: str,
        key: str | None,
        request_hash: str,
    ) -> None:
        self.model = model
        self.session = session
        self.scope = scope
        self.key = key
        self.request_hash = request_hash
        self.recorded = False

    @property
    def active(self) -> bool:
        """True when this request carries a key the service stores."""
        return self.key is not None and self.model is not None

    def statement_params(
        self, body: BaseModel | dict[str, Any], status_code: int = 201
    ) -> dict[str, Any]:
        """The parameters of a `record_from` CTE: the answer to store (its id is set in SQL)."""
        if isinstance(body, BaseModel):
            body = body.model_dump(mode="json")
        return {
            "idem_scope": self.scope,
            "idem_key": self.key,
            "idem_hash": self.request_hash,
            "idem_status": status_code,
            "idem_body": body if self.active else None,
            "idem_at": utcnow(),
            "idem_store": self.active,
        }

    async def settle(self, stored: bool) -> None:
        """After a statement with a `record_from` CTE: `stored` says whether it wrote the record.
        A taken key replays the stored answer (rolling this request back); else `respond` only
        answers, without writing the record a second time."""
        if self.model is None or self.key is None:
            return
        if not stored:
            await _raise_stored(self.session, self.model, self.scope, self.key, self.request_hash)
        self.recorded = True

    async def respond(
        self, payload: BaseModel | dict[str, Any], status_code: int = 201
    ) -> JSONResponse:
        body = payload.model_dump(mode="json") if isinstance(payload, BaseModel) else payload
        if self.key is not None and self.model is not None and not self.recorded:
            stored = await self.session.execute(
                _insert_new(self.model, self.session.get_bind().dialect.name),
                {
                    "scope": self.scope,
                    "key": self.key,
                    "request_hash": self.request_hash,
                    "status_code": status_code,
                    "response_body": body,
                    "created_at": utcnow(),
                },
            )
            if stored.first() is None:  # the key was taken meanwhile: that answer stands
                await _raise_stored(
                    self.session, self.model, self.scope, self.key, self.request_hash
                )
        return JSONResponse(body, status_code=status_code)


def record_from(
    rows: Any,
    model: type[IdempotencyRecordMixin],
    *,
    id_column: str = "id",
    fields: Mapping[str, Any] | None = None,
    taken_key_fails: bool = False,
) -> Any:
    """PostgreSQL only: the INSERT of a request's idempotency record, to run as a CTE of the
    statement that writes the request's new row (`rows`, a CTE returning `id_column`): the stored
    answer is `statement_params`' body with its `id` set to the new row's id, in SQL, and each of
    `fields` (answer key -> SQL expression, e.g. a number the statement rendered) set likewise.
    ON CONFLICT DO NOTHING RETURNING id, so the statement can say whether the key was free
    (`settle`); with `taken_key_fails`, a taken key fails the whole statement instead (a unique
    violation, which the request's failure handler answers with the stored response) — for a
    statement that commits on its own, whose other writes must not stand without the record.
    Build it once; it writes nothing when the request has no key (`idem_store` false) or `rows`
    is empty."""
    table: Any = model
    body: Any = func.jsonb_set(
        bindparam("idem_body", type_=postgresql.JSONB()),
        literal_column("'{id}'::text[]"),
        func.to_jsonb(rows.c[id_column]),
    )
    for key, value in (fields or {}).items():
        if not key.isidentifier():  # it is spelled into the statement
            raise ValueError(f"answer field {key!r} is not a plain name")
        body = func.jsonb_set(
            body,
            literal_column(f"'{{{key}}}'::text[]"),
            func.coalesce(func.to_jsonb(value), literal_column("'null'::jsonb")),
        )
    source = select(
        bindparam("idem_scope", type_=String()),
        bindparam("idem_key", type_=String()),
        bindparam("idem_hash", type_=String()),
        bindparam("idem_status", type_=Integer()),
        body,
        bindparam("idem_at", type_=UTCDateTime()),
    ).where(bindparam("idem_store", type_=Boolean()))
    stmt: Any = postgresql.insert(table).from_select(
        ["scope", "key", "request_hash", "status_code", "response_body", "created_at"], source
    )
    if not taken_key_fails:
        stmt = stmt.on_conflict_do_nothing(index_elements=["scope", "key"])
    return stmt.returning(table.id)


def record_params(
    idem: Idempotency | None, body: BaseModel | dict[str, Any], status_code: int = 201
) -> dict[str, Any]:
    """The parameters of a `record_from` CTE; without a handle, ones that store nothing."""
    if idem is not None:
        return idem.statement_params(body, status_code)
    return {
        "idem_scope": None,
        "idem_key": None,
        "idem_hash": None,
        "idem_status": None,
        "idem_body": None,
        "idem_at": None,
        "idem_store": False,
    }


_INSERTS: dict[tuple[type[IdempotencyRecordMixin], str], Any] = {}


def _insert_new(model: type[IdempotencyRecordMixin], dialect: str) -> Any:
    """INSERT ... ON CONFLICT (scope, key) DO NOTHING RETURNING id, built once per table."""
    stmt = _INSERTS.get((model, dialect))
    if stmt is None:
        dml: Any
        if dialect == "postgresql":
            dml = postgresql.insert
        else:
            from sqlalchemy.dialects import sqlite  # not loaded by a PostgreSQL deployment

            dml = sqlite.insert
        table: Any = model
        stmt = (
            dml(table).on_conflict_do_nothing(index_elements=["scope", "key"]).returning(table.id)
        )
        _INSERTS[(model, dialect)] = stmt
    return stmt


async def _raise_stored(
    session: AsyncSession,
    model: type[IdempotencyRecordMixin],
    scope: str,
    key: str,
    request_hash: str,
) -> None:
    """Raise the replay of the stored answer (or 422 for another body); return if none is stored."""
    stored = (
        await session.execute(
            select(model.request_hash, model.status_code, model.response_body).where(
                model.scope == scope, model.key == key
            )
        )
    ).first()
    if stored is None:
        return
    if stored.request_hash != request_hash:
        raise IdempotencyKeyReusedError(
            "This Idempotency-Key was already used for a different request body"
        )
    raise StoredResponseReplayError(stored.status_code, stored.response_body)


def caller_of(request: Request, principal: Principal | None) -> str:
    """Whose keys these are: the account, or for an anonymous caller its network address, so that
    one anonymous caller can neither replay nor block another's key."""
    if principal is not None:
        return principal.username
    from shared.network import client_address  # behind a trusted proxy: the citizen's address

    return f"anonymous@{client_address(request)}"


KEY_HEADER = "Idempotency-Key"
KEY_MAX_LENGTH = 200
_KEY = TypeAdapter(Annotated[str, StringConstraints(max_length=KEY_MAX_LENGTH)])

KEY_PARAMETER: dict[str, Any] = {
    "name": KEY_HEADER,
    "in": "header",
    "required": False,
    "schema": {
        "anyOf": [{"type": "string", "maxLength": KEY_MAX_LENGTH}, {"type": "null"}],
        "description": KEY_HEADER_DOC,
        "title": KEY_HEADER,
    },
    "description": KEY_HEADER_DOC,
}
"""The header in the OpenAPI document, as FastAPI describes a `Header(alias="Idempotency-Key",
max_length=200)` parameter (`shared.app` adds it to every operation that takes the handle;
tests/shared/test_idempotency_header.py compares it with FastAPI's own)."""


def idempotency_key(request: Request) -> str | None:
    """The request's Idempotency-Key, read as FastAPI reads a header parameter (the first of
    repeated headers; an empty value is a key); one longer than 200 characters is refused with
    the 422 FastAPI gives for such a header."""
    key = request.headers.get(KEY_HEADER)
    if key is not None and len(key) > KEY_MAX_LENGTH:
        try:
            _KEY.validate_python(key)
        except ValidationError as exc:
            raise RequestValidationError(
                [
                    {**error, "loc": ("header", KEY_HEADER, *error["loc"])}
                    for error in exc.errors(include_url=False)
                ]
            ) from None
    return key


async def get_idempotency(request: Request) -> Idempotency:
    # A plain dependency that takes only the request: it reads its header itself, so that
    # `shared.folding` resolves it in one step with the route's other dependencies (a header
    # parameter made it a FastAPI level of its own: about 150 Python calls a keyed write). Every
    # route takes it after its caller, so a missing token is still a 401 before a long key's 422
    # (tests/shared/test_idempotency_header.py). Not a generator (FastAPI's exit machinery costs
    # about four plain dependencies): a keyed write's failure is handed back by the request's
    # session dependency. The caller is taken as `current_principal` takes it, and the session
    # as the route's own (`get_session` answers with the request's open session).
    key = idempotency_key(request)
    session = await get_session(request)
    model: type[IdempotencyRecordMixin] | None = getattr(
        request.app.state, "idempotency_model", None
    )
    principal = await optional_principal(request)
    scope = f"{caller_of(request, principal)}:{request.method}:{url_path(request.scope)}"[:200]
    if key is None or model is None:
        return Idempotency(model, session, scope, None, "")
    digest = hashlib.sha256(await request.body()).hexdigest()
    request.scope[FAILURE_HANDLER] = partial(
        _answer_failure, database_of(request), model, scope, key, digest
    )
    return Idempotency(model, session, scope, key, digest)


async def _answer_failure(
    db: Database,
    model: type[IdempotencyRecordMixin],
    scope: str,
    key: str,
    request_hash: str,
    session: AsyncSession,
    exc: Exception,
) -> None:
    """A keyed write failed: answer with the first try's stored response if there is one."""
    if not isinstance(exc, AppError | IntegrityError) or isinstance(
        exc, StoredResponseReplayError | IdempotencyKeyReusedError
    ):
        return
    # A retry whose first try committed may fail a rule the first try changed (the daily cap it
    # used, the business it registered): the first answer stands. The request's own transaction
    # is refused anyway: roll it back first, so that its connection (and on SQLite its write
    # lock) goes back to the pool before the lookup takes one, and a burst of refused keyed
    # writes never holds two connections each. Then look on a session of its own, reading
    # committed rows.
    await session.rollback()
    token = write_intent.set(False)
    try:
        async with db.sessionmaker() as lookup:
            await _raise_stored(lookup, model, scope, key, request_hash)
    finally:
        write_intent.reset(token)


def takes_idempotency(dependencies: Sequence[Any]) -> bool:
    """True when one of these FastAPI dependencies, or one of theirs, is `get_idempotency`."""
    return any(d.call is get_idempotency or takes_idempotency(d.dependencies) for d in dependencies)


IdempotencyDep = Annotated[Idempotency, Depends(get_idempotency)]
