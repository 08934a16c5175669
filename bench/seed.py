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

import datetime as dt
import json
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import asyncpg  # type: ignore[import-untyped]

from bench.database import connect

BENCH_PASSWORD = "bench-password-2026"
"""The password of every seeded account (bench database only)."""


def bench_data_key(service: str) -> str:
    """The data key (`<SERVICE>_DATA_KEY`) the benchmark gives a service: the seeders encrypt
    NIKs, phones and bank accounts with it so that the server can read them."""
    import base64
    import uuid

    return base64.urlsafe_b64encode(
        uuid.uuid5(uuid.NAMESPACE_DNS, service + "-data").bytes * 2
    ).decode()


@dataclass(frozen=True)
class LoginGroup:
    """Accounts of one role the load scenarios log in as: `bench-<name>-00001`, ...

    `count` is the number at scale 1.0; a per-service seeder that needs the accounts to be
    something else (e-RK usernames are NIPs) gives `username` instead and uses the same function
    for its own rows.
    """

    service: str
    name: str
    roles: tuple[str, ...]
    count: int
    unit: str | None = None
    username: Callable[[int], str] | None = None

    @property
    def key(self) -> str:
        return f"{self.service}.{self.name}"

    def username_of(self, index: int) -> str:
        if self.username is not None:
            return self.username(index)
        return f"bench-{self.name}-{index + 1:05d}"

    def size(self, scale: float) -> int:
        return max(1, round(self.count * scale))


def erk_nip(index: int) -> str:
    """A well-formed, deterministic 18-digit NIP for seeded employee `index`.

    Birth date (YYYYMMDD), appointment (YYYYMM), sex (1/2), sequence (3 digits); unique for
    index < 10,000,000 (the birth date changes every 1,000 indexes, the sequence within them).
    """
    block, sequence = divmod(index, 1000)
    birth = dt.date(1965, 1, 1) + dt.timedelta(days=block)
    appointed = f"{birth.year + 25}{1 + block % 12:02d}"
    return f"{birth:%Y%m%d}{appointed}{1 + block % 2}{sequence:03d}"


def erk_supervisor_nip(index: int) -> str:
    from bench.seed_erk import SUPERVISOR_BASE

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


@dataclass
class StepTiming:
    step: str
    rows: int
    seconds: float


@dataclass
class SeedReport:
    service: str
    scale: float
    steps: list[StepTiming] = field(default_factory=list)
    seconds: float = 0.0
    status: str = "ok"
    detail: str = ""

    @property
    def rows(self) -> int:
        return sum(s.rows for s in self.steps)

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "rows": self.rows}


@dataclass
class SeedContext:
    """What a seeder gets: one connection, the schema, the scale and the shared password hash."""

    conn: asyncpg.Connection
    schema: str
    scale: float
    password_hash: str
    report: SeedReport

    def volume(self, full: int) -> int:
        """`full` rows at scale 1.0, scaled (at least 1)."""
        return max(1, round(full * self.scale))

    async def copy(
        self,
        table: str,
        columns: Sequence[str],
        records: Iterable[Sequence[Any]],
        *,
        step: str | None = None,
    ) -> int:
        """COPY `records` into `<schema>.<table>`, timed as one step; returns the row count."""
        rows = list(records)
        started = time.perf_counter()
        await self.conn.copy_records_to_table(
            table, schema_name=self.schema, columns=list(columns), records=rows
        )
        self.report.steps.append(
            StepTiming(step or table, len(rows), time.perf_counter() - started)
        )
        return len(rows)

    async def timed_sql(self, step: str, sql: str, *args: Any) -> None:
        started = time.perf_counter()
        status = await self.conn.execute(sql, *args)
        rows = int(status.rsplit(" ", 1)[-1]) if status.split(" ", 1)[0] == "INSERT" else 0
        self.report.steps.append(StepTiming(step, rows, time.perf_counter() - started))


def shared_password_hash() -> str:
    """ONE argon2id hash of `BENCH_PASSWORD`, with the services' own parameters."""
    from shared.auth import hash_password

    return hash_password(BENCH_PASSWORD)


ACCOUNT_COLUMNS = (
    "username",
    "password_hash",
    "full_name",
    "roles",
    "unit",
    "active",
    "must_change_password",
    "failed_logins",
    "locked_until",
    "created_at",
)


async def seed_accounts(ctx: SeedContext, group: LoginGroup) -> int:
    """The accounts of one login group, all with the shared password hash."""
    now = dt.datetime.now(dt.UTC)
    roles = json.dumps(sorted(group.roles))
    records = (
        (
            group.username_of(i),
            ctx.password_hash,
            f"Bench {group.name} {i + 1}",
            roles,
            group.unit,
            True,
            False,
            0,
            None,
            now,
        )
        for i in range(group.size(ctx.scale))
    )
    return await ctx.copy("accounts", ACCOUNT_COLUMNS, records, step=f"accounts:{group.name}")


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
