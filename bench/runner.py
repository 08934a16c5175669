"""One benchmark run: references, services, footprint, embedded mode; then the report.

Order matters on a small machine: pgbench runs with nothing else up, then each server runs alone
(the reference app, then each service), so no two systems under test compete for the two cores.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import platform
import re
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench import database, pgbench, profiling, seed, servers
from bench.k6 import Level, LoadResult, k6_binary, k6_script, run_level
from bench.scenarios import REFERENCE_ROWS, SERVICES
from bench.spec import (
    CursorPool,
    Growth,
    ListPool,
    RenderContext,
    Scenario,
    SqlPool,
    render,
    render_path,
    route_template,
    split_login_item,
)

REPO = Path(__file__).resolve().parents[1]
ERK_REGENCY = Path(__file__).resolve().parent / "erk-regency.toml"
"""e-RK's regency file in the benchmark: a TPP rule with class bases and leave types that are
credited or cut, so that the recap of the seeded month applies every rule (see the file)."""
RESULTS = Path(__file__).resolve().parent / "results"
MAX_LOGINS = 64
"""Accounts logged in per login group: one per virtual user up to this; beyond, VUs share tokens."""
QUICK_LOGINS = 8


@dataclass
class Options:
    db: str
    scenarios: list[Scenario]
    growth: list[Growth]
    quick: bool
    vus: list[int]
    duration_s: float
    warmup_s: float
    overload_vus: int
    overload_duration_s: float
    overload_timeout_s: float
    pgbench_clients: int
    pgbench_threads: int
    pgbench_duration_s: int
    scale: float
    fresh: bool
    footprint_services: list[str]
    embedded: bool
    settle_s: float
    ready_runs: int
    profile_vus: int
    out: Path
    command: str


@dataclass
class ScenarioOutcome:
    scenario: Scenario
    status: str = "pending"  # ok | not available yet | skipped | failed
    reason: str = ""
    levels: list[LoadResult] = field(default_factory=list)
    overload: LoadResult | None = None

    def as_dict(self) -> dict[str, Any]:
        s = self.scenario
        return {
            "name": s.name,
            "service": s.service,
            "kind": s.kind,
            "title": s.title,
            "method": s.method,
            "path": s.path,
            "baseline": s.baseline,
            "latency_baseline": s.latency_baseline,
            "target": s.target,
            "todo": s.todo,
            "min_ratio": s.min_ratio,
            "status": self.status,
            "reason": self.reason,
            "levels": [r.as_dict() for r in self.levels],
            "overload": self.overload.as_dict() if self.overload else None,
        }


@dataclass
class Footprint:
    name: str
    status: str = "ok"
    detail: str = ""
    ready_s: float | None = None
    ready_runs_s: list[float] = field(default_factory=list)
    rss_idle_mb: float | None = None
    rss_load_peak_mb: float | None = None
    rss_after_load_mb: float | None = None
    command: str = ""

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def log(message: str) -> None:
    stamp = dt.datetime.now(dt.UTC).strftime("%H:%M:%S")
    print(f"[bench {stamp}] {message}", flush=True)  # noqa: T201


# --- environment of the processes under test ------------------------------------------------------


def service_env(service: str, db_url: str, workdir: Path) -> dict[str, str]:
    """Environment for `python -m <service> ...` and `uvicorn <service>.main:app`."""
    import base64

    prefix = service.upper() + "_"
    env = {k: v for k, v in os.environ.items() if not k.startswith(prefix)}
    env.update(
        {
            prefix + "DATABASE_URL": db_url,
            prefix + "ENVIRONMENT": "development",
            prefix + "SECRET_KEY": "bench-" + uuid.uuid5(uuid.NAMESPACE_URL, service).hex,
            prefix + "DATA_KEY": seed.bench_data_key(service),
            prefix + "SIGNING_SEED": base64.urlsafe_b64encode(
                uuid.uuid5(uuid.NAMESPACE_DNS, service + "-seed").bytes * 2
            ).decode(),
            prefix + "UPLOAD_DIR": str(workdir / "uploads" / service),
            prefix + "ACCESS_TOKEN_MINUTES": str(24 * 60),
        }
    )
    if service == "erk":
        env[prefix + "REGENCY_CONFIG"] = str(ERK_REGENCY)
    return env


def reference_env(db_url: str) -> dict[str, str]:
    """The reference app gets the services' default pool, so both sides have the same one."""
    from shared.settings import ServiceSettings

    fields = ServiceSettings.model_fields
    return {
        **os.environ,
        "BENCH_REF_DATABASE_URL": db_url,
        "BENCH_REF_POOL_SIZE": str(fields["db_pool_size"].default),
        "BENCH_REF_MAX_OVERFLOW": str(fields["db_max_overflow"].default),
        "BENCH_REF_POOL_TIMEOUT": str(fields["db_pool_timeout"].default),
    }


