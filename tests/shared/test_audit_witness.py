"""Witnesses receive every signed checkpoint, in order, retried until they accept it."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import httpx
import pytest
from pydantic import ValidationError
from sqlalchemy import select

from shared import audit, audit_witness
from shared.app import seal_once
from shared.audit_proofs import SignedCheckpoint, check_checkpoint_chain
from shared.testing import add_account

UP = "https://witness.example/checkpoints"
DOWN = "https://archive.example/audit"


class Witnesses:
    """Two witnesses behind one mock transport; the second one is down until told otherwise."""

    def __init__(self) -> None:
        self.received: dict[str, list[dict[str, Any]]] = {UP: [], DOWN: []}
        self.down = True

    def handle(self, request: httpx.Request) -> httpx.Response:
        url = str(request.url)
        if url == DOWN and self.down:
            return httpx.Response(503)
        self.received[url].append(json.loads(request.content))
        return httpx.Response(201)


async def _seal(app: Any, name: str) -> None:
    await add_account(app, name, ["officer"])
    assert await seal_once(app) == 1


async def test_each_checkpoint_reaches_every_witness_in_order_with_retries(
    make_app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(audit_witness, "_pause", lambda attempts: dt.timedelta(0))
    app = await make_app("hayu", audit_witness_urls=f"{UP}, {DOWN}")
    witnesses = Witnesses()
    client = httpx.AsyncClient(transport=httpx.MockTransport(witnesses.handle))
    await _seal(app, "a")
    await _seal(app, "b")
    assert await audit_witness.deliver_once(app, client) == 2
    assert [cp["size"] for cp in witnesses.received[UP]] == [1, 2]
    assert witnesses.received[DOWN] == []
    cursors = audit.side_table(app.state.models.audit_checkpoint, audit.WITNESS_TABLE)
    async with app.state.db.sessionmaker() as session:
        down = (await session.execute(select(cursors).where(cursors.c.witness == DOWN))).one()
    assert down.attempts == 1
    assert down.last_error == "answered 503"
    assert await audit_witness.deliver_once(app, client) == 0  # nothing new; DOWN still down
    await _seal(app, "c")
    witnesses.down = False
    assert await audit_witness.deliver_once(app, client) == 4  # one to UP, three to DOWN
    key = app.state.signer.public_key_b64()
    for url in (UP, DOWN):
        copies = [SignedCheckpoint.from_json(body) for body in witnesses.received[url]]
        assert [cp.size for cp in copies] == [1, 2, 3]
        assert check_checkpoint_chain(copies, key, "hayu", complete=True) is None
    async with app.state.db.sessionmaker() as session:
        down = (await session.execute(select(cursors).where(cursors.c.witness == DOWN))).one()
    assert (down.attempts, down.last_error, down.next_attempt_at) == (0, None, None)
    await client.aclose()


async def test_an_unreachable_witness_waits_before_the_next_try(make_app: Any) -> None:
    app = await make_app("hayu", audit_witness_urls=DOWN)

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("no route", request=request)

    client = httpx.AsyncClient(transport=httpx.MockTransport(refuse))
    await _seal(app, "a")
    assert await audit_witness.deliver_once(app, client) == 0
    cursors = audit.side_table(app.state.models.audit_checkpoint, audit.WITNESS_TABLE)
    async with app.state.db.sessionmaker() as session:
        row = (await session.execute(select(cursors))).one()
    assert row.last_error == "unreachable: ConnectError"
    assert row.next_attempt_at > dt.datetime.now(dt.UTC)
    calls: list[str] = []

    def record(request: httpx.Request) -> httpx.Response:
        calls.append(str(request.url))
        return httpx.Response(200)

    client = httpx.AsyncClient(transport=httpx.MockTransport(record))
    assert await audit_witness.deliver_once(app, client) == 0
    assert calls == []  # still pausing


async def test_witnesses_are_configured_as_urls_and_run_as_a_periodic_task(make_app: Any) -> None:
    import hayu.settings

    with pytest.raises(ValidationError, match="AUDIT_WITNESS_URLS"):
        hayu.settings.Settings(audit_witness_urls="ftp://example.org/x")
    app = await make_app("hayu", audit_witness_urls=UP)
    assert "audit-witness" in [task.name for task in app.state.periodic]
    plain = await make_app("erk")
    assert "audit-witness" not in [task.name for task in plain.state.periodic]


async def test_the_reference_witness_keeps_a_chain_and_refuses_a_rewritten_one(
    make_app: Any, tmp_path: Any
) -> None:
    from shared.audit_verifier import load_checkpoints
    from shared.audit_witness_server import WitnessStore, witness_app

    app = await make_app("hayu", audit_witness_urls="http://witness/checkpoints")
    store = WitnessStore(tmp_path / "hayu.jsonl", app.state.signer.public_key_b64(), "hayu")
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=witness_app(store)))
    for name in ("a", "b", "c"):
        await _seal(app, name)
    assert await audit_witness.deliver_once(app, client) == 3
    assert await audit_witness.deliver_once(app, client) == 0
    kept = await load_checkpoints("http://witness/checkpoints.json", client)
    assert [cp.size for cp in kept] == [1, 2, 3]
    # the copy survives a restart of the witness
    assert [cp.size for cp in WitnessStore(store.path, store.public_key, "hayu").kept] == [1, 2, 3]
    again = await client.post("http://witness/checkpoints", json=kept[1].to_json())
    assert again.status_code == 200
    forged = SignedCheckpoint(**{**kept[2].__dict__, "chain_hash": "f" * 64})
    forged = SignedCheckpoint(
        **{**forged.__dict__, "signature": app.state.signer.sign(forged.message())}
    )
    conflict = await client.post("http://witness/checkpoints", json=forged.to_json())
    assert conflict.status_code == 409
    assert "differs" in conflict.json()["detail"]
    assert (tmp_path / "hayu.jsonl.conflicts").exists()
    await _seal(app, "d")
    await _seal(app, "e")
    async with app.state.db.sessionmaker() as session:
        model = app.state.models.audit_checkpoint
        fifth = (await session.execute(select(model).where(model.position == 5))).scalar_one()
        gap = audit.signed_of(fifth, "hayu")
    skipped = await client.post("http://witness/checkpoints", json=gap.to_json())
    assert skipped.status_code == 409  # the checkpoint at size 4 never reached it
    assert "does not follow" in skipped.json()["detail"]
    stranger = await client.post(
        "http://witness/checkpoints",
        json={**kept[2].to_json(), "size": 4, "signature": "AAAA"},
    )
    assert stranger.status_code == 422
    junk = await client.post("http://witness/checkpoints", content=b"not json")
    assert junk.status_code == 422
    await client.aclose()
