"""What a load scenario is: a declarative description the runner turns into a k6 script.

Strings in `path`, `headers` and `body` may hold generators, rendered anew for every request (by the
generated k6 script, and by `render` below for the preflight request, with the same rules):

    {uniq}          unique in the whole run: <run id>-<level>-<vu>-<iteration>
    {uuid}          a random UUID 4
    {vu} {iter}     the k6 virtual user (from 1) and its iteration (from 0)
    {int:A:B}       a random integer in [A, B]
    {pool:NAME}     a random value of the pool NAME (see `SqlPool`, `CursorPool`, `ListPool`)
    {next:NAME}     the next unused value of the pool NAME, across all virtual users and levels
                    (for things done once: verifying an activity); wraps when the pool runs out
    {user}          the username the virtual user logged in as
    {batch}         with `login_from`: the ids of the pool value this request took, as a JSON
                    array of integers
    {today}         today's date (UTC), ISO 8601
    {now}           the current time (UTC), ISO 8601

A string that is exactly one generator yielding a number becomes a JSON number (`"{int:1:9}"` → 7).
"""

from __future__ import annotations

import datetime as dt
import random
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

Kind = Literal["write", "lookup", "list", "probe"]
JSON = Any

GENERATOR = re.compile(r"\{([a-z_]+)(?::([^{}]*))?\}")
GENERATOR_NAMES = frozenset(
    {"uniq", "uuid", "vu", "iter", "int", "pool", "next", "user", "today", "now", "batch"}
)


@dataclass(frozen=True)
class SqlPool:
    """Values read from the bench database before the scenario runs (first column, ≤ `limit`)."""

    sql: str
    limit: int = 10_000


@dataclass(frozen=True)
class CursorPool:
    """The cursor that opens page `page` of a keyset list, found by walking the list beforehand.

    The walk uses pages of up to `max_limit` items, so page 1,000 of 20 costs about 200 requests.
    """

    path: str
    page: int
    params: Mapping[str, str] = field(default_factory=dict)
    page_size: int = 20
    max_limit: int = 100
    items_key: str = "items"
    next_key: str = "next_cursor"


@dataclass(frozen=True)
class ListPool:
    """Fixed values."""

    values: tuple[str, ...]


Pool = SqlPool | CursorPool | ListPool


@dataclass(frozen=True)
class Scenario:
    """One request shape, run at every concurrency level.

    `baseline` names the reference scenario its throughput is divided by (same concurrency level);
    `latency_baseline` names a scenario whose p50 latency it is compared with (page 1,000 vs 1).
    `auth` names a login group of `bench.seed.LOGIN_GROUPS`: each virtual user gets the bearer token
    of one of its accounts. `seed` names the seeders whose data the scenario needs; `todo` says what
    is still to be filled in (shown in the report while the scenario is not available). A list
    scenario with `min_items` runs only when the preflight page holds that many `items` (a list
    page over an empty table is not a figure worth reporting).

    `login_from` names a pool of `<username>|<id>,<id>,...` values: each request takes the next
    unused one (as `{next:...}` does), sends it with that login's bearer token, and `{batch}`
    yields its ids. For work that belongs to one account: a supervisor approves only their own
    team's entries.
    """

    name: str
    service: str
    kind: Kind
    method: str
    path: str
    title: str
    body: JSON = None
    headers: Mapping[str, str] = field(default_factory=dict)
    auth: str | None = None
    idempotency_key: bool = False
    expect: tuple[int, ...] = (200,)
    baseline: str | None = None
    latency_baseline: str | None = None
    pools: Mapping[str, Pool] = field(default_factory=dict)
    seed: tuple[str, ...] = ()
    overload: bool = False
    min_items: int = 0
    target: str = ""
    todo: str = ""
    login_from: str | None = None
    min_ratio: float | None = None
    """The throughput share of `baseline` the target asks for (the report's default: 1.0)."""

    def __post_init__(self) -> None:
        for text in _strings((self.path, dict(self.headers), self.body)):
            for match in GENERATOR.finditer(text):
                name, arg = match.group(1), match.group(2)
                if name not in GENERATOR_NAMES:
                    raise ValueError(f"{self.name}: unknown generator {{{name}}} in {text!r}")
                if name in ("pool", "next") and arg not in self.pools:
                    raise ValueError(f"{self.name}: pool {arg!r} is used but not declared")
                if name == "batch" and self.login_from is None:
                    raise ValueError(f"{self.name}: {{batch}} needs login_from")
        if self.login_from is not None and (self.login_from not in self.pools or not self.auth):
            raise ValueError(f"{self.name}: login_from needs its pool and an auth group")


