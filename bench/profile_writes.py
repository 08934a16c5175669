"""One service's write path in-process: Python CPU per request, and where it goes.

    python -m bench.profile_writes --service erk [--requests 500] [--rounds 3] [--profile]

Builds the service's app as `uvicorn <service>.main:app` does, on the benchmark database as
`python -m bench seed --service <service>` left it (seed first; nothing is dropped or seeded
here), signs in as `ACCOUNTS` accounts of the write scenario's login group, and sends the
scenario's own request bodies (`bench/scenarios.py`: `erk.activity_submit`, `hayu.self_report`,
`sabilulungan.proposal_submit`), each with a new Idempotency-Key, straight through ASGI, one at a
time on one event loop (no network, no k6, no other request beside it):

- `--rounds` rounds of `--requests` requests, each timed by this thread's CPU and by the wall
  clock (CPU µs per request is the Python side of one write, PostgreSQL's work not included;
  the wall clock includes waiting for PostgreSQL);
- with `--profile`, one more round under cProfile, printed as `bench.profile_layers` prints its
  breakdown: the ASGI layers, the named steps inside the route and the Python calls per request
  (deterministic: the figure to compare between two commits on any machine).

Run it from the tree to measure (`PYTHONPATH=<tree>:<tree>/services/<service>`) to compare two
commits on one machine, alternating. e-RK's entries are one minute each on this month's open
days (the scenario's pool), under the daily cap for a few thousand requests per account.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import importlib
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path

from bench import database, scenarios, seed
from bench.profile_layers import (
    Request,
    _quiet_logs,
    breakdown,
    call,
    emit,
    print_breakdown,
    scenario_request,
    send_all,
    sign_in,
)
from bench.spec import SqlPool

WRITES = {
    "erk": "erk.activity_submit",
    "hayu": "hayu.self_report",
    "sabilulungan": "sabilulungan.proposal_submit",
}
ACCOUNTS = 40
FIRST_ACCOUNT = 1000
"""Accounts `FIRST_ACCOUNT` … of the login group: apart from the low numbers a bench run's
virtual users take."""


def write_request(
    service: str, token: str, i: int, run_id: str, pools: Mapping[str, Sequence[str]]
) -> Request:
    """The `i`-th request of the service's write scenario, as the k6 script would send it."""
    return scenario_request(
        WRITES[service], token, i, run_id, level="w", users=ACCOUNTS, pools=pools
    )


ACCEPTED = (200, 201)


def _refuse_refusals(statuses: Mapping[int, int]) -> None:
    """Figures of refused writes (a daily cap reached, a throttle) would measure refusals."""
    refused = {status: n for status, n in statuses.items() if status not in ACCEPTED}
    if refused:
        raise SystemExit(f"writes were refused ({refused}): the figures would not be of writes")


async def _pools(db: str, service: str) -> dict[str, list[str]]:
    import asyncpg  # type: ignore[import-untyped]

    scenario = scenarios.BY_NAME[WRITES[service]]
    found: dict[str, list[str]] = {}
    conn = await asyncpg.connect(db.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        for name, pool in scenario.pools.items():
            if isinstance(pool, SqlPool):
                rows = await conn.fetch(f"SELECT * FROM ({pool.sql}) AS p LIMIT {pool.limit}")
                found[name] = [str(r[0]) for r in rows]
    finally:
        await conn.close()
    return found


async def main_async(args: argparse.Namespace) -> int:
    from bench.runner import service_env

    service = args.service
    with tempfile.TemporaryDirectory(prefix="bench-writes-") as tmp:
        env = service_env(service, args.db, Path(tmp))
        env[service.upper() + "_BACKGROUND_TASKS"] = "false"
        os.environ.update(env)
        app = importlib.import_module(f"{service}.main").create_app()
        _quiet_logs()
        pools = await _pools(args.db, service)
        group = seed.LOGIN_GROUPS[scenarios.BY_NAME[WRITES[service]].auth or ""]
        async with app.router.lifespan_context(app):
            tokens = [
                await sign_in(app, group.username_of(FIRST_ACCOUNT + i), " (seed first)")
                for i in range(ACCOUNTS)
            ]
            run_id = uuid.uuid4().hex[:8]
            n = args.requests
            total = 50 + n * (args.rounds + (1 if args.profile else 0))
            requests = [
                write_request(service, tokens[i % ACCOUNTS], i, run_id, pools) for i in range(total)
            ]
            for req in requests[:50]:  # warm: compiled statements, prepared statements
                status, body = await call(app, req)
                if status not in ACCEPTED:
                    raise SystemExit(f"the write answered {status}: {body[:300]!r}")
            emit(
                f"# {WRITES[service]}, in-process, {n} requests a round, load average "
                f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}"
            )
            walls: list[float] = []
            for round_number in range(args.rounds):
                batch = requests[50 + round_number * n : 50 + (round_number + 1) * n]
                started, cpu = time.perf_counter(), time.thread_time()
                statuses = await send_all(app, batch)
                cpu_us = 1e6 * (time.thread_time() - cpu) / n
                _refuse_refusals(statuses)
                wall_us = 1e6 * (time.perf_counter() - started) / n
                walls.append(wall_us)
                emit(
                    f"round {round_number + 1}: CPU {cpu_us:.0f} µs/request, wall "
                    f"{wall_us:.0f} µs/request, statuses {statuses}"
                )
            if args.profile:
                batch = requests[50 + args.rounds * n :]
                profile = cProfile.Profile(time.thread_time_ns, 1e-9)
                profile.enable()
                statuses = await send_all(app, batch)
                profile.disable()
                _refuse_refusals(statuses)
                result = breakdown(WRITES[service], app, profile, n, statuses)
                # "unprofiled": the timed rounds' median wall clock per request
                result.unprofiled_us = statistics.median(walls) if walls else 0.0
                print_breakdown(result)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.profile_writes",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--service", choices=sorted(WRITES), required=True)
    parser.add_argument("--db", default=database.DEFAULT_URL)
    parser.add_argument("--requests", type=int, default=500, help="per round")
    parser.add_argument("--rounds", type=int, default=3, help="timed rounds, no profiler")
    parser.add_argument("--profile", action="store_true", help="one more round under cProfile")
    args = parser.parse_args(argv)
    try:
        database.check_url(args.db)
    except ValueError as exc:
        raise SystemExit(f"bench: {exc}") from None
    return asyncio.run(main_async(args))


if __name__ == "__main__":
    sys.exit(main())
