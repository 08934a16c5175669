"""Database plumbing: one async engine per process, one transaction per request, one schema per
service.

PostgreSQL runs through asyncpg. In embedded mode each service keeps its own SQLite file, ATTACHed
to
every connection under the service's schema name, so the same schema-qualified tables, migrations
and
queries serve both backends.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import hashlib
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import anyio
import anyio.lowlevel
from fastapi import Depends, Request
from sqlalchemy import JSON, BigInteger, DateTime, Executable, Integer, MetaData, event, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect, Result, Row, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import AsyncAdaptedQueuePool
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# Portable column types: JSONB on PostgreSQL, JSON text on SQLite; ids that fit both autoincrements.
JSONType = JSON().with_variant(JSONB(), "postgresql")
BigIntId = BigInteger().with_variant(Integer(), "sqlite")


def metadata_for(schema: str) -> MetaData:
    """The MetaData of one service: every table lives in the service's own schema."""
    return MetaData(schema=schema, naming_convention=NAMING_CONVENTION)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timestamp stored in UTC and always returned timezone-aware (SQLite forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(
        self, value: dt.datetime | None, dialect: Dialect
    ) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def normalize_url(url: str) -> str:
    """Accept the URLs people write and pick the async drivers: asyncpg and aiosqlite."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+asyncpg")
    elif backend == "sqlite":
        parsed = parsed.set(drivername="sqlite+aiosqlite")
    else:
        raise ValueError(f"unsupported database backend {backend!r}: use PostgreSQL or SQLite")
    return parsed.render_as_string(hide_password=False)


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise ValueError("embedded mode needs a SQLite file path, not an in-memory database")
    return Path(database)


def create_engine(
    url: str,
    *,
    schema: str,
    pool_size: int = 10,
    max_overflow: int = 10,
    pool_timeout: float = 3.0,
    echo: bool = False,
) -> AsyncEngine:
    """One engine per process and service; SQLite files are attached under the schema name."""
    url = normalize_url(url)
    if not is_sqlite(url):
        return create_async_engine(
            url,
            pool_size=pool_size,
            max_overflow=max_overflow,
            pool_timeout=pool_timeout,
            pool_pre_ping=False,
            echo=echo,
        )
    path = sqlite_path(url).resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(
        "sqlite+aiosqlite://",
        poolclass=AsyncAdaptedQueuePool,
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_timeout=pool_timeout,
        echo=echo,
    )
    quoted = str(path).replace("'", "''")

    @event.listens_for(engine.sync_engine, "connect")
    def _attach(dbapi_connection: Any, _record: Any) -> None:
        # Autocommit at the driver level; SQLAlchemy's "begin" event below opens the transaction.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"ATTACH DATABASE '{quoted}' AS \"{schema}\"")
        cursor.execute(f'PRAGMA "{schema}".journal_mode=WAL')
        cursor.execute(f'PRAGMA "{schema}".synchronous=NORMAL')
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _begin(conn: Any) -> None:
        # A writer takes the lock up front (IMMEDIATE), so two writers never deadlock on a lock
        # upgrade; a reading request (GET) begins DEFERRED and reads beside them under WAL.
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write_intent.get() else "BEGIN")

    return engine


@dataclass
class Database:
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    schema: str
    url: str = ""
    _housekeeping: AsyncEngine | None = field(default=None, repr=False)

    @classmethod
    def create(cls, url: str, *, schema: str, **engine_args: Any) -> Database:
        engine = create_engine(url, schema=schema, **engine_args)
        return cls(
            engine=engine,
            sessionmaker=async_sessionmaker(engine, expire_on_commit=False, autoflush=False),
            schema=schema,
            url=url,
        )

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def housekeeping_engine(self) -> AsyncEngine:
        """One extra connection for the process's periodic reads (which tokens were revoked).

        Kept apart from the request pool: such a read never waits behind requests for a
        connection, and never takes a slot a request was admitted for.
        """
        if self._housekeeping is None:
            if not self.url:
                return self.engine
            self._housekeeping = create_engine(
                self.url, schema=self.schema, pool_size=1, max_overflow=0
            )
        return self._housekeeping

    async def dispose(self) -> None:
        await self.engine.dispose()
        if self._housekeeping is not None:
            await self._housekeeping.dispose()
            self._housekeeping = None


async def try_single_replica_lock(session: AsyncSession, name: str) -> bool:
    """True when this transaction may do `name` alone: a transaction-scoped advisory lock on
    PostgreSQL, released at commit; SQLite is one process per file, so always true there."""
    if session.get_bind().dialect.name != "postgresql":
        return True
    key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big") >> 1
    return bool(await session.scalar(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": key}))


StatementRunner = Callable[[Executable, dict[str, Any]], Awaitable[Row[Any]]]
"""Runs one writing statement as a transaction of its own and returns its row."""


def unconnected(session: AsyncSession) -> bool:
    """True when the session has not used a connection yet: nothing read or written in it (and
    no ORM change pending). False where that cannot be told (SQLAlchemy before 2.1.7)."""
    sync = session.sync_session
    if sync.new or sync.dirty or sync.deleted:
        return False
    transaction = sync.get_transaction()
    if transaction is None:
        return True
    connections = getattr(transaction, "connections", None)  # public from SQLAlchemy 2.1.7
    return connections is not None and not connections


def standalone_runner(session: AsyncSession) -> StatementRunner | None:
    """For a request whose only write is one last statement: run it as a transaction of its own
    (autocommit). It is committed by the server as the statement ends: no BEGIN and no COMMIT
    round trip, and any lock it takes is released at once, not when this process gets round to
    sending COMMIT (which under load waits its turn in the event loop). The statement must hold
    every write of the request (its audit event and idempotency record included, the record
    with `taken_key_fails`), since nothing after it is rolled back. Only while the request's
    session has not used a connection (`unconnected`): if it has read or written anything, the
    statement runs in the session's transaction instead, so nothing the request did is lost or
    committed apart from it (one round trip more). None where the session is bound to a
    connection (as in some tests): the caller then runs the statement in its transaction.
    """
    engine = session.bind
    if not isinstance(engine, AsyncEngine):
        return None

    async def run(stmt: Executable, params: dict[str, Any]) -> Row[Any]:
        return (await _execute_alone(session, stmt, params)).one()

    return run


async def read_alone(
    session: AsyncSession, stmt: Executable, params: dict[str, Any]
) -> Sequence[Row[Any]]:
    """The rows of a request's only statement, a read (a public lookup).

    On PostgreSQL, while the request's session has not used a connection (`unconnected`), it
    runs on a connection of its own without a transaction around it (autocommit): one round trip
    instead of BEGIN, the statement and the end of the transaction; the session stays
    unconnected and ends with no round trip either. One statement sees one snapshot either way
    (READ COMMITTED takes a snapshot per statement), so the answer is the same. Otherwise (the
    session has read or written already, SQLite, a session bound to a connection) the statement
    runs in the session's transaction: the request never holds two connections, and it sees
    what it wrote.
    """
    return (await _execute_alone(session, stmt, params)).all()


async def _execute_alone(
    session: AsyncSession, stmt: Executable, params: dict[str, Any]
) -> Result[Any]:
    """One statement on a PostgreSQL connection of its own in autocommit while the session is
    unconnected; otherwise in the session's transaction, its pending ORM changes flushed first
    (as the session's own execute does). The result is buffered: read after the connection is
    back in the pool."""
    engine = session.bind
    if (
        isinstance(engine, AsyncEngine)
        and engine.dialect.name == "postgresql"
        and unconnected(session)
    ):
        async with engine.connect() as conn:
            auto = await conn.execution_options(isolation_level="AUTOCOMMIT")
            return await auto.execute(stmt, params)
    await session.flush()
    return await (await session.connection()).execute(stmt, params)


# Whether the current request may write: on SQLite a reading request takes no write lock.
write_intent: contextvars.ContextVar[bool] = contextvars.ContextVar("write_intent", default=True)
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def database_of(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


# Where a request leaves the handler of its route's failure (`shared.idempotency`: a keyed write
# answers a retry's refusal from the store): called with the session and the error before the
# transaction is rolled back, it may raise another answer; the error stands if it returns.
FAILURE_HANDLER = "shared.db.failure_handler"
FailureHandler = Callable[[AsyncSession, Exception], Awaitable[None]]

# FastAPI's exit stack for the route's own dependencies: closed when the route has answered,
# before the response is sent (what `Depends(..., scope="function")` with `yield` uses).
ROUTE_EXIT_STACK = "fastapi_function_astack"
# The request's open session, while its transaction is open: `get_session` called again in the
# same request (by a dependency that reads or writes with the route) answers with it.
REQUEST_SESSION = "shared.db.session"


class _RequestTransaction:
    """The request's transaction, closed by FastAPI's per-route exit stack: committed when the
    route answered, rolled back when it (or a later dependency) failed, the close shielded from
    cancellation as FastAPI shields a dependency's exit. A dependency with `yield` did the same
    through a generator, a context manager around it and two cancel scopes: about 50 Python
    calls and 40-60 µs more for every request that reads or writes.

    The session begins its transaction when first used (SQLAlchemy's autobegin), not on entry
    as `sessionmaker.begin()` would: a request whose statements all run alone (`read_alone`,
    `standalone_runner`) or that never touches the database then pays for neither a begin nor
    a commit of an empty transaction (about 60 µs of Python together) nor a close. Otherwise
    the end is `sessionmaker.begin()`'s: commit when the route answered and the transaction
    is still active, else roll back; then close."""

    __slots__ = ("_scope", "_session", "_token")

    def __init__(self, request: Request) -> None:
        self._scope = request.scope
        self._session = database_of(request).sessionmaker()
        self._token = write_intent.set(request.method not in READ_METHODS)

    async def __aenter__(self) -> AsyncSession:
        self._scope[REQUEST_SESSION] = self._session
        return self._session

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: Any
    ) -> None:
        scope = self._scope
        scope.pop(REQUEST_SESSION, None)
        handler: FailureHandler | None = scope.pop(FAILURE_HANDLER, None)
        failure = exc if isinstance(exc, Exception) else None  # what a handler may answer
        if failure is None:
            handler = None
        sync = self._session.sync_session
        if handler is None and sync.get_transaction() is None and not sync.identity_map:
            # Never used, or its statements ran alone, and no failure to hand over: nothing to
            # end or wait for (a lookup's and a one-statement write's usual case), so neither
            # a shield nor a checkpoint after it.
            write_intent.reset(self._token)
            return
        try:
            with anyio.CancelScope(shield=True):
                if handler is not None and failure is not None:
                    try:
                        await handler(self._session, failure)
                    except BaseException as answer:  # another answer than the error's
                        await self._end(answer)
                        raise
                await self._end(exc)
        finally:
            write_intent.reset(self._token)
        if exc is None:
            # As FastAPI after a dependency's exit: a cancellation that arrived while the commit
            # ran (shielded) is raised now, before any response is sent.
            await anyio.lowlevel.checkpoint_if_cancelled()

    async def _end(self, exc: BaseException | None) -> None:
        session = self._session
        sync = session.sync_session
        transaction = sync.get_transaction()
        if transaction is None and not sync.identity_map:
            return  # the failure handler found nothing to end either
        try:
            if transaction is not None:
                if exc is None and transaction.is_active:
                    await session.commit()
                else:
                    await session.rollback()
        finally:
            await session.close()


async def get_session(request: Request) -> AsyncSession:
    """One transaction per request, committed here and only here, before the response is sent.

    Called again in the same request, it answers with the same session (FastAPI's dependency
    cache does so within one route's dependencies; this holds for a dependency that calls it
    itself, and for one resolved apart from the others by `shared.folding`)."""
    session: AsyncSession | None = request.scope.get(REQUEST_SESSION)
    if session is not None:
        return session
    stack: AsyncExitStack | None = request.scope.get(ROUTE_EXIT_STACK)
    if stack is None:  # a FastAPI without it: fail every request loudly, not commit silently
        raise RuntimeError(f"FastAPI gave no {ROUTE_EXIT_STACK!r} for the request's transaction")
    return await stack.enter_async_context(_RequestTransaction(request))


SessionDep = Annotated[AsyncSession, Depends(get_session)]
