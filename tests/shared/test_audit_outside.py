"""A rewritten audit history is caught: by the chained checkpoints in the database, and, when the
rewrite was re-signed with the service's own key, by checkpoints held outside it (a file saved
earlier, a witness, the standalone verifier's state)."""

from __future__ import annotations

import datetime as dt
import itertools
import json
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from shared import audit, audit_integrity
from shared.app import seal_once
from shared.audit_proofs import (
    GENESIS_HASH,
    SignedCheckpoint,
    leaf_hash,
    root_of,
    verify_consistency,
)
from shared.audit_verifier import check_service, load_checkpoints, save_checkpoints
from shared.signing import Signer
from shared.testing import BACKEND, SERVICES, add_account, client_for

SQLITE_TRIGGERS = (
    "audit_events_no_update",
    "audit_events_no_delete",
    "audit_checkpoints_no_change_update",
    "audit_checkpoints_no_change_delete",
    "audit_tree_no_change_update",
    "audit_tree_no_change_delete",
)


async def _tamper(app: FastAPI, *statements: str) -> None:
    """Change the tables as the schema's owner would: with the append-only triggers off."""
    schema = app.state.db.schema
    async with app.state.db.engine.begin() as conn:
        if BACKEND == "postgres":
            await conn.execute(text("SET LOCAL session_replication_role = replica"))
        else:
            for trigger in SQLITE_TRIGGERS:
                await conn.execute(text(f'DROP TRIGGER IF EXISTS "{schema}".{trigger}'))
        for statement in statements:
            await conn.execute(text(statement.format(schema=schema)))


async def _verify(app: FastAPI, outside: list[SignedCheckpoint] | None = None) -> Any:
    models = app.state.models
    async with app.state.db.sessionmaker() as session:
        return await audit_integrity.verify_chain(
            session,
            models.audit_event,
            models.audit_checkpoint,
            public_key=app.state.signer.public_key_b64(),
            service=app.state.service_name,
            outside=outside or [],
        )


async def _one_checkpoint_per_event(app: FastAPI, events: int, start: int = 0) -> None:
    for i in range(start, start + events):
        await add_account(app, f"user{i}", ["auditor"])
        assert await seal_once(app) == 1


async def _published(app: FastAPI) -> list[SignedCheckpoint]:
    async with client_for(app) as client:
        return await load_checkpoints("http://test", client)


async def _saved(app: FastAPI, tmp_path: Path) -> Path:
    path = tmp_path / "checkpoints.json"
    save_checkpoints(path, await _published(app))
    return path


async def _rewrite_event_and_rehash(app: FastAPI, position: int) -> None:
    """Edit one sealed event and recompute every later link of the hash chain."""
    await _tamper(
        app,
        "UPDATE \"{schema}\".audit_events SET actor = 'mallory' "
        f"WHERE seal_position = {position}",
    )
    model = app.state.models.audit_event
    async with app.state.db.sessionmaker() as session:
        rows = (await session.execute(select(model).order_by(model.seal_position))).scalars()
        chain, updates = GENESIS_HASH, []
        for row in rows:
            chain = audit.chain_step(chain, audit.event_canonical(row, row.seal_position))
            updates.append(
                f"UPDATE \"{{schema}}\".audit_events SET seal_hash = '{chain}' "
                f"WHERE seal_position = {row.seal_position}"
            )
    await _tamper(app, *updates)


async def _reseal_everything(app: FastAPI) -> None:
    """What someone holding the database and the signing key can do: throw the seals, the tree
    and the checkpoints away and sign the forged history afresh, as one consistent log."""
    await _tamper(
        app,
        'UPDATE "{schema}".audit_events SET seal_position = NULL, seal_hash = NULL',
        'DELETE FROM "{schema}".audit_checkpoints',
        'DELETE FROM "{schema}".audit_tree',
    )
    await seal_once(app)


