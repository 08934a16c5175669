"""The request's transaction (`shared.db.get_session`): committed when the route has answered and
before the response is sent, rolled back when the route fails, whatever the failure; the reading
request's SQLite mode is the request's own. It is closed by FastAPI's per-route exit stack rather
than by a dependency with `yield` (issue 17: that machinery cost ~50 Python calls a request)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import APIRouter, Request
from sqlalchemy import event, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from starlette.requests import Request as StarletteRequest

from shared.cli import create_account
from shared.codes import new_tracking_code
from shared.db import REQUEST_SESSION, SessionDep, get_session, write_intent
from shared.problems import ConflictError
from shared.testing import assert_problem, client_for


def _probe_router() -> APIRouter:
    router = APIRouter()

    @router.post("/api/v1/probe/accounts/{name}")
    async def write(name: str, request: Request, session: SessionDep, fail: str = "") -> Any:
        await create_account(session, request.app.state.models, name, "password-123", ["x"])
        await session.flush()
        if fail == "refusal":
            raise ConflictError("refused after writing")
        if fail == "crash":
            raise RuntimeError("a bug after writing")
        return {"written": name}

    @router.post("/api/v1/probe/twice")
    async def twice(request: Request, session: SessionDep) -> Any:
        again = await get_session(request)  # as `get_idempotency` takes it
        await create_account(again, request.app.state.models, "twice", "password-123", ["x"])
        return {"same": again is session, "open": REQUEST_SESSION in request.scope}

    @router.post("/api/v1/probe/swallowed")
    async def swallowed(request: Request, session: SessionDep) -> Any:
        """A route that catches its own failed flush and answers anyway."""
        models = request.app.state.models
        await create_account(session, models, "kept-out", "password-123", ["x"])
        await session.flush()
        try:
            session.add(models.account())  # no username, no password: the flush fails
            await session.flush()
        except IntegrityError:
            return {"answered": True}
        return {"answered": False}

    @router.get("/api/v1/probe/untouched")
    async def untouched(session: SessionDep) -> Any:
        return {"in_transaction": session.in_transaction()}

    @router.get("/api/v1/probe/intent")
    async def intent(session: SessionDep) -> Any:
        return {"write_intent": write_intent.get()}

    return router


async def test_the_transaction_is_committed_before_the_answer_and_a_failure_rolls_back(
    make_app: Any,
) -> None:
    app = await make_app("hayu", extra_routers=[_probe_router()])
    account = app.state.models.account

    async def stored(name: str) -> int:
        async with app.state.db.sessionmaker() as session:
            count = await session.scalar(
                select(func.count()).select_from(account).where(account.username == name)
            )
            return int(count or 0)

    seen_at_answer: list[int] = []
    intent_at_answer: list[bool] = []

    async def watching(scope: Any, receive: Any, send: Any) -> None:
        async def watched(message: Any) -> None:
            if message["type"] == "http.response.start" and "/probe/" in scope["path"]:
                name = scope["path"].rsplit("/", 1)[-1]
                seen_at_answer.append(await stored(name))
                intent_at_answer.append(write_intent.get())
            await send(message)

        await app(scope, receive, watched)

    async with client_for(watching) as client:  # type: ignore[arg-type]
        ok = await client.post("/api/v1/probe/accounts/committed")
        refused = await client.post("/api/v1/probe/accounts/refused", params={"fail": "refusal"})
        crashed = await client.post("/api/v1/probe/accounts/crashed", params={"fail": "crash"})
        reading = await client.get("/api/v1/probe/intent")
    assert ok.status_code == 200, ok.text
    assert_problem(refused, 409)
    assert crashed.status_code == 500
    assert reading.json() == {"write_intent": False}  # a GET begins without the write lock
    # The written row was visible to another connection when the answer started; the refused
    # and the crashed requests' rows never were, and are not now.
    assert seen_at_answer[:3] == [1, 0, 0]
    assert [await stored(n) for n in ("committed", "refused", "crashed")] == [1, 0, 0]
    # The request's SQLite mode is reset once its transaction is closed.
    assert intent_at_answer == [True, True, True, True]


async def test_a_second_get_session_in_one_request_is_the_same_transaction(make_app: Any) -> None:
    """A dependency that takes the session itself (the idempotency handle) shares the route's
    transaction: one commit, and the session is forgotten once the transaction is closed."""
    app = await make_app("hayu", extra_routers=[_probe_router()])
    seen: list[dict[str, Any]] = []

    async def watching(scope: Any, receive: Any, send: Any) -> None:
        await app(scope, receive, send)
        seen.append(dict(scope))

    async with client_for(watching) as client:  # type: ignore[arg-type]
        answer = await client.post("/api/v1/probe/twice")
    assert answer.json() == {"same": True, "open": True}
    assert REQUEST_SESSION not in seen[0]
    account = app.state.models.account
    async with app.state.db.sessionmaker() as session:
        assert await session.scalar(select(account.id).where(account.username == "twice"))


async def test_without_fastapis_route_exit_stack_the_session_is_refused() -> None:
    """Were a FastAPI release to drop the stack, every request would fail, none commit blindly."""
    request = StarletteRequest({"type": "http", "method": "POST", "headers": [], "path": "/"})
    with pytest.raises(RuntimeError, match="fastapi_function_astack"):
        await get_session(request)


async def test_a_cancellation_during_the_commit_lets_it_finish_then_stops_the_answer() -> None:
    """The close is shielded (the commit completes), and a cancellation that arrived meanwhile is
    raised right after it, so no response follows: what FastAPI does after a dependency's exit."""
    from types import SimpleNamespace

    import anyio

    from shared.db import _RequestTransaction

    events: list[str] = []
    outer = anyio.CancelScope()

    class Transaction:
        is_active = True

    class Session:
        sync_session = SimpleNamespace(get_transaction=Transaction, identity_map={})

        async def commit(self) -> None:
            outer.cancel()  # e.g. the server shutting down while the commit is on its way
            await anyio.sleep(0)  # a checkpoint inside the shield: not cancelled
            events.append("committed")

        async def rollback(self) -> None:
            events.append("rolled back")

        async def close(self) -> None:
            events.append("closed")

    db = SimpleNamespace(sessionmaker=Session)
    request = SimpleNamespace(
        scope={}, method="POST", app=SimpleNamespace(state=SimpleNamespace(db=db))
    )
    before = write_intent.get()
    with outer:
        transaction = _RequestTransaction(request)  # type: ignore[arg-type]
        assert isinstance(await transaction.__aenter__(), Session)
        await transaction.__aexit__(None, None, None)
        events.append("answered")
    assert events == ["committed", "closed"]
    assert outer.cancelled_caught
    assert write_intent.get() == before


