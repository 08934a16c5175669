"""Each service's migrations round-trip on the backend under test with no drift."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from shared import migrations
from shared.db import create_engine
from shared.testing import BACKEND, PG_URL, SERVICES, migrations_dir


async def _drop_schema(url: str, schema: str) -> None:
    engine = create_engine(url, schema=schema, pool_size=1, max_overflow=0)
    async with engine.begin() as conn:
        await conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    await engine.dispose()


@pytest.mark.parametrize("service", SERVICES)
async def test_upgrade_check_downgrade_upgrade(service: str, tmp_path: Path) -> None:
    folder = migrations_dir(service)
    if BACKEND == "postgres":
        url = PG_URL
        await _drop_schema(url, service)
    else:
        url = f"sqlite:///{tmp_path / (service + '.db')}"
    migrations.upgrade(folder, url)
    migrations.check(folder, url)  # raises when models and migrations disagree
    migrations.downgrade(folder, url, "base")
    engine = create_engine(url, schema=service, pool_size=1, max_overflow=0)
    async with engine.connect() as conn:
        if BACKEND == "postgres":
            left = await conn.scalar(
                text(
                    "SELECT count(*) FROM pg_tables WHERE schemaname = :s "
                    "AND tablename <> 'alembic_version'"
                ),
                {"s": service},
            )
        else:
            left = await conn.scalar(
                text(
                    f"SELECT count(*) FROM \"{service}\".sqlite_master WHERE type = 'table' "
                    "AND name NOT IN ('alembic_version')"
                )
            )
    await engine.dispose()
    assert left == 0
    migrations.upgrade(folder, url)
    migrations.check(folder, url)


@pytest.mark.parametrize("service", SERVICES)
def test_the_light_head_reader_agrees_with_alembic(service: str) -> None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from shared.app import migration_head

    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir(service)))
    assert (
        migration_head(migrations_dir(service))
        == ScriptDirectory.from_config(cfg).get_current_head()
    )
