"""`bench.waits`, the sampler of what a benchmark's database sessions wait on."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from bench.waits import HEAD, Sample, head_of, sample, summarise
from shared.testing import PG_URL


def test_sessions_are_counted_by_wait_and_statement_head() -> None:
    insert = "INSERT INTO hayu.applications\n   (id, kind) VALUES ($1, $2)"
    rounds = [
        [Sample("Lock", "transactionid", insert), Sample(None, None, "COMMIT")],
        [Sample("Lock", "transactionid", insert), Sample("IO", "WALSync", insert)],
        [],
        [Sample("LWLock", "WALWrite", 'INSERT INTO "bench_ref".payments (reference)')],
    ]
    summary = summarise(rounds)
    assert summary.samples == 4
    assert summary.sessions == 5
    head = "INSERT INTO hayu.applications (id, kind) VALUES ($1, $2)"[:HEAD]
    assert summary.counts[("Lock:transactionid", head)] == 2
    assert summary.counts[("IO:WALSync", head)] == 1
    assert summary.counts[("CPU", "COMMIT")] == 1
    lines = summary.lines()
    assert lines[0] == "# 4 samples, 5 active sessions seen, mean 1.25"
    assert lines[3] == f"| 2 | 40% | Lock:transactionid | `{head}` |"
    only_hayu = summarise(rounds, match="hayu.")
    assert only_hayu.samples == 4
    assert only_hayu.sessions == 3
    assert head_of("SELECT  1\n\tFROM x") == "SELECT 1 FROM x"


async def test_a_session_waiting_on_a_row_lock_is_seen_waiting_on_it(backend: str) -> None:
    if backend != "postgres":
        pytest.skip("samples PostgreSQL's pg_stat_activity")
    import asyncpg

    url = PG_URL
    table = f"waits_probe_{uuid.uuid4().hex[:8]}"
    holder = await asyncpg.connect(url)
    waiter = await asyncpg.connect(url)
    try:
        await holder.execute(f"CREATE TABLE {table} (id int PRIMARY KEY, n int)")
        await holder.execute(f"INSERT INTO {table} VALUES (1, 0)")
        holding = holder.transaction()
        await holding.start()
        await holder.execute(f"UPDATE {table} SET n = n + 1 WHERE id = 1")
        blocked = asyncio.create_task(waiter.execute(f"UPDATE {table} SET n = n + 10 WHERE id = 1"))
        await asyncio.sleep(0.1)
        rounds = await sample(url, seconds=0.3, interval=0.02)
        assert not blocked.done()  # still waiting: what was sampled is the wait
        await holding.rollback()
        await blocked
        summary = summarise(rounds, match=table)
        waits = {wait for wait, _ in summary.counts}
        assert waits == {"Lock:transactionid"}
        assert summary.sessions >= summary.samples - 1 >= 5
    finally:
        await holder.execute(f"DROP TABLE IF EXISTS {table}")
        await holder.close()
        await waiter.close()