def uvicorn_argv(app: str) -> list[str]:
    """uvicorn on one worker; `{port}` is filled in when the server starts."""
    return [
        sys.executable,
        "-m",
        "uvicorn",
        app,
        "--host",
        "127.0.0.1",
        "--port",
        "{port}",
        "--workers",
        "1",
        "--no-access-log",
        "--log-level",
        "warning",
    ]


def migrate(service: str, env: Mapping[str, str], log_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", service, "migrate"],
        env=dict(env),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    log_path.write_text(proc.stdout + proc.stderr)
    if proc.returncode != 0:
        raise RuntimeError(f"migrate failed ({proc.returncode}): {(proc.stderr or '')[-800:]}")


# --- scenario preparation: route, logins, pools, preflight ----------------------------------------


def _route_regex(template: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[^}]+\})", template)
    return re.compile(
        "^" + "".join("[^/]+" if p.startswith("{") else re.escape(p) for p in parts) + "$"
    )


def route_in_openapi(openapi: Mapping[str, Any], method: str, path: str) -> bool:
    concrete = route_template(path)
    for template, item in openapi.get("paths", {}).items():
        if method.lower() in item and _route_regex(template).match(concrete):
            return True
    return False


async def login_all(base_url: str, group: seed.LoginGroup, count: int) -> list[dict[str, str]]:
    """Bearer tokens for the first `count` accounts of a group (argon2 is slow: 4 at a time)."""
    semaphore = asyncio.Semaphore(4)
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:

        async def one(index: int) -> dict[str, str]:
            username = group.username_of(index)
            async with semaphore:
                response = await client.post(
                    "/api/v1/auth/token",
                    data={"username": username, "password": seed.BENCH_PASSWORD},
                )
            if response.status_code != 200:
                raise RuntimeError(
                    f"login of {username} answered {response.status_code}: {response.text[:200]}"
                )
            return {"username": username, "token": response.json()["access_token"]}

        return list(await asyncio.gather(*(one(i) for i in range(count))))


async def walk_cursor(
    base_url: str, pool: CursorPool, headers: Mapping[str, str] | None = None
) -> str:
    """The cursor after (page - 1) * page_size items, walking the list in the largest pages
    (with the scenario's login in `headers` when the list needs one)."""
    remaining = (pool.page - 1) * pool.page_size
    cursor: str | None = None
    async with httpx.AsyncClient(base_url=base_url, timeout=30, headers=headers) as client:
        while remaining > 0:
            limit = min(pool.max_limit, remaining)
            params: dict[str, Any] = {**pool.params, "limit": limit}
            if cursor:
                params["cursor"] = cursor
            response = await client.get(pool.path, params=params)
            if response.status_code != 200:
                raise RuntimeError(f"walking {pool.path} answered {response.status_code}")
            body = response.json()
            items = body.get(pool.items_key) or []
            cursor = body.get(pool.next_key)
            remaining -= len(items)
            if remaining > 0 and (not cursor or not items):
                seen = (pool.page - 1) * pool.page_size - remaining
                raise LookupError(
                    f"{pool.path} has only {seen} items; page {pool.page} needs more than "
                    f"{(pool.page - 1) * pool.page_size}"
                )
    if cursor is None:
        raise LookupError(f"{pool.path}: no cursor for page {pool.page}")
    return cursor