async def test_checkpoints_chain_and_sign_the_merkle_root_of_the_events(make_app: Any) -> None:
    app = await make_app("hayu")
    await _one_checkpoint_per_event(app, 3)
    await add_account(app, "two-at-once-a", ["officer"])
    await add_account(app, "two-at-once-b", ["officer"])
    assert await seal_once(app) == 2
    published = await _published(app)
    assert [cp.size for cp in published] == [1, 2, 3, 5]
    assert published[0].previous == GENESIS_HASH
    for before, after in itertools.pairwise(published):
        assert after.previous == before.digest()
    key = app.state.signer.public_key_b64()
    assert all(cp.signature_ok(key) for cp in published)
    model = app.state.models.audit_event
    async with app.state.db.sessionmaker() as session:
        rows = (await session.execute(select(model).order_by(model.seal_position))).scalars()
        leaves = [leaf_hash(audit.event_canonical(r, r.seal_position)) for r in rows]
    assert published[-1].root == root_of(leaves).hex()
    assert (await _verify(app, published)).ok


async def test_checkpoints_and_the_tree_refuse_update_and_delete(make_app: Any) -> None:
    app = await make_app("hayu")
    await _one_checkpoint_per_event(app, 2)
    schema = app.state.db.schema
    for statement in (
        f"UPDATE \"{schema}\".audit_checkpoints SET chain_hash = 'x'",
        f'DELETE FROM "{schema}".audit_checkpoints WHERE position = 2',
        f"UPDATE \"{schema}\".audit_tree SET hash = 'x'",
        f'DELETE FROM "{schema}".audit_tree',
    ):
        with pytest.raises(DBAPIError, match="append-only"):
            async with app.state.db.engine.begin() as conn:
                await conn.execute(text(statement))
    if BACKEND == "postgres":  # TRUNCATE skips row triggers; a statement trigger refuses it
        for table in ("audit_events", "audit_checkpoints", "audit_tree"):
            with pytest.raises(DBAPIError, match="append-only"):
                async with app.state.db.engine.begin() as conn:
                    await conn.execute(text(f'TRUNCATE "{schema}".{table} CASCADE'))
    assert (await _verify(app)).ok


async def test_rehashed_edit_with_later_checkpoints_deleted_no_longer_verifies(
    make_app: Any, tmp_path: Path
) -> None:
    """The reproduction: edit event 3, recompute every later hash, delete checkpoints 3 to 5."""
    app = await make_app("hayu")
    await _one_checkpoint_per_event(app, 5)
    saved = await load_checkpoints(str(await _saved(app, tmp_path)))
    await _rewrite_event_and_rehash(app, 3)
    await _tamper(app, 'DELETE FROM "{schema}".audit_checkpoints WHERE position >= 3')
    result = await _verify(app)
    assert not result.ok
    assert result.first_broken_position == 3
    assert "checkpoint was removed" in result.reason
    against = await _verify(app, saved)
    assert not against.ok
    assert against.first_broken_position == 3


async def test_rewrite_re_signed_with_the_service_key_is_caught_against_outside(
    make_app: Any, tmp_path: Path
) -> None:
    app = await make_app("hayu")
    await _one_checkpoint_per_event(app, 5)
    saved = await load_checkpoints(str(await _saved(app, tmp_path)))
    await _rewrite_event_and_rehash(app, 3)
    await _reseal_everything(app)
    assert (await _verify(app)).ok  # consistent with itself: only outside copies can tell
    result = await _verify(app, saved)
    assert not result.ok
    assert result.first_broken_position == 3
    assert "held outside" in result.reason
    assert "between positions 3 and 3" in result.reason


async def test_truncated_tail_is_caught_against_outside(make_app: Any, tmp_path: Path) -> None:
    app = await make_app("hayu")
    await _one_checkpoint_per_event(app, 5)
    saved = await load_checkpoints(str(await _saved(app, tmp_path)))
    await _tamper(
        app,
        'DELETE FROM "{schema}".audit_events WHERE seal_position >= 4',
        'DELETE FROM "{schema}".audit_checkpoints WHERE position >= 4',
        'DELETE FROM "{schema}".audit_tree WHERE ((idx + 1) << level) > 3',
    )
    assert (await _verify(app)).ok  # a shorter log, consistent with itself
    result = await _verify(app, saved)
    assert not result.ok
    assert result.first_broken_position == 4
    assert "truncated" in result.reason


@pytest.mark.parametrize("removed", [2, 5])
async def test_deleted_checkpoint_is_caught(make_app: Any, tmp_path: Path, removed: int) -> None:
    app = await make_app("hayu")
    await _one_checkpoint_per_event(app, 5)
    saved = await load_checkpoints(str(await _saved(app, tmp_path)))
    await _tamper(app, f'DELETE FROM "{{schema}}".audit_checkpoints WHERE position = {removed}')
    local = await _verify(app)
    assert not local.ok
    assert local.first_broken_position == (3 if removed == 2 else 5)
    assert "removed" in local.reason
    assert not (await _verify(app, saved)).ok