@dataclass(frozen=True)
class Growth:
    """How one request's time grows with the data: at each volume the grower (a function of
    `bench.seed.GROWERS`) brings the data up to that many rows, then the request is timed
    `repeats` times, one at a time. Volumes are at scale 1.0 and scaled like the seeders'."""

    name: str
    service: str
    method: str
    path: str
    title: str
    grower: str
    volumes: tuple[int, ...]
    auth: str | None = None
    repeats: int = 3
    expect: tuple[int, ...] = (200,)
    limit_s: float | None = None
    todo: str = ""


def _strings(value: JSON) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, Mapping):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, Sequence):
        return [s for v in value for s in _strings(v)]
    return []


@dataclass
class RenderContext:
    """Per-request values, as the k6 script has them."""

    run_id: str
    level: str
    vu: int = 1
    iteration: int = 0
    user: str = ""
    offset: int = 0
    pools: Mapping[str, Sequence[str]] = field(default_factory=dict)
    rng: random.Random = field(default_factory=random.Random)
    batch: Sequence[int] = ()


def split_login_item(value: str) -> tuple[str, list[int]]:
    """`<username>|<id>,<id>` (a `login_from` pool value) as the username and the ids."""
    user, _, ids = value.partition("|")
    return user, [int(i) for i in ids.split(",") if i]


def _generate(name: str, arg: str | None, ctx: RenderContext) -> str | int | list[int]:
    if name == "uniq":
        return f"{ctx.run_id}-{ctx.level}-{ctx.vu}-{ctx.iteration}"
    if name == "uuid":
        return str(uuid.UUID(int=ctx.rng.getrandbits(128), version=4))
    if name == "vu":
        return ctx.vu
    if name == "iter":
        return ctx.iteration
    if name == "int":
        low, high = (int(x) for x in (arg or "0:1000000").split(":"))
        return ctx.rng.randint(low, high)
    if name == "pool":
        values = ctx.pools.get(arg or "")
        if not values:
            raise LookupError(f"pool {arg!r} is empty")
        return ctx.rng.choice(list(values))
    if name == "next":
        values = ctx.pools.get(arg or "")
        if not values:
            raise LookupError(f"pool {arg!r} is empty")
        return list(values)[(ctx.offset + ctx.iteration) % len(values)]
    if name == "user":
        return ctx.user
    if name == "batch":
        return list(ctx.batch)
    if name == "today":
        return dt.datetime.now(dt.UTC).date().isoformat()
    if name == "now":
        return dt.datetime.now(dt.UTC).isoformat()
    raise ValueError(f"unknown generator {name}")


def render(value: JSON, ctx: RenderContext) -> JSON:
    """Fill the generators of a template (path string, headers or JSON body)."""
    if isinstance(value, str):
        whole = GENERATOR.fullmatch(value)
        if whole:
            return _generate(whole.group(1), whole.group(2), ctx)
        return GENERATOR.sub(lambda m: str(_generate(m.group(1), m.group(2), ctx)), value)
    if isinstance(value, Mapping):
        return {k: render(v, ctx) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [render(v, ctx) for v in value]
    return value


def render_path(path: str, ctx: RenderContext) -> str:
    """A path template filled in, each generated value percent-encoded (as the k6 script does)."""
    from urllib.parse import quote

    return GENERATOR.sub(
        lambda m: quote(str(_generate(m.group(1), m.group(2), ctx)), safe="-_.!~*'()"), path
    )


def route_template(path: str) -> str:
    """The path without its query, with every generator replaced by `x` (to match OpenAPI)."""
    return GENERATOR.sub("x", path.split("?", 1)[0])
