"""Migrations and models agree on this backend: upgrade, check, downgrade, upgrade."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from sabilulungan.models import SCHEMA
from shared import migrations
from shared.db import create_engine
from shared.testing import BACKEND, PG_URL, migrations_dir


async def _drop_schema(url: str) -> None:
    engine = create_engine(url, schema=SCHEMA, pool_size=1, max_overflow=0)
    async with engine.begin() as conn:
        await conn.execute(text(f'DROP SCHEMA IF EXISTS "{SCHEMA}" CASCADE'))
    await engine.dispose()


async def test_upgrade_check_downgrade_upgrade(tmp_path: Path) -> None:
    directory = migrations_dir("sabilulungan")
    url = PG_URL if BACKEND == "postgres" else f"sqlite:///{tmp_path}/x.db"
    if BACKEND == "postgres":
        await _drop_schema(url)
    try:
        migrations.upgrade(directory, url)
        migrations.check(directory, url)
        migrations.downgrade(directory, url, "base")
        migrations.upgrade(directory, url)
        migrations.check(directory, url)
    finally:
        if BACKEND == "postgres":
            # The shared fixture migrated this schema once per session: leave it at head, empty.
            await _drop_schema(url)
            migrations.upgrade(directory, url)