async def test_restored_older_backup_presented_as_current_is_caught(
    make_app: Any, tmp_path: Path
) -> None:
    """A backup of three events restored, and the service carries on signing from there."""
    app = await make_app("hayu")
    await _one_checkpoint_per_event(app, 5)
    saved = await load_checkpoints(str(await _saved(app, tmp_path)))
    await _tamper(
        app,
        'DELETE FROM "{schema}".audit_events WHERE seal_position >= 4',
        'DELETE FROM "{schema}".audit_checkpoints WHERE position >= 4',
        'DELETE FROM "{schema}".audit_tree WHERE ((idx + 1) << level) > 3',
    )
    await _one_checkpoint_per_event(app, 2, start=10)
    assert (await _verify(app)).ok
    result = await _verify(app, saved)
    assert not result.ok
    assert result.first_broken_position == 4


async def test_outside_checkpoints_signed_by_another_key_are_refused(
    make_app: Any, tmp_path: Path
) -> None:
    app = await make_app("hayu")
    await _one_checkpoint_per_event(app, 2)
    saved = json.loads((await _saved(app, tmp_path)).read_text())
    forged = Signer.generate()
    cp = SignedCheckpoint.from_json(saved[-1])
    resigned = SignedCheckpoint(**{**cp.__dict__, "signature": forged.sign(cp.message())})
    result = await _verify(app, [resigned])
    assert not result.ok
    assert "not signed by this service's key" in result.reason


