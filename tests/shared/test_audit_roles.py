"""PostgreSQL: the service logs in as a role that owns nothing, so it cannot switch the audit
triggers off or edit history; only the owner role its migrations use could."""

from __future__ import annotations

import secrets
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from shared import audit_integrity, migrations
from shared.app import seal_once
from shared.db import create_engine
from shared.testing import BACKEND, PG_URL, add_account, migrations_dir

pytestmark = pytest.mark.skipif(BACKEND != "postgres", reason="roles exist on PostgreSQL only")

INIT_SCRIPT = Path(__file__).resolve().parents[2] / "deploy" / "postgres" / "init.sh"
SCHEMA = "hayu"


def _role_sql() -> str:
    """The per-service SQL of deploy/postgres/init.sh, exactly as the script feeds it to psql."""
    script = INIT_SCRIPT.read_text()
    start = script.index("<<'SQL'\n", script.index("admin_psql -v role=")) + len("<<'SQL'\n")
    return script[start : script.index("\nSQL\n", start) + 1]


def _url_as(role: str, password: str) -> str:
    url = make_url(PG_URL).set(username=role, password=password)
    return url.render_as_string(hide_password=False)


async def _superuser(*statements: str) -> None:
    engine = create_engine(PG_URL, schema=SCHEMA, pool_size=1, max_overflow=0)
    try:
        async with engine.begin() as conn:
            for statement in statements:
                await conn.execute(text(statement))
    finally:
        await engine.dispose()


SPLIT_SCRIPT = INIT_SCRIPT.parent / "split-roles.sql"


def _psql(sql: str, **variables: str) -> None:
    args = ["psql", "-v", "ON_ERROR_STOP=1", "--no-psqlrc", "--quiet"]
    for name, value in variables.items():
        args += ["-v", f"{name}={value}"]
    url = make_url(PG_URL).set(drivername="postgresql").render_as_string(hide_password=False)
    done = subprocess.run(
        [*args, url], input=sql, capture_output=True, text=True, timeout=30, check=False
    )
    assert done.returncode == 0, done.stderr


async def _runtime_disables_a_trigger(runtime_url: str) -> bool:
    engine = create_engine(runtime_url, schema=SCHEMA, pool_size=1, max_overflow=0)
    try:
        async with engine.begin() as conn:
            await conn.execute(text(f'ALTER TABLE "{SCHEMA}".audit_events DISABLE TRIGGER ALL'))
            await conn.execute(text(f'ALTER TABLE "{SCHEMA}".audit_events ENABLE TRIGGER ALL'))
        return True
    except DBAPIError:
        return False
    finally:
        await engine.dispose()


@pytest.fixture(params=["init.sh", "split-roles.sql"])
async def split_roles(request: pytest.FixtureRequest) -> AsyncIterator[tuple[str, str]]:
    """The owner and runtime roles (under unique names) and the schema migrated as the owner:
    either as init.sh creates them on a new database, or as split-roles.sql makes them of a
    database created the old way (one role owning everything). Afterwards the schema is migrated
    back as the superuser for the other tests."""
    suffix = secrets.token_hex(4)
    owner, runtime = f"audit_owner_{suffix}", f"audit_runtime_{suffix}"
    database = make_url(PG_URL).database or ""
    names = {"role": runtime, "owner": owner, "schema": SCHEMA, "db": database}
    owner_url, runtime_url = _url_as(owner, "owner-pw"), _url_as(runtime, "runtime-pw")
    await _superuser(f'DROP SCHEMA IF EXISTS "{SCHEMA}" CASCADE')
    try:
        if request.param == "init.sh":
            _psql(_role_sql(), **names, password="runtime-pw", owner_password="owner-pw")
        else:
            await _superuser(
                f"CREATE ROLE \"{runtime}\" LOGIN PASSWORD 'runtime-pw'",
                f'GRANT CONNECT, CREATE ON DATABASE "{database}" TO "{runtime}"',
                f'CREATE SCHEMA "{SCHEMA}" AUTHORIZATION "{runtime}"',
            )
            migrations.upgrade(migrations_dir(SCHEMA), runtime_url)
            # the finding: a service that owns its tables switches the audit triggers off
            assert await _runtime_disables_a_trigger(runtime_url)
            _psql(SPLIT_SCRIPT.read_text(), **names, owner_password="owner-pw")
        migrations.upgrade(migrations_dir(SCHEMA), owner_url)  # what `migrate` does
        migrations.restrict_audit_grants(owner_url, SCHEMA)
        assert not await _runtime_disables_a_trigger(runtime_url)
        yield owner_url, runtime_url
    finally:
        await _superuser(
            f'DROP SCHEMA IF EXISTS "{SCHEMA}" CASCADE',
            f"DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{owner}') THEN "
            f'DROP OWNED BY "{owner}"; DROP ROLE "{owner}"; END IF; END $$',
            f"DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{runtime}') THEN "
            f'DROP OWNED BY "{runtime}"; DROP ROLE "{runtime}"; END IF; END $$',
        )
        migrations.upgrade(migrations_dir(SCHEMA), PG_URL)