async def build_pools(
    db_url: str,
    base_url: str,
    scenario: Scenario,
    logins: Sequence[Mapping[str, str]] = (),
) -> dict[str, list[str]]:
    headers = {"Authorization": f"Bearer {logins[0]['token']}"} if logins else None
    pools: dict[str, list[str]] = {}
    for name, source in scenario.pools.items():
        if isinstance(source, SqlPool):
            try:
                values = await database.fetch_column(db_url, source.sql, source.limit)
            except Exception as exc:  # an undefined table or column while the schema settles
                raise LookupError(f"pool {name}: {type(exc).__name__}: {exc}") from None
        elif isinstance(source, CursorPool):
            values = [await walk_cursor(base_url, source, headers)]
        elif isinstance(source, ListPool):
            values = list(source.values)
        if name == scenario.login_from:
            # Only the work of the accounts this run logged in as.
            logged_in = {login["username"] for login in logins}
            values = [v for v in values if split_login_item(v)[0] in logged_in]
        if not values:
            raise LookupError(f"pool {name} is empty")
        pools[name] = values
    return pools


def preflight(
    base_url: str,
    scenario: Scenario,
    logins: Sequence[Mapping[str, str]],
    pools: Mapping[str, list[str]],
    run_id: str,
) -> tuple[int, str, int | None]:
    """One request as k6 would send it: (status, start of the body, number of `items` or None)."""
    login = logins[0] if logins else None
    batch: list[int] = []
    if scenario.login_from:
        user, batch = split_login_item(pools[scenario.login_from][0])
        login = next(item for item in logins if item["username"] == user)
    ctx = RenderContext(
        run_id=run_id,
        level="preflight",
        user=login["username"] if login else "",
        pools=pools,
        batch=batch,
    )
    headers = {str(k): str(v) for k, v in render(dict(scenario.headers), ctx).items()}
    if login:
        headers["Authorization"] = f"Bearer {login['token']}"
    if scenario.idempotency_key:
        headers["Idempotency-Key"] = f"bench-preflight-{uuid.uuid4()}"
    content = None
    if scenario.body is not None:
        content = json.dumps(render(scenario.body, ctx))
        headers["Content-Type"] = "application/json"
    response = httpx.request(
        scenario.method,
        base_url + render_path(scenario.path, ctx),
        headers=headers,
        content=content,
        timeout=30,
    )
    items: int | None = None
    try:
        body = response.json()
        if isinstance(body, dict) and isinstance(body.get("items"), list):
            items = len(body["items"])
    except ValueError:
        pass
    return response.status_code, response.text[:300], items


# --- running a server and its scenarios -----------------------------------------------------------


@dataclass
class ServerRun:
    name: str
    argv: list[str]
    env: dict[str, str]
    scenarios: list[Scenario]
    db_url: str
    seed_status: dict[str, seed.SeedReport] = field(default_factory=dict)
    ready_path: str = "/ready"