async def test_cli_audit_verify_against_a_saved_file_and_a_url(
    make_app: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import hayu.main
    from shared.cli import _verify_cmd

    app = await make_app("hayu")
    await _one_checkpoint_per_event(app, 4)
    path = await _saved(app, tmp_path)
    spec = hayu.main.build_spec(app.state.settings)
    assert await _verify_cmd(spec, [str(path)]) == 0
    assert "consistent with 4 checkpoints held outside" in capsys.readouterr().out
    await _rewrite_event_and_rehash(app, 2)
    await _reseal_everything(app)
    assert await _verify_cmd(spec, []) == 0
    assert await _verify_cmd(spec, [str(path)]) == 1
    assert "BROKEN at position 2" in capsys.readouterr().err
    assert await _verify_cmd(spec, [str(tmp_path / "missing.json")]) == 2
    assert await _verify_cmd(spec, ["http://127.0.0.1:9/nothing-listens-here"]) == 2


@pytest.mark.parametrize("service", SERVICES)
async def test_public_history_pages_and_consistency_proofs(make_app: Any, service: str) -> None:
    app = await make_app(service)
    await _one_checkpoint_per_event(app, 5)
    async with client_for(app) as client:
        first = (await client.get("/api/v1/public/audit/checkpoints?limit=2")).json()
        assert [cp["size"] for cp in first["items"]] == [1, 2]
        rest = (
            await client.get(
                f"/api/v1/public/audit/checkpoints?limit=2&cursor={first['next_cursor']}"
            )
        ).json()
        assert [cp["size"] for cp in rest["items"]] == [3, 4]
        assert (await client.get("/api/v1/public/audit/checkpoints?limit=1001")).status_code == 422
        published = await load_checkpoints("http://test", client)
        roots = {cp.size: bytes.fromhex(cp.root or "") for cp in published}
        for a in range(1, 6):
            for b in range(a, 6):
                answer = await client.get(f"/api/v1/public/audit/consistency?first={a}&second={b}")
                proof = [bytes.fromhex(h) for h in answer.json()["proof"]]
                assert verify_consistency(a, b, roots[a], roots[b], proof)
        for query in ("first=3&second=2", "first=1&second=6", "first=-1&second=2", "first=x"):
            refused = await client.get(f"/api/v1/public/audit/consistency?{query}")
            assert refused.status_code == 422, query
            assert refused.headers["content-type"].startswith("application/problem+json")


async def test_standalone_verifier_holds_a_service_to_what_it_saw(
    make_app: Any, tmp_path: Path
) -> None:
    app = await make_app("hayu")
    key = app.state.signer.public_key_b64()
    await _one_checkpoint_per_event(app, 3)
    async with client_for(app) as client:
        served, problem = await check_service(client, "http://test", key, all_proofs=True)
        assert problem is None
        assert served[-1].size == 3
        await _one_checkpoint_per_event(app, 2, start=3)
        _, problem = await check_service(client, "http://test", key, saved=served)
        assert problem is None  # the log grew and still extends what was saved
        saved, _ = await check_service(client, "http://test", key)
        _, problem = await check_service(client, "http://test", Signer.generate().public_key_b64())
        assert problem is not None
        assert "signature" in problem
        await _rewrite_event_and_rehash(app, 4)
        await _reseal_everything(app)
        _, problem = await check_service(client, "http://test", key)
        assert problem is None  # alone, a re-signed forgery looks whole
        _, problem = await check_service(client, "http://test", key, saved=saved)
        assert problem is not None
        assert problem.startswith("at size 1:") or "differs from the saved one" in problem
        await _tamper(
            app,
            'DELETE FROM "{schema}".audit_events WHERE seal_position >= 3',
            'DELETE FROM "{schema}".audit_checkpoints WHERE position >= 3',
            'DELETE FROM "{schema}".audit_tree WHERE ((idx + 1) << level) > 2',
        )
        _, problem = await check_service(client, "http://test", key, saved=saved)
        assert problem is not None
        assert "rolled back" in problem


async def test_a_log_sealed_before_the_tree_existed_continues_into_it(make_app: Any) -> None:
    """The upgrade path: checkpoints of the hash chain alone (version 1) already exist."""
    app = await make_app("hayu")
    await _one_checkpoint_per_event(app, 3)
    signer = app.state.signer
    async with app.state.db.sessionmaker() as session:
        legacy = (await _verify(app)).checked
        model = app.state.models.audit_event
        chain = await session.scalar(select(model.seal_hash).where(model.seal_position == 3))
    sealed_at = "2026-12-01 00:00:00"
    message = audit.checkpoint_message("hayu", 3, chain, dt.datetime(2026, 12, 1, tzinfo=dt.UTC))
    await _tamper(
        app,
        'DELETE FROM "{schema}".audit_checkpoints',
        'DELETE FROM "{schema}".audit_tree',
        'INSERT INTO "{schema}".audit_checkpoints (position, chain_hash, sealed_at, key_id, '
        f"signature, version) VALUES (3, '{chain}', '{sealed_at}', '{signer.key_id()}', "
        f"'{signer.sign(message)}', 1)",
    )
    assert legacy == 3
    assert (await _verify(app)).ok
    await _one_checkpoint_per_event(app, 2, start=3)
    published = await _published(app)
    assert [(cp.version, cp.size) for cp in published] == [(1, 3), (2, 4), (2, 5)]
    assert published[1].previous == published[0].digest()
    assert (await _verify(app, published)).ok
    async with client_for(app) as client:
        _, problem = await check_service(client, "http://test", signer.public_key_b64())
    assert problem is None


async def test_standalone_verifier_reads_only_what_is_new_since_the_saved_checkpoint(
    make_app: Any,
) -> None:
    app = await make_app("erk")
    key = app.state.signer.public_key_b64()
    await _one_checkpoint_per_event(app, 4)
    asked: list[str] = []

    async def log(request: Any) -> None:
        asked.append(str(request.url))

    async with client_for(app, event_hooks={"request": [log]}) as client:
        saved, problem = await check_service(client, "http://test", key)
        assert problem is None
        await _one_checkpoint_per_event(app, 2, start=4)
        asked.clear()
        history, problem = await check_service(client, "http://test", key, saved=saved)
        assert problem is None
        assert [cp.size for cp in history] == [1, 2, 3, 4, 5, 6]
        assert any("since=4" in url for url in asked)
        assert not any("since=0" in url for url in asked)
        assert any("consistency?first=4&second=6" in url for url in asked)
        await _tamper(app, 'DELETE FROM "{schema}".audit_checkpoints WHERE position = 6')
        _, problem = await check_service(client, "http://test", key, saved=history)
        assert problem is not None
        assert "rolled back" in problem  # from outside, the latest is now older than saved
        await _one_checkpoint_per_event(app, 1, start=6)
        _, problem = await check_service(client, "http://test", key, saved=history)
        assert problem == "at size 6: the saved checkpoint was removed"


async def test_sealer_reports_a_removed_latest_checkpoint(
    make_app: Any, caplog: pytest.LogCaptureFixture
) -> None:
    app = await make_app("hayu")
    await _one_checkpoint_per_event(app, 3)
    await _tamper(app, 'DELETE FROM "{schema}".audit_checkpoints WHERE position = 3')
    with caplog.at_level("ERROR", logger="shared.audit"):
        await _one_checkpoint_per_event(app, 1, start=3)
    assert "a checkpoint was removed" in caplog.text


async def test_a_tampered_stored_tree_is_reported(make_app: Any) -> None:
    app = await make_app("hayu")
    await _one_checkpoint_per_event(app, 4)
    await _tamper(
        app,
        'UPDATE "{schema}".audit_tree SET hash = '
        "CASE WHEN substr(hash, 1, 2) = 'ff' THEN 'ee' ELSE 'ff' END || substr(hash, 3)",
    )
    result = await _verify(app)
    assert not result.ok
    assert "stored Merkle tree" in result.reason


async def test_audit_page_shows_the_signed_tree_head_in_indonesian(make_app: Any) -> None:
    app = await make_app("sabilulungan")
    await _one_checkpoint_per_event(app, 2)
    latest = (await _published(app))[-1]
    async with client_for(app) as client:
        page = await client.get("/audit")
    assert page.status_code == 200
    assert "Akar pohon Merkle" in page.text
    assert latest.root is not None
    assert latest.root in page.text
    assert latest.previous is not None
    assert latest.previous in page.text


async def test_auditors_get_an_inclusion_proof_of_a_sealed_event(make_app: Any) -> None:
    from shared.audit_proofs import verify_inclusion
    from shared.testing import bearer

    app = await make_app("hayu")
    await _one_checkpoint_per_event(app, 5)
    await add_account(app, "unsealed", ["officer"])  # written after the last sealing run
    model = app.state.models.audit_event
    async with app.state.db.sessionmaker() as session:
        rows = (await session.execute(select(model).order_by(model.id))).scalars().all()
    sealed, unsealed = rows[2], rows[-1]
    async with client_for(app) as client:
        auditor = await bearer(client, "user0")
        officer = await bearer(client, "unsealed")
        for size in (None, 3, 5):
            query = "" if size is None else f"?size={size}"
            answer = await client.get(
                f"/api/v1/audit/events/{sealed.id}/inclusion{query}", headers=auditor
            )
            assert answer.status_code == 200
            body = answer.json()
            checkpoint = SignedCheckpoint.from_json(body["checkpoint"])
            assert checkpoint.signature_ok(app.state.signer.public_key_b64())
            assert checkpoint.size == (size or 5)
            leaf = leaf_hash(body["leaf_data"].encode())
            assert leaf.hex() == body["leaf_hash"]
            assert json.loads(body["leaf_data"])["entity_id"] == sealed.entity_id
            proof = [bytes.fromhex(h) for h in body["proof"]]
            assert verify_inclusion(
                body["position"] - 1,
                checkpoint.size,
                leaf,
                bytes.fromhex(checkpoint.root or ""),
                proof,
            )
        refusals = [
            (f"/api/v1/audit/events/{sealed.id}/inclusion?size=2", auditor, 422),  # sealed later
            (f"/api/v1/audit/events/{sealed.id}/inclusion?size=9", auditor, 422),
            (f"/api/v1/audit/events/{unsealed.id}/inclusion", auditor, 422),
            (f"/api/v1/audit/events/{sealed.id}/inclusion", officer, 403),
            (f"/api/v1/audit/events/{sealed.id}/inclusion", {}, 401),
        ]
        for url, headers, status in refusals:
            assert (await client.get(url, headers=headers)).status_code == status, url


async def test_verification_reads_checkpoints_a_chunk_at_a_time(
    make_app: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(audit_integrity, "CHECKPOINT_CHUNK", 2)
    app = await make_app("hayu")
    await _one_checkpoint_per_event(app, 7)
    saved = await load_checkpoints(str(await _saved(app, tmp_path)))
    assert (await _verify(app, saved)).ok
    await _tamper(app, 'DELETE FROM "{schema}".audit_checkpoints WHERE position = 5')
    result = await _verify(app, saved)
    assert (result.ok, result.first_broken_position) == (False, 6)
    assert "removed" in result.reason
