"""The bench database: a guard against pointing the benchmarks at somebody else's data, and the
few administrative statements the runner needs (through asyncpg, no ORM)."""

from __future__ import annotations

from urllib.parse import urlsplit

import asyncpg  # type: ignore[import-untyped]

from bench import reference_app

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/bench"
PROTECTED_PREFIXES = ("test",)
PROTECTED_NAMES = frozenset({"postgres", "template0", "template1"})


def plain_url(url: str) -> str:
    """A libpq URL (asyncpg, pgbench, psql) from a SQLAlchemy-style one."""
    for prefix in ("postgresql+asyncpg://", "postgresql+psycopg://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql://" + url[len(prefix) :]
    return url


def check_url(url: str) -> str:
    """The database name, after refusing anything but a local database reserved for benchmarks.

    The runner drops and recreates schemas, so `test*` and system databases are refused.
    """
    parts = urlsplit(plain_url(url))
    if parts.scheme != "postgresql":
        raise ValueError(f"the benchmarks need a PostgreSQL URL, not {url!r}")
    if parts.hostname not in ("127.0.0.1", "localhost", "::1"):
        raise ValueError(f"the benchmarks load only 127.0.0.1, not {parts.hostname!r}")
    name = parts.path.lstrip("/")
    if not name or name in PROTECTED_NAMES or name.startswith(PROTECTED_PREFIXES):
        raise ValueError(f"refusing to use the database {name!r}: give a database of your own")
    return name


async def connect(url: str) -> asyncpg.Connection:
    return await asyncpg.connect(plain_url(url))


async def server_version(url: str) -> str:
    conn = await connect(url)
    try:
        return str(await conn.fetchval("SHOW server_version"))
    finally:
        await conn.close()


async def drop_schema(url: str, schema: str) -> None:
    conn = await connect(url)
    try:
        await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    finally:
        await conn.close()


async def prepare_reference(url: str, rows: int, *, fresh: bool) -> None:
    """The reference table, with `rows` preloaded rows for the indexed select."""
    conn = await connect(url)
    try:
        if fresh:
            await conn.execute(f'DROP SCHEMA IF EXISTS "{reference_app.SCHEMA}" CASCADE')
        for statement in reference_app.DDL:
            await conn.execute(statement)
        await conn.execute(reference_app.preload_sql(rows))
        await conn.execute(f'ANALYZE "{reference_app.SCHEMA}".{reference_app.TABLE}')
    finally:
        await conn.close()


async def fetch_column(url: str, sql: str, limit: int) -> list[str]:
    conn = await connect(url)
    try:
        rows = await conn.fetch(f"SELECT * FROM ({sql}) AS pool LIMIT {int(limit)}")
        return [str(r[0]) for r in rows if r[0] is not None]
    finally:
        await conn.close()