async def test_runtime_role_serves_and_seals_but_cannot_touch_history(
    split_roles: tuple[str, str],
) -> None:
    import hayu.main
    import hayu.settings

    owner_url, runtime_url = split_roles
    settings: Any = hayu.settings.Settings(
        database_url=runtime_url, environment="test", background_tasks=False
    )
    app = hayu.main.create_app(settings)
    try:
        for i in range(3):
            await add_account(app, f"user{i}", ["auditor"])  # writes rows and audit events
        assert await seal_once(app) == 3  # the sealing UPDATE, the tree and a checkpoint
        async with app.state.db.sessionmaker() as session:
            models = app.state.models
            result = await audit_integrity.verify_chain(
                session,
                models.audit_event,
                models.audit_checkpoint,
                public_key=app.state.signer.public_key_b64(),
                service="hayu",
            )
        assert result.ok
        assert result.checked == 3
        refusals = {
            f'ALTER TABLE "{SCHEMA}".audit_events DISABLE TRIGGER ALL': "must be owner",
            f'ALTER TABLE "{SCHEMA}".audit_events DISABLE TRIGGER audit_events_append_only': (
                "must be owner"
            ),
            f'ALTER TABLE "{SCHEMA}".audit_checkpoints DISABLE TRIGGER ALL': "must be owner",
            f'DROP TRIGGER audit_events_append_only ON "{SCHEMA}".audit_events': "must be owner",
            "SET session_replication_role = replica": "permission denied",
            f"UPDATE \"{SCHEMA}\".audit_events SET actor = 'mallory'": "permission denied",
            f'DELETE FROM "{SCHEMA}".audit_events': "permission denied",
            f'TRUNCATE "{SCHEMA}".audit_events': "permission denied",
            f"UPDATE \"{SCHEMA}\".audit_checkpoints SET chain_hash = 'x'": "permission denied",
            f'DELETE FROM "{SCHEMA}".audit_checkpoints': "permission denied",
            f'TRUNCATE "{SCHEMA}".audit_checkpoints': "permission denied",
            f'DELETE FROM "{SCHEMA}".audit_tree': "permission denied",
            # the one UPDATE it holds, sealing, cannot re-seal a sealed event
            f"UPDATE \"{SCHEMA}\".audit_events SET seal_hash = 'x' WHERE seal_position = 1": (
                "append-only"
            ),
        }
        for statement, message in refusals.items():
            with pytest.raises(DBAPIError, match=message):
                async with app.state.db.engine.begin() as conn:
                    await conn.execute(text(statement))
    finally:
        await app.state.db.dispose()
    # the owner, which the service never logs in as, could: that is what the split is for
    engine = create_engine(owner_url, schema=SCHEMA, pool_size=1, max_overflow=0)
    try:
        async with engine.begin() as conn:
            await conn.execute(text(f'ALTER TABLE "{SCHEMA}".audit_events DISABLE TRIGGER ALL'))
            await conn.execute(text(f'ALTER TABLE "{SCHEMA}".audit_events ENABLE TRIGGER ALL'))
    finally:
        await engine.dispose()
