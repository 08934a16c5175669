"""What every volume seeder uses: the seeding context (one connection, COPY timed per step), the
shared password hash, the account rows of a login group and the deterministic identifiers.

`bench.seed` drives the seeders; the per-service seeders (`bench.seed_erk`, ...) import only this
module, so neither imports the other at module level.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import asyncpg  # type: ignore[import-untyped]

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


SUPERVISOR_BASE = 20_000
"""`erk_nip(SUPERVISOR_BASE + j)` is e-RK supervisor j (beyond every employee index)."""


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