class Runner:
    def __init__(self, options: Options) -> None:
        self.o = options
        self.run_id = uuid.uuid4().hex[:8]
        # {uniq} = <tag>-<level>-<vu>-<iteration>, the tag unique per scenario and run.
        self.tags = {s.name: f"{self.run_id}{i:02d}" for i, s in enumerate(options.scenarios)}
        self.outcomes: dict[str, ScenarioOutcome] = {
            s.name: ScenarioOutcome(s) for s in options.scenarios
        }
        self.footprint: dict[str, Footprint] = {}
        self.seeding: dict[str, seed.SeedReport] = {}
        self.pgbench: dict[str, Any] = {}
        self.growth: dict[str, dict[str, Any]] = {
            g.name: {
                "service": g.service,
                "title": g.title,
                "path": g.path,
                "limit_s": g.limit_s,
                "todo": g.todo,
                "status": "pending",
                "reason": "",
                "points": [],
            }
            for g in options.growth
        }
        self.k6_dir = options.out / "k6"
        self.logs = options.out / "logs"
        self.profiles = options.out / "profiles"
        if options.profile_vus:
            self.profiles.mkdir(parents=True, exist_ok=True)
        self.k6_dir.mkdir(parents=True, exist_ok=True)
        self.logs.mkdir(parents=True, exist_ok=True)

    # -- levels

    def levels(self) -> list[Level]:
        return [Level(vus=v, duration_s=self.o.duration_s) for v in self.o.vus]

    def overload_level(self) -> Level:
        return Level(
            vus=self.o.overload_vus,
            duration_s=self.o.overload_duration_s,
            timeout_s=self.o.overload_timeout_s,
            slow_s=self.o.overload_timeout_s,
            label=f"overload{self.o.overload_vus}",
        )

    def load(
        self,
        server: servers.Server,
        scenario: Scenario,
        logins: list[dict[str, str]],
        pools: dict[str, list[str]],
    ) -> None:
        outcome = self.outcomes[scenario.name]
        script = self.k6_dir / f"{scenario.name}.js"
        script.write_text(k6_script(scenario))
        data_file = self.k6_dir / f"{scenario.name}.data.json"
        data_file.write_text(json.dumps({"logins": logins, "pools": pools}))
        used = 1  # {next:...} values handed out so far (the preflight took the first)
        once = set(re.findall(r"\{next:([^{}]*)\}", json.dumps([scenario.path, scenario.body])))
        if scenario.login_from:
            once.add(scenario.login_from)
        smallest = min((len(pools[name]) for name in once), default=0)

        def one(level: Level) -> LoadResult:
            nonlocal used
            profilers = []
            stem = f"{self.profiles / scenario.name}.c{level.vus}"
            if self.o.profile_vus and level.vus == self.o.profile_vus and not level.label:
                # Two samplers of the same process: the flame graph, and collapsed stacks for
                # the text summary (`*.top.txt`, bench.profiling).
                profilers = [
                    servers.profile(server.pid, Path(stem + suffix), duration_s=level.duration_s)
                    for suffix in (".svg", ".folded")
                ]
            with servers.RssSampler(server.pid) as sampler:
                result = run_level(
                    script,
                    data_file,
                    base_url=server.url,
                    scenario=scenario.name,
                    level=level,
                    run_id=self.tags[scenario.name],
                    workdir=self.k6_dir,
                    offset=used,
                )
            used += result.iterations + level.vus  # an interrupted iteration per VU at most
            result.rss_peak_mb = round(sampler.peak_mb, 1)
            for profiler in profilers:
                servers.finish_profile(profiler)
            folded = Path(stem + ".folded")
            if profilers and folded.exists():
                Path(stem + ".top.txt").write_text(profiling.summarize(folded))
            return result

        if self.o.warmup_s > 0:
            one(Level(vus=min(16, max(self.o.vus)), duration_s=self.o.warmup_s, label="warmup"))
        for level in self.levels():
            result = one(level)
            outcome.levels.append(result)
            log(
                f"  {scenario.name} @{level.vus}: {result.rps:.0f} req/s, p50 "
                f"{result.p50_ms:.1f} ms, p99 {result.p99_ms:.1f} ms, errors "
                f"{100 * result.error_rate:.1f} %"
            )
        if scenario.overload and self.o.overload_vus > 0:
            outcome.overload = one(self.overload_level())
            c = outcome.overload.counts
            log(
                f"  {scenario.name} overload @{self.o.overload_vus}: "
                f"{outcome.overload.rps:.0f} req/s, no answer in "
                f"{self.o.overload_timeout_s:g} s: {c['slow']}, 503: {c['status_503']}, "
                f"other errors: {c['errors_non_503']}"
            )
        outcome.status = "ok"
        if once and used > smallest:
            outcome.reason = f"pool exhausted: about {used} requests for {smallest} values (reused)"

    async def prepare(
        self,
        server: servers.Server,
        run: ServerRun,
        scenario: Scenario,
        openapi: Mapping[str, Any] | None,
        tokens: dict[str, list[dict[str, str]]],
    ) -> tuple[list[dict[str, str]], dict[str, list[str]]] | None:
        """Logins and pools for a scenario, or None with the outcome saying why it is skipped."""
        outcome = self.outcomes[scenario.name]
        # A scenario is tried even when its seeder is still a TODO (a write may need only the
        # seeded accounts); when it cannot run, the reason says which seed data is missing.
        missing = [
            f"{needed} seeder: {report.detail or report.status}"
            for needed in scenario.seed
            if (report := run.seed_status.get(needed)) is not None and report.status != "ok"
        ]

        def skip(status: str, reason: str) -> None:
            outcome.status = status
            outcome.reason = reason + (
                f" [seed data missing: {'; '.join(missing)}]" if missing else ""
            )

        if openapi is not None and not route_in_openapi(openapi, scenario.method, scenario.path):
            skip(
                "not available yet",
                f"{scenario.method} {route_template(scenario.path)} not in "
                "the service's OpenAPI yet",
            )
            return None
        logins: list[dict[str, str]] = []
        if scenario.auth:
            group = seed.LOGIN_GROUPS[scenario.auth]
            if scenario.auth not in tokens:
                cap = QUICK_LOGINS if self.o.quick else MAX_LOGINS
                count = min(cap, max([*self.o.vus, 1]), group.size(self.o.scale))
                try:
                    tokens[scenario.auth] = await login_all(server.url, group, count)
                except (RuntimeError, httpx.HTTPError) as exc:
                    skip("skipped", str(exc))
                    return None
            logins = tokens[scenario.auth]
        try:
            pools = await build_pools(run.db_url, server.url, scenario, logins)
        except (LookupError, RuntimeError, httpx.HTTPError) as exc:
            skip("skipped", str(exc))
            return None
        status, body, items = await asyncio.to_thread(
            preflight, server.url, scenario, logins, pools, self.tags[scenario.name]
        )
        if status in scenario.expect and (items or 0) < scenario.min_items:
            skip(
                "skipped",
                f"the preflight page holds {items or 0} items, fewer than {scenario.min_items}",
            )
            return None
        if status in scenario.expect:
            return logins, pools
        skip(
            "not available yet" if status in (404, 405) else "skipped",
            f"preflight answered {status}: {body}",
        )
        return None

    async def measure_growth(
        self,
        server: servers.Server,
        growth: Growth,
        openapi: Mapping[str, Any] | None,
        tokens: dict[str, list[dict[str, str]]],
    ) -> None:
        """Grow the data volume by volume and time the request at each (median of repeats)."""
        record = self.growth[growth.name]
        if openapi is not None and not route_in_openapi(openapi, growth.method, growth.path):
            record["status"] = "not available yet"
            record["reason"] = f"{growth.method} {route_template(growth.path)} not in OpenAPI yet"
            return
        headers: dict[str, str] = {}
        if growth.auth:
            group = seed.LOGIN_GROUPS[growth.auth]
            try:
                if growth.auth not in tokens:
                    tokens[growth.auth] = await login_all(server.url, group, 1)
            except (RuntimeError, httpx.HTTPError) as exc:
                record["status"], record["reason"] = "skipped", str(exc)
                return
            headers["Authorization"] = f"Bearer {tokens[growth.auth][0]['token']}"
        async with httpx.AsyncClient(base_url=server.url, timeout=300) as client:
            for full in growth.volumes:
                volume = max(1, round(full * self.o.scale))
                grown = await seed.grow(self.o.db, growth.service, growth.grower, volume)
                if grown.status != "ok":
                    record["status"], record["reason"] = "skipped", grown.detail
                    return
                times = []
                for _ in range(growth.repeats):
                    started = time.perf_counter()
                    response = await client.request(growth.method, growth.path, headers=headers)
                    times.append(time.perf_counter() - started)
                    if response.status_code not in growth.expect:
                        record["status"] = "skipped"
                        record["reason"] = f"answered {response.status_code}: {response.text[:300]}"
                        return
                point = {
                    "volume": volume,
                    "grow_s": round(grown.seconds, 3),
                    "median_s": round(statistics.median(times), 4),
                    "times_s": [round(t, 4) for t in times],
                }
                record["points"].append(point)
                log(f"  {growth.name} at {volume:,} rows: {point['median_s']:.3f} s")
        record["status"] = "ok"

    def serve(self, run: ServerRun, *, check_routes: bool) -> None:
        port = servers.free_port()
        argv = [a.replace("{port}", str(port)) for a in run.argv]
        fp = Footprint(run.name, command=shlex.join(argv[1:]))
        self.footprint[run.name] = fp
        try:
            # Start-up is timed several times (the median is reported); the last start stays up.
            for attempt in range(self.o.ready_runs):
                last = attempt == self.o.ready_runs - 1
                server = servers.start(
                    run.name,
                    argv,
                    port=port,
                    env=run.env,
                    log_path=self.logs / f"{run.name}.{'server' if last else attempt}.log",
                    ready_path=run.ready_path,
                    cwd=REPO,
                )
                fp.ready_runs_s.append(round(server.ready_s or 0.0, 3))
                if not last:
                    servers.stop(server)
        except servers.StartError as exc:
            fp.status, fp.detail = "failed", str(exc)[-800:]
            for s in run.scenarios:
                self.outcomes[s.name].status = "failed"
                self.outcomes[s.name].reason = f"{run.name} did not start"
            log(f"{run.name} did not start: {str(exc)[-300:]}")
            return
        try:
            fp.ready_s = statistics.median(fp.ready_runs_s)
            fp.rss_idle_mb = round(servers.idle_rss_mb(server, self.o.settle_s), 1)
            log(f"{run.name}: ready in {fp.ready_s:.2f} s, idle RSS {fp.rss_idle_mb} MB")
            openapi = None
            if check_routes:
                openapi = httpx.get(server.url + "/openapi.json", timeout=30).json()
            tokens: dict[str, list[dict[str, str]]] = {}
            peak = 0.0
            for scenario in run.scenarios:
                prepared = asyncio.run(self.prepare(server, run, scenario, openapi, tokens))
                outcome = self.outcomes[scenario.name]
                if prepared is None:
                    log(f"  {scenario.name}: {outcome.status} ({outcome.reason[:160]})")
                    continue
                try:
                    self.load(server, scenario, *prepared)
                except (RuntimeError, subprocess.TimeoutExpired) as exc:
                    outcome.status, outcome.reason = "failed", str(exc)[-800:]
                    log(f"  {scenario.name}: failed ({outcome.reason[:300]})")
                for result in [*outcome.levels, outcome.overload]:
                    if result is not None and result.rss_peak_mb is not None:
                        peak = max(peak, result.rss_peak_mb)
            for growth in self.o.growth:
                if growth.service == run.name:
                    asyncio.run(self.measure_growth(server, growth, openapi, tokens))
                    record = self.growth[growth.name]
                    if record["status"] != "ok":
                        log(f"  {growth.name}: {record['status']} ({record['reason'][:160]})")
            if peak:
                fp.rss_load_peak_mb = peak
                fp.rss_after_load_mb = round(servers.idle_rss_mb(server, self.o.settle_s), 1)
        finally:
            servers.stop(server)

    # -- the parts of a run

    def run_pgbench(self) -> None:
        log(
            f"pgbench: -c {self.o.pgbench_clients} -j {self.o.pgbench_threads} "
            f"-T {self.o.pgbench_duration_s}"
        )
        try:
            result = pgbench.run(
                self.o.db,
                self.o.out,
                clients=self.o.pgbench_clients,
                threads=self.o.pgbench_threads,
                duration_s=self.o.pgbench_duration_s,
            )
            self.pgbench = {"status": "ok", **result.as_dict()}
            log(f"pgbench: {result.tps:.0f} tps")
        except (RuntimeError, ValueError, subprocess.TimeoutExpired) as exc:
            self.pgbench = {"status": "failed", "detail": str(exc)[-800:]}
            log(f"pgbench failed: {exc}")

    def run_reference(self) -> None:
        scenarios = [s for s in self.o.scenarios if s.service == "reference"]
        run = ServerRun(
            name="reference",
            argv=uvicorn_argv("bench.reference_app:app"),
            env=reference_env(self.o.db),
            scenarios=scenarios,
            db_url=self.o.db,
        )
        self.serve(run, check_routes=False)

    def run_stack(self) -> None:
        """HAYU's app with the no-op route (`bench.stack_app`); no schema, no periodic tasks."""
        scenarios = [s for s in self.o.scenarios if s.service == "stack"]
        if not scenarios:
            return
        env = service_env("hayu", self.o.db, self.o.out)
        env["HAYU_BACKGROUND_TASKS"] = "false"
        run = ServerRun(
            name="stack",
            argv=uvicorn_argv("bench.stack_app:app"),
            env=env,
            scenarios=scenarios,
            db_url=self.o.db,
            ready_path="/health",
        )
        self.serve(run, check_routes=True)

    def run_service(self, service: str) -> None:
        scenarios = [s for s in self.o.scenarios if s.service == service]
        env = service_env(service, self.o.db, self.o.out)
        run = ServerRun(
            name=service,
            argv=uvicorn_argv(f"{service}.main:app"),
            env=env,
            scenarios=scenarios,
            db_url=self.o.db,
        )
        if self.o.fresh:
            try:
                asyncio.run(database.drop_schema(self.o.db, service))
                migrate(service, env, self.logs / f"{service}.migrate.log")
            except (RuntimeError, subprocess.TimeoutExpired) as exc:
                self.footprint[service] = Footprint(service, status="failed", detail=str(exc))
                for s in scenarios:
                    self.outcomes[s.name].status = "failed"
                    self.outcomes[s.name].reason = "migration failed"
                log(f"{service}: {exc}")
                return
            report = asyncio.run(
                seed.seed_service(
                    self.o.db, service, scale=self.o.scale, password_hash=self.password_hash
                )
            )
            self.seeding[service] = report
            run.seed_status[service] = report
            log(
                f"{service}: seeded {report.rows} rows in {report.seconds:.1f} s "
                f"({report.status}{': ' + report.detail if report.detail else ''})"
            )
        self.serve(run, check_routes=True)

    def run_embedded(self) -> None:
        port = servers.free_port()
        with tempfile.TemporaryDirectory(prefix="bench-embedded-") as data_dir:
            argv = [
                sys.executable,
                str(REPO / "deploy" / "embedded.py"),
                "--port",
                str(port),
                "--data-dir",
                data_dir,
                "--no-demo",
            ]
            prefixes = tuple(s.upper() + "_" for s in SERVICES)
            env = {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}
            fp = Footprint("embedded", command=shlex.join(argv[1:]))
            self.footprint["embedded"] = fp
            started = time.perf_counter()
            try:
                server = servers.start(
                    "embedded",
                    argv,
                    port=port,
                    env=env,
                    log_path=self.logs / "embedded.server.log",
                    ready_path="/health",
                    timeout_s=120,
                    cwd=REPO,
                )
            except servers.StartError as exc:
                fp.status, fp.detail = "failed", str(exc)[-800:]
                log(f"embedded did not start: {str(exc)[-300:]}")
                return
            try:
                with httpx.Client(timeout=5) as client:
                    for service in SERVICES:
                        while client.get(f"{server.url}/{service}/ready").status_code != 200:
                            if time.perf_counter() - started > 120:
                                raise servers.StartError(f"/{service}/ready never answered 200")
                            time.sleep(0.01)
                fp.ready_s = time.perf_counter() - started
                fp.rss_idle_mb = round(servers.idle_rss_mb(server, self.o.settle_s), 1)
                log(f"embedded: all three ready in {fp.ready_s:.2f} s, idle {fp.rss_idle_mb} MB")
            except (servers.StartError, httpx.TransportError) as exc:
                fp.status, fp.detail = "failed", str(exc)
            finally:
                servers.stop(server)

    def meta(self) -> dict[str, Any]:
        def out(argv: list[str]) -> str:
            try:
                return subprocess.run(
                    argv, capture_output=True, text=True, timeout=10, check=False, cwd=REPO
                ).stdout.strip()
            except (OSError, subprocess.TimeoutExpired):
                return ""

        return {
            "run_id": self.run_id,
            "command": self.o.command,
            "quick": self.o.quick,
            "database": re.sub(r"//[^@/]*@", "//", self.o.db),
            "postgres": asyncio.run(database.server_version(self.o.db)),
            "python": platform.python_version(),
            "k6": out([k6_binary(), "version"]).split(" (")[0],
            "host": platform.node(),
            "cpus": os.cpu_count(),
            "git": out(["git", "rev-parse", "--short", "HEAD"]),
            "git_dirty": bool(out(["git", "status", "--porcelain", "--untracked-files=no"])),
            "vus": self.o.vus,
            "duration_s": self.o.duration_s,
            "warmup_s": self.o.warmup_s,
            "overload": {
                "vus": self.o.overload_vus,
                "duration_s": self.o.overload_duration_s,
                "timeout_s": self.o.overload_timeout_s,
            },
            "scale": self.o.scale,
            "ready_runs": self.o.ready_runs,
            "profile_vus": self.o.profile_vus,
            "fresh": self.o.fresh,
        }

    def run(self) -> dict[str, Any]:
        started = dt.datetime.now(dt.UTC)
        load_before = os.getloadavg()
        meta = self.meta()
        services_wanted = sorted(
            {s.service for s in self.o.scenarios if s.service in SERVICES}
            | {g.service for g in self.o.growth if g.service in SERVICES}
            | set(self.o.footprint_services),
            key=SERVICES.index,
        )
        self.password_hash = seed.shared_password_hash()
        asyncio.run(database.prepare_reference(self.o.db, REFERENCE_ROWS, fresh=self.o.fresh))
        if self.o.pgbench_duration_s > 0:
            self.run_pgbench()
        self.run_reference()
        self.run_stack()
        for service in services_wanted:
            self.run_service(service)
        if self.o.embedded:
            self.run_embedded()
        meta.update(
            {
                "started": started.isoformat(timespec="seconds"),
                "finished": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                "loadavg_before": [round(x, 2) for x in load_before],
                "loadavg_after": [round(x, 2) for x in os.getloadavg()],
            }
        )
        return {
            "meta": meta,
            "pgbench": self.pgbench,
            "footprint": {k: v.as_dict() for k, v in self.footprint.items()},
            "seeding": {k: v.as_dict() for k, v in self.seeding.items()},
            "scenarios": {k: v.as_dict() for k, v in self.outcomes.items()},
            "growth": self.growth,
        }
