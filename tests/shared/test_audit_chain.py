"""The audit trail: sealed into a hash chain, signed, and checkable by outsiders."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from shared import audit, audit_integrity
from shared.app import seal_once
from shared.audit_proofs import GENESIS_HASH, SignedCheckpoint
from shared.signing import verify
from shared.testing import BACKEND, SERVICES, add_account, client_for


async def _verify(app: FastAPI) -> audit_integrity.VerifyResult:
    models = app.state.models
    async with app.state.db.sessionmaker() as session:
        return await audit_integrity.verify_chain(
            session,
            models.audit_event,
            models.audit_checkpoint,
            public_key=app.state.signer.public_key_b64(),
            service=app.state.service_name,
        )


async def _tamper(app: FastAPI, statement: str) -> None:
    """Change the table as someone with database access would: around the append-only trigger."""
    schema = app.state.db.schema
    async with app.state.db.engine.begin() as conn:
        if BACKEND == "postgres":
            await conn.execute(text("SET LOCAL session_replication_role = replica"))
        else:
            for trigger in (
                "audit_events_no_update",
                "audit_events_no_delete",
                "audit_checkpoints_no_change_update",
                "audit_checkpoints_no_change_delete",
                "audit_tree_no_change_update",
                "audit_tree_no_change_delete",
            ):
                await conn.execute(text(f'DROP TRIGGER IF EXISTS "{schema}".{trigger}'))
        await conn.execute(text(statement.format(schema=schema)))


async def _sealed_app(make_app: Any, service: str = "hayu", events: int = 5) -> FastAPI:
    app = await make_app(service)
    for i in range(events):
        await add_account(app, f"user{i}", ["auditor"])
    assert await seal_once(app) == events
    return app


@pytest.mark.parametrize("service", SERVICES)
async def test_sealed_chain_verifies_and_checkpoint_is_published(
    make_app: Any, service: str
) -> None:
    app = await _sealed_app(make_app, service)
    result = await _verify(app)
    assert result.ok
    assert result.checked == 5
    async with client_for(app) as client:
        checkpoint = (await client.get("/api/v1/public/audit/checkpoint")).json()
    assert checkpoint["position"] == 5
    assert len(checkpoint["hash"]) == 64
    assert checkpoint["algorithm"] == "Ed25519"
    signed = SignedCheckpoint.from_json(checkpoint)
    assert signed.signature_ok(checkpoint["public_key"])
    assert verify(signed.message(), checkpoint["signature"], checkpoint["public_key"])
    assert checkpoint["previous"] == GENESIS_HASH  # the first checkpoint starts the chain
    assert checkpoint["digest"] == signed.digest()
    # a legacy reader's message (position, hash only) is not what a tree checkpoint signs
    legacy = audit.checkpoint_message(
        service, checkpoint["position"], checkpoint["hash"], signed.sealed_at
    )
    assert not verify(legacy, checkpoint["signature"], checkpoint["public_key"])


async def test_sealing_continues_the_chain(make_app: Any) -> None:
    app = await _sealed_app(make_app, events=3)
    await add_account(app, "later", ["officer"])
    assert await seal_once(app) == 1
    assert await seal_once(app) == 0
    result = await _verify(app)
    assert result.ok
    assert result.checked == 4


async def test_edited_sealed_row_is_detected_at_its_position(make_app: Any) -> None:
    app = await _sealed_app(make_app)
    await _tamper(
        app, "UPDATE \"{schema}\".audit_events SET actor = 'mallory' WHERE seal_position = 3"
    )
    result = await _verify(app)
    assert not result.ok
    assert result.first_broken_position == 3
    assert result.checked == 2


async def test_rehashed_edit_is_detected_by_the_next_link_or_checkpoint(make_app: Any) -> None:
    app = await _sealed_app(make_app)
    # A careful forger recomputes the hash of the row they edit;
    # the signed checkpoint still differs.
    await _tamper(
        app, "UPDATE \"{schema}\".audit_events SET action = 'forged' WHERE seal_position = 5"
    )
    model = app.state.models.audit_event
    async with app.state.db.sessionmaker() as session:
        prev = await session.scalar(select(model.seal_hash).where(model.seal_position == 4))
        forged = (await session.execute(select(model).where(model.seal_position == 5))).scalar_one()
        new_hash = audit.chain_step(prev, audit.event_canonical(forged, 5))
    await _tamper(
        app,
        f"UPDATE \"{{schema}}\".audit_events SET seal_hash = '{new_hash}' WHERE seal_position = 5",
    )
    result = await _verify(app)
    assert not result.ok
    assert result.first_broken_position == 5
    assert "checkpoint" in result.reason


async def test_deleted_sealed_row_is_detected(make_app: Any) -> None:
    app = await _sealed_app(make_app)
    await _tamper(app, 'DELETE FROM "{schema}".audit_events WHERE seal_position = 2')
    result = await _verify(app)
    assert not result.ok
    assert result.first_broken_position == 2


async def test_deleted_tail_is_detected_by_the_signed_checkpoint(make_app: Any) -> None:
    app = await _sealed_app(make_app)
    await _tamper(app, 'DELETE FROM "{schema}".audit_events WHERE seal_position = 5')
    result = await _verify(app)
    assert not result.ok
    assert result.first_broken_position == 5


async def test_audit_events_refuse_update_and_delete(make_app: Any) -> None:
    app = await _sealed_app(make_app, events=1)
    schema = app.state.db.schema
    for statement in (
        f"UPDATE \"{schema}\".audit_events SET actor = 'mallory'",
        f'DELETE FROM "{schema}".audit_events',
    ):
        with pytest.raises(DBAPIError, match="append-only"):
            async with app.state.db.engine.begin() as conn:
                await conn.execute(text(statement))
    assert (await _verify(app)).ok


async def test_cli_verify_exits_non_zero_naming_the_position(
    make_app: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    app = await _sealed_app(make_app)
    await _tamper(
        app, "UPDATE \"{schema}\".audit_events SET entity_id = 'x' WHERE seal_position = 4"
    )
    import hayu.main
    from shared.cli import _verify_cmd

    spec = hayu.main.build_spec(app.state.settings)
    assert await _verify_cmd(spec) == 1
    assert "position 4" in capsys.readouterr().err