async def test_a_session_never_used_begins_and_ends_nothing(make_app: Any) -> None:
    """A route that takes the session but runs no statement on it (or runs its one statement
    alone, `read_alone`) costs no ORM transaction: none is begun, none committed."""
    app = await make_app("hayu", extra_routers=[_probe_router()])
    begun: list[Any] = []

    def record(session: Any, transaction: Any) -> None:
        begun.append(transaction)

    postgres = app.state.db.dialect == "postgresql"
    unknown = new_tracking_code("HY")  # well formed, so the lookup runs its statement
    async with client_for(app) as client:
        await client.get("/api/v1/probe/untouched")  # warm
        await client.get(f"/api/v1/public/track/{unknown}")
        event.listen(Session, "after_transaction_create", record)
        try:
            answer = await client.get("/api/v1/probe/untouched")
            untouched = list(begun)
            # a public lookup: its one statement runs alone on PostgreSQL (`read_alone`)
            lookup = await client.get(f"/api/v1/public/track/{unknown}")
            looked_up = list(begun)
            committed = await client.post("/api/v1/probe/accounts/used")
        finally:
            event.remove(Session, "after_transaction_create", record)
    assert answer.json() == {"in_transaction": False}
    assert untouched == []
    assert lookup.status_code == 404, lookup.text
    if postgres:
        assert looked_up == []
    assert committed.status_code == 200, committed.text
    assert len(begun) > len(looked_up)  # the route that writes begins one when it first writes


async def test_an_unused_session_ends_with_no_call_but_a_failure_is_still_handed_over() -> None:
    """The fast end (nothing begun, nothing loaded): no commit, rollback or close, and no
    checkpoint (a cancelled scope around it is not raised); with a failure and a handler on the
    request, the handler is still called."""
    from types import SimpleNamespace

    import anyio

    from shared.db import FAILURE_HANDLER, _RequestTransaction

    events: list[str] = []

    class Session:
        sync_session = SimpleNamespace(get_transaction=lambda: None, identity_map={})

        async def commit(self) -> None:
            events.append("committed")

        async def rollback(self) -> None:
            events.append("rolled back")

        async def close(self) -> None:
            events.append("closed")

    async def handler(session: Any, exc: Exception) -> None:
        events.append(f"handed {exc}")

    def request() -> Any:
        db = SimpleNamespace(sessionmaker=Session)
        return SimpleNamespace(
            scope={FAILURE_HANDLER: handler},
            method="POST",
            app=SimpleNamespace(state=SimpleNamespace(db=db)),
        )

    with anyio.CancelScope() as outer:
        outer.cancel()
        answered = _RequestTransaction(request())
        await answered.__aenter__()
        await answered.__aexit__(None, None, None)
        events.append("answered")
    assert events == ["answered"]
    assert not outer.cancelled_caught

    events.clear()
    failed = _RequestTransaction(request())
    await failed.__aenter__()
    await failed.__aexit__(ValueError, ValueError("refused"), None)
    assert events == ["handed refused"]


async def test_a_route_that_caught_its_failed_flush_is_rolled_back_not_committed(
    make_app: Any,
) -> None:
    """As with `sessionmaker.begin()`: a transaction no longer active at the end (its flush
    failed) is rolled back, even though the route answered; nothing of it is stored."""
    app = await make_app("hayu", extra_routers=[_probe_router()])
    account = app.state.models.account
    async with client_for(app) as client:
        answer = await client.post("/api/v1/probe/swallowed")
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"answered": True}
    async with app.state.db.sessionmaker() as session:
        count = await session.scalar(
            select(func.count()).select_from(account).where(account.username == "kept-out")
        )
    assert count == 0
