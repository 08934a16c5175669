"""Models and migrations agree on SQLite and PostgreSQL, and the history runs both ways."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from shared import migrations
from shared.db import create_engine
from shared.testing import BACKEND, PG_URL, migrations_dir


async def _drop_schema() -> None:
    engine = create_engine(PG_URL, schema="erk", pool_size=1, max_overflow=0)
    try:
        async with engine.begin() as conn:
            await conn.execute(text('DROP SCHEMA IF EXISTS "erk" CASCADE'))
    finally:
        await engine.dispose()


async def test_migrations_round_trip(tmp_path: Path) -> None:
    folder = migrations_dir("erk")
    if BACKEND == "postgres":
        await _drop_schema()
        url = PG_URL
    else:
        url = f"sqlite:///{tmp_path}/x.db"
    try:
        migrations.upgrade(folder, url)
        migrations.check(folder, url)
        migrations.downgrade(folder, url, "base")
        migrations.upgrade(folder, url)
        migrations.check(folder, url)
    finally:
        if BACKEND == "postgres":
            # The shared fixture expects the schema at head for the tests that follow.
            await _drop_schema()
            migrations.upgrade(folder, url)
