"""The autocommit paths of `shared.db` (PostgreSQL): a public lookup's one statement and a write
that is one statement run without BEGIN and COMMIT, but only while the request's session has
not used a connection. Once it has, they run in its transaction: nothing the request did is
lost, committed apart from it, or left unseen, and the request never holds two connections."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import delete, event, func, insert, select, text

from shared.db import read_alone, standalone_runner, unconnected
from shared.testing import transactions_begun


@pytest.fixture
async def hayu(make_app: Any, backend: str) -> Any:
    if backend != "postgres":
        pytest.skip("the autocommit paths are PostgreSQL's")
    app = await make_app("hayu")
    async with app.state.db.engine.connect() as warm:  # the pool's first connect asks for settings
        await warm.execute(text("SELECT 1"))
    return app


def _checkouts(app: Any) -> list[int]:
    taken: list[int] = []
    event.listen(app.state.db.engine.sync_engine, "checkout", lambda *a: taken.append(1))
    return taken


async def test_a_write_runs_on_its_own_only_while_the_session_is_unconnected(hayu: Any) -> None:
    from hayu.models import Region

    add = insert(Region).values(code="99.01", name="Uji", level="province").returning(Region.code)
    async with hayu.state.db.sessionmaker.begin() as session:
        assert unconnected(session)
        run = standalone_runner(session)
        assert run is not None
        with transactions_begun() as begun:
            assert (await run(add, {})).code == "99.01"
        assert begun == []
        assert unconnected(session)
        await session.rollback()  # the request failing afterwards
    async with hayu.state.db.sessionmaker() as check:
        assert await check.scalar(select(func.count()).where(Region.code == "99.01")) == 1

    other = insert(Region).values(code="99.02", name="Uji", level="province").returning(Region.code)
    async with hayu.state.db.sessionmaker.begin() as session:
        await session.execute(text("SELECT 1"))  # the request has read already
        assert not unconnected(session)
        run = standalone_runner(session)
        assert run is not None
        await run(other, {})
        await session.rollback()  # ran in the request's transaction: undone with it
    async with hayu.state.db.sessionmaker() as check:
        assert await check.scalar(select(func.count()).where(Region.code == "99.02")) == 0
        await check.execute(delete(Region).where(Region.code == "99.01"))
        await check.commit()


async def test_a_pending_orm_change_is_not_left_behind_by_the_write(hayu: Any) -> None:
    from hayu.models import Region

    async with hayu.state.db.sessionmaker.begin() as session:
        session.add(Region(code="99.03", name="Tertunda", level="province"))
        assert not unconnected(session)
        run = standalone_runner(session)
        assert run is not None
        await run(select(Region.code).where(Region.code == "99.03"), {})  # flushed, then seen
    async with hayu.state.db.sessionmaker() as check:
        assert await check.scalar(select(func.count()).where(Region.code == "99.03")) == 1
        await check.execute(delete(Region).where(Region.code == "99.03"))
        await check.commit()


async def test_a_lookup_after_a_write_sees_it_on_the_same_connection(hayu: Any) -> None:
    from hayu.models import Region

    async with hayu.state.db.sessionmaker.begin() as session:
        with transactions_begun() as begun:
            alone = await read_alone(session, select(func.count()).select_from(Region), {})
        assert begun == []  # nothing done yet: autocommit, no BEGIN
        before = alone[0][0]
        taken = _checkouts(hayu)
        await session.execute(insert(Region).values(code="99.04", name="Belum", level="province"))
        rows = await read_alone(session, select(func.count()).select_from(Region), {})
        assert rows[0][0] == before + 1  # its own uncommitted row is seen
        assert len(taken) == 1  # the session's connection, not a second one
        await session.rollback()
