"""Volume seeders: fill a service's schema fast with COPY, never through the API row by row.

    python -m bench seed --service erk [--scale 1.0] [--db postgresql://postgres@127.0.0.1:5432/bench]

The schema is migrated first (`python -m <service> migrate`, run by the caller); each seeder then
bulk-loads with asyncpg's `copy_records_to_table` and every step is timed. The generic part is done
here: accounts for every login group, all sharing ONE argon2id hash computed once (hashing 100,000
passwords would take longer than everything else). HAYU's and Sabilulungan's tables are loaded by
`bench.seed_erk`, `bench.seed_hayu` and `bench.seed_sabilulungan`. Each states its target volume
from issue 6.

Seeded rows carry no audit events: the benchmark measures requests, not the history of the seed.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

import asyncpg  # type: ignore[import-untyped]

from bench.database import connect
from bench.seeding import (
    ACCOUNT_COLUMNS,
    BENCH_PASSWORD,
    SUPERVISOR_BASE,
    LoginGroup,
    SeedContext,
    SeedReport,
    StepTiming,
    bench_data_key,
    erk_nip,
    seed_accounts,
    shared_password_hash,
)

__all__ = [
    "ACCOUNT_COLUMNS",
    "BENCH_PASSWORD",
    "LOGIN_GROUPS",
    "LoginGroup",
    "SeedContext",
    "SeedReport",
    "StepTiming",
    "bench_data_key",
    "erk_nip",
    "seed_accounts",
    "seed_service",
    "shared_password_hash",
]


def erk_supervisor_nip(index: int) -> str:
    return erk_nip(SUPERVISOR_BASE + index)


LOGIN_GROUPS: dict[str, LoginGroup] = {
    g.key: g
    for g in (
        LoginGroup("erk", "employee", ("employee",), 20_000, username=erk_nip),
        LoginGroup("erk", "supervisor", ("employee",), 2_000, username=erk_supervisor_nip),
        LoginGroup("erk", "hr", ("hr_admin",), 2),
        LoginGroup("hayu", "owner", ("business_owner",), 100_000),
        LoginGroup("hayu", "officer", ("officer",), 20),
        LoginGroup("sabilulungan", "applicant", ("applicant",), 20_000),
        LoginGroup("sabilulungan", "clerk", ("clerk",), 20),
    )
}


# --- Per-service table seeders ------------------------------------------------------------------
#
# Each one receives the context after the accounts of its login groups exist, and loads its tables
# with `ctx.copy(table, columns, records)` (generators of tuples; keep ids deterministic so the
# scenarios' SqlPool queries find them). Target volumes at scale 1.0 are the constants below.

ERK_EMPLOYEES = 20_000
ERK_SUPERVISORS = 2_000  # ten employees each
ERK_ACTIVITIES = 2_200_000  # one month: ~20 working days x ~5.5 activities per employee
HAYU_BUSINESSES = 100_000  # with one application each, spread over every workflow stage
SABILULUNGAN_PROPOSALS = 20_000  # with their stage history
LIST_FLOOR = 20_100
"""Rows a public list needs at any scale so that page 1,000 of 20 exists (with a next page)."""


class SeederNotImplementedError(NotImplementedError):
    """A per-service seeder that is still a TODO; the runner reports it and goes on."""


async def seed_erk(ctx: SeedContext) -> None:
    """Units, `ctx.volume(ERK_EMPLOYEES)` employees under `ctx.volume(ERK_SUPERVISORS)` supervisors
    (the `erk.employee` and `erk.supervisor` accounts), `ctx.volume(ERK_ACTIVITIES)` activities and
    the attendance of `BENCH_PERIOD`, and this month's verification queue (see `bench.seed_erk`)."""
    from bench.seed_erk import seed_erk as seed

    volume = ctx.volume
    await seed(ctx, volume(ERK_EMPLOYEES), volume(ERK_SUPERVISORS), volume(ERK_ACTIVITIES))


