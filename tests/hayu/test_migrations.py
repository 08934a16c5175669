"""Models and migrations agree on SQLite and PostgreSQL, and the history runs both ways."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from hayu.main import PACKAGE_DIR
from shared import migrations
from shared.db import create_engine
from shared.testing import BACKEND, PG_URL

MIGRATIONS = PACKAGE_DIR / "migrations"


def test_sqlite_upgrade_check_downgrade_upgrade(tmp_path: Path):
    url = f"sqlite:///{tmp_path}/x.db"
    migrations.upgrade(MIGRATIONS, url)
    migrations.check(MIGRATIONS, url)
    migrations.downgrade(MIGRATIONS, url, "base")
    migrations.upgrade(MIGRATIONS, url)
    migrations.check(MIGRATIONS, url)


async def _drop_schema() -> None:
    engine = create_engine(PG_URL, schema="hayu", pool_size=1, max_overflow=0)
    try:
        async with engine.begin() as conn:
            await conn.execute(text('DROP SCHEMA IF EXISTS "hayu" CASCADE'))
    finally:
        await engine.dispose()


@pytest.mark.postgres_only
@pytest.mark.skipif(BACKEND != "postgres", reason="needs TEST_BACKEND=postgres")
async def test_postgres_upgrade_check_downgrade_upgrade():
    await _drop_schema()
    try:
        migrations.upgrade(MIGRATIONS, PG_URL)
        migrations.check(MIGRATIONS, PG_URL)
        migrations.downgrade(MIGRATIONS, PG_URL, "base")
        migrations.upgrade(MIGRATIONS, PG_URL)
        migrations.check(MIGRATIONS, PG_URL)
    finally:
        # The shared Databases fixture migrated this schema once per session; leave it at head.
        await _drop_schema()
        migrations.upgrade(MIGRATIONS, PG_URL)
