"""The framework-and-database floor: a bare FastAPI app on one uvicorn worker.

    BENCH_REF_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/bench \
        uvicorn bench.reference_app:app --port 8100

It writes and reads one comparable row (a few text columns, a bigint amount, a timestamp) in the
schema `bench_ref`, the same way a service could: through the async ORM (session.add + commit),
through Core, through raw asyncpg, and an indexed select by key through the ORM; `GET /noop`
answers without touching anything (the floor `bench.stack_app` is compared with). It imports
nothing from the services or `shared`, so its memory is the floor a service is compared with. The
pool sizes come from the environment (the runner passes the services' defaults), so both sides get
the same pool.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
from collections.abc import AsyncIterator
from typing import Annotated, Any, cast

import asyncpg  # type: ignore[import-untyped]
from fastapi import Depends, FastAPI, HTTPException, Request
from pydantic import BaseModel, Field
from sqlalchemy import BigInteger, DateTime, MetaData, String, Table, insert, select, text
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

SCHEMA = "bench_ref"
TABLE = "payments"
DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/bench"

DDL = [
    f'CREATE SCHEMA IF NOT EXISTS "{SCHEMA}"',
    f"""CREATE TABLE IF NOT EXISTS "{SCHEMA}".{TABLE} (
        id BIGSERIAL PRIMARY KEY,
        reference VARCHAR(64) NOT NULL,
        payer_name VARCHAR(200) NOT NULL,
        description VARCHAR(500) NOT NULL,
        region_code VARCHAR(16) NOT NULL,
        amount BIGINT NOT NULL,
        created_at TIMESTAMPTZ NOT NULL
    )""",
    f'CREATE UNIQUE INDEX IF NOT EXISTS uq_payments_reference ON "{SCHEMA}".{TABLE} (reference)',
]


def preload_sql(rows: int) -> str:
    """Rows `ref-1` .. `ref-<rows>` for the indexed select (idempotent)."""
    return f"""INSERT INTO "{SCHEMA}".{TABLE}
        (reference, payer_name, description, region_code, amount, created_at)
    SELECT 'ref-' || g, 'Payer ' || g, 'Preloaded row ' || g, '32.73.01.1001', g * 1000, now()
    FROM generate_series(1, {int(rows)}) AS g
    ON CONFLICT (reference) DO NOTHING"""


class Base(DeclarativeBase):
    metadata = MetaData(schema=SCHEMA)


class Payment(Base):
    __tablename__ = TABLE

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    reference: Mapped[str] = mapped_column(String(64))
    payer_name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(String(500))
    region_code: Mapped[str] = mapped_column(String(16))
    amount: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


payments = cast(Table, Payment.__table__)


class PaymentIn(BaseModel):
    reference: str = Field(min_length=1, max_length=64)
    payer_name: str = Field(min_length=1, max_length=200)
    description: str = Field(max_length=500)
    region_code: str = Field(pattern=r"^\d{2}\.\d{2}\.\d{2}\.\d{4}$")
    amount: int = Field(ge=0)


class PaymentOut(BaseModel):
    id: int
    reference: str
    payer_name: str
    description: str
    region_code: str
    amount: int
    created_at: dt.datetime


class Created(BaseModel):
    id: int


class Noop(BaseModel):
    """The answer of the no-op route (the same model in `bench.stack_app`)."""

    status: str


async def _session(request: Request) -> AsyncIterator[AsyncSession]:
    async with request.app.state.sessionmaker() as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(_session)]


def _urls() -> tuple[str, str]:
    """(SQLAlchemy asyncpg URL, plain libpq URL for asyncpg)."""
    url = os.environ.get("BENCH_REF_DATABASE_URL", DEFAULT_URL)
    plain = url.replace("postgresql+asyncpg://", "postgresql://")
    return plain.replace("postgresql://", "postgresql+asyncpg://", 1), plain


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def create_app() -> FastAPI:
    sa_url, pg_url = _urls()
    pool_size = int(os.environ.get("BENCH_REF_POOL_SIZE", "10"))
    max_overflow = int(os.environ.get("BENCH_REF_MAX_OVERFLOW", "10"))
    pool_timeout = float(os.environ.get("BENCH_REF_POOL_TIMEOUT", "3"))
    engine: AsyncEngine = create_async_engine(
        sa_url, pool_size=pool_size, max_overflow=max_overflow, pool_timeout=pool_timeout
    )
    sessionmaker = async_sessionmaker(engine, expire_on_commit=False, autoflush=False)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.pool = await asyncpg.create_pool(
            pg_url, min_size=1, max_size=pool_size + max_overflow
        )
        try:
            yield
        finally:
            await app.state.pool.close()
            await engine.dispose()

    app = FastAPI(title="bench reference", lifespan=lifespan)

    app.state.sessionmaker = sessionmaker

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/ready")
    async def ready() -> dict[str, str]:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        return {"status": "ready"}

    @app.get("/noop")
    async def noop() -> Noop:
        """No database, no dependency: the framework's own floor per request."""
        return Noop(status="ok")

    @app.post("/orm/payments", status_code=201)
    async def orm_insert(body: PaymentIn, session: SessionDep) -> Created:
        payment = Payment(**body.model_dump(), created_at=_now())
        session.add(payment)
        await session.commit()
        return Created(id=payment.id)

    @app.post("/core/payments", status_code=201)
    async def core_insert(body: PaymentIn) -> Created:
        async with engine.begin() as conn:
            result = await conn.execute(
                insert(payments)
                .values(**body.model_dump(), created_at=_now())
                .returning(payments.c.id)
            )
        return Created(id=result.scalar_one())

    @app.post("/raw/payments", status_code=201)
    async def raw_insert(body: PaymentIn, request: Request) -> Created:
        pool: Any = request.app.state.pool
        async with pool.acquire() as conn:
            new_id = await conn.fetchval(
                f'INSERT INTO "{SCHEMA}".{TABLE} (reference, payer_name, description, '
                "region_code, amount, created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
                body.reference,
                body.payer_name,
                body.description,
                body.region_code,
                body.amount,
                _now(),
            )
        return Created(id=int(new_id))

    @app.get("/orm/payments/{reference}")
    async def orm_select(reference: str, session: SessionDep) -> PaymentOut:
        payment = await session.scalar(select(Payment).where(Payment.reference == reference))
        if payment is None:
            raise HTTPException(status_code=404, detail="no such payment")
        return PaymentOut(
            id=payment.id,
            reference=payment.reference,
            payer_name=payment.payer_name,
            description=payment.description,
            region_code=payment.region_code,
            amount=payment.amount,
            created_at=payment.created_at,
        )

    return app


app = create_app()