async def seed_hayu(ctx: SeedContext) -> None:
    """`ctx.volume(HAYU_BUSINESSES)` businesses (at least `LIST_FLOOR`) owned by the `hayu.owner`
    accounts, one application each across all workflow stages (see `bench.seed_hayu`)."""
    from bench.seed_hayu import seed_hayu as seed

    await seed(ctx, max(ctx.volume(HAYU_BUSINESSES), LIST_FLOOR))


async def seed_sabilulungan(ctx: SeedContext) -> None:
    """`ctx.volume(SABILULUNGAN_PROPOSALS)` proposals (at least `LIST_FLOOR`) of
    `BENCH_FISCAL_YEAR` by the `sabilulungan.applicant` accounts, across all stages, with their
    history and the year's budgets (see `bench.seed_sabilulungan`)."""
    from bench.scenarios import BENCH_FISCAL_YEAR
    from bench.seed_sabilulungan import seed_sabilulungan as seed

    await seed(ctx, max(ctx.volume(SABILULUNGAN_PROPOSALS), LIST_FLOOR), BENCH_FISCAL_YEAR)


async def grow_erk_activities(ctx: SeedContext, total: int) -> None:
    """Bring the benchmark month's activities to `total` rows (see `bench.seed_erk`), for the
    recap growth measurement at 0.5, 1 and 2.2 million activities."""
    from bench.seed_erk import grow_erk_activities as grow_to

    await grow_to(ctx, total)


GROWERS: dict[str, Callable[[SeedContext, int], Awaitable[None]]] = {
    "erk.activities": grow_erk_activities,
}


async def grow(url: str, service: str, grower: str, total: int) -> SeedReport:
    """Run one grower (timed, then ANALYZE); `status` is "todo" while the grower is a TODO."""
    report = SeedReport(service=service, scale=1.0)
    started = time.perf_counter()
    conn = await connect(url)
    try:
        ctx = SeedContext(conn=conn, schema=service, scale=1.0, password_hash="", report=report)
        try:
            async with conn.transaction():
                await GROWERS[grower](ctx, total)
            tables = await conn.fetch(
                "SELECT tablename FROM pg_tables WHERE schemaname = $1", service
            )
            for row in tables:
                await conn.execute(f'ANALYZE "{service}"."{row[0]}"')
        except SeederNotImplementedError as exc:
            report.status, report.detail = "todo", f"not implemented yet: {exc}"
        except (asyncpg.PostgresError, OSError) as exc:
            report.status, report.detail = "failed", f"{type(exc).__name__}: {exc}"
    finally:
        await conn.close()
    report.seconds = time.perf_counter() - started
    return report


SERVICE_SEEDERS: dict[str, Callable[[SeedContext], Awaitable[None]]] = {
    "erk": seed_erk,
    "hayu": seed_hayu,
    "sabilulungan": seed_sabilulungan,
}


async def seed_service(
    url: str, service: str, *, scale: float, password_hash: str | None = None
) -> SeedReport:
    """Seed one migrated service schema; never raises for a TODO seeder (see `status`)."""
    report = SeedReport(service=service, scale=scale)
    started = time.perf_counter()
    conn = await connect(url)
    try:
        ctx = SeedContext(
            conn=conn,
            schema=service,
            scale=scale,
            password_hash=password_hash or shared_password_hash(),
            report=report,
        )
        async with conn.transaction():
            for group in LOGIN_GROUPS.values():
                if group.service == service:
                    await seed_accounts(ctx, group)
        try:
            async with conn.transaction():
                await SERVICE_SEEDERS[service](ctx)
        except SeederNotImplementedError as exc:
            report.status = "todo"
            report.detail = f"not implemented yet: {exc}"
        except RuntimeError as exc:  # a seeder's own consistency check
            report.status, report.detail = "failed", f"{type(exc).__name__}: {exc}"
        analyze_started = time.perf_counter()
        tables = await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = $1", service)
        for row in tables:
            await conn.execute(f'ANALYZE "{service}"."{row[0]}"')
        report.steps.append(StepTiming("analyze", 0, time.perf_counter() - analyze_started))
    except (asyncpg.PostgresError, OSError) as exc:
        report.status = "failed"
        report.detail = f"{type(exc).__name__}: {exc}"
    finally:
        await conn.close()
    report.seconds = time.perf_counter() - started
    return report
