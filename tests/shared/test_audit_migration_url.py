"""Migrations run with the owner's URL; the service keeps its own (default: one URL for both)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import text

from shared.cli import run_cli
from shared.db import create_engine


async def _migrated(path: Path) -> bool:
    if not path.exists():
        return False
    engine = create_engine(f"sqlite:///{path}", schema="hayu", pool_size=1, max_overflow=0)
    try:
        async with engine.connect() as conn:
            found = await conn.scalar(
                text(
                    "SELECT count(*) FROM hayu.sqlite_master WHERE type = 'table' "
                    "AND name = 'audit_tree'"
                )
            )
            return bool(found)
    finally:
        await engine.dispose()


async def test_migrate_uses_the_migration_url_and_falls_back_to_the_database_url(
    tmp_path: Path, monkeypatch: Any
) -> None:
    import hayu.main
    import hayu.settings

    def spec() -> Any:
        return hayu.main.build_spec(hayu.settings.Settings())

    serving, owner = tmp_path / "serving.db", tmp_path / "owner.db"
    monkeypatch.setenv("HAYU_DATABASE_URL", f"sqlite:///{serving}")
    monkeypatch.setenv("HAYU_MIGRATION_DATABASE_URL", f"sqlite:///{owner}")
    assert run_cli(spec, argv=["migrate"]) == 0
    assert await _migrated(owner)
    assert not await _migrated(serving)
    monkeypatch.delenv("HAYU_MIGRATION_DATABASE_URL")
    assert run_cli(spec, argv=["migrate"]) == 0
    assert await _migrated(serving)
