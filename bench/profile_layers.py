"""Where one request's CPU goes, layer by layer, measured in-process (no network, no k6).

    python -m bench.profile_layers [--db URL] [--requests 2000] [--rounds 5] [--keep-data]

Builds HAYU's app as `uvicorn hayu.main:app` does, plus the no-op route of `bench.stack_app`, on
the benchmark database (`bench`; the schema is dropped, migrated and seeded at `--scale` unless
`--keep-data`), and sends it requests straight through ASGI, one at a time, on one event loop:

1. **Per-layer breakdown** under cProfile, `--requests` each of: the no-op through the full stack,
   HAYU's public tracking lookup (`GET /api/v1/public/track/{code}`) and HAYU's self-report
   (`POST /api/v1/applications`, a new Idempotency-Key and business each time, a business
   owner's bearer token). For every ASGI layer, outermost first (found by walking the app's
   middleware stack), and for the named steps inside the route (dependency resolution, body
   validation, token verification, the endpoint, the query, response serialisation, the access
   log, metrics), it prints the time per request (cProfile's cumulative time divided by the
   number of requests) and the entries per request (a coroutine is entered again each time it
   resumes after an await). The profiler's clock is this thread's CPU time, and cProfile counts
   a coroutine only while it runs: time waiting for PostgreSQL and time the cores spend on other
   processes are in no layer, so the figures are the CPU each layer costs, inflated by the
   profiler's own overhead (about the same per Python call everywhere). The Python calls per
   request are deterministic.
   Each profiled scenario is then timed again without the profiler (`unprofiled µs/request`,
   wall clock: this one does depend on the machine's load).
2. **Bare vs full stack no-op ratio**, without the profiler: `--rounds` rounds, each timing
   `--requests` no-ops through the bare reference app (`bench.reference_app`, `GET /noop`) and
   then through the full stack, alternating; the ratio is bare time ÷ stack time per request (the
   full stack's share of the bare app's throughput on one core), reported as the median and the
   range over the rounds, with the load average before and after, by the wall clock and by this
   thread's CPU time (the latter does not count time the cores gave to other processes: on a
   shared machine it is the figure to read).

Nothing here is an assertion; it is the input for optimisation and the figures of bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import logging
import os
import pstats
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import database, scenarios, seed
from bench.spec import RenderContext, render

ASGI = Callable[[dict[str, Any], Any, Any], Awaitable[None]]


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: tuple[tuple[bytes, bytes], ...] = ()
    body: bytes = b""


async def call(app: ASGI, req: Request) -> tuple[int, bytes]:
    """One request straight through ASGI: (status, body)."""
    path, _, query = req.path.partition("?")
    headers = [(b"host", b"127.0.0.1:8000"), *req.headers]
    if req.body:
        headers.append((b"content-length", str(len(req.body)).encode()))
    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": req.method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": query.encode(),
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }
    sent = False
    status = 0
    chunks: list[bytes] = []

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            await asyncio.sleep(3600)  # a client that stays connected
        sent = True
        return {"type": "http.request", "body": req.body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    return status, b"".join(chunks)


# --- the layers -----------------------------------------------------------------------------------


def middleware_chain(app: Any) -> list[tuple[str, tuple[str, int, str]]]:
    """(name, pstats key of its __call__) of every ASGI layer, outermost first, to the router."""
    chain: list[tuple[str, tuple[str, int, str]]] = []
    layer = app.middleware_stack
    seen = 0
    while layer is not None and seen < 30:
        seen += 1
        fn = type(layer).__call__
        code = getattr(fn, "__code__", None)
        if code is not None:
            chain.append(
                (type(layer).__name__, (code.co_filename, code.co_firstlineno, "__call__"))
            )
        layer = getattr(layer, "app", None)
        if type(layer).__name__ in ("APIRouter", "Router"):
            code = type(layer).__call__.__code__
            chain.append(("router", (code.co_filename, code.co_firstlineno, "__call__")))
            break
    return chain


# Steps inside the route, by (file suffix, function name): summed over every match.
STEPS: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    (
        "route (request_response: handler, then the dependencies' exits)",
        (("fastapi/routing.py", "app"),),
    ),
    ("  body read + JSON parse", (("starlette/requests.py", "json"),)),
    (
        "  dependency resolution (solve_dependencies)",
        (("dependencies/utils.py", "solve_dependencies"),),
    ),
    (
        "    body validation (request_body_to_args)",
        (("dependencies/utils.py", "request_body_to_args"),),
    ),
    ("    principal (optional_principal)", (("shared/auth.py", "optional_principal"),)),
    ("      token verification (LocalTokens.verify)", (("shared/auth.py", "verify"),)),
    ("      revocation epoch (_check_epoch)", (("shared/auth.py", "_check_epoch"),)),
    ("    request context (get_context)", (("hayu/dependencies.py", "get_context"),)),
    ("    session (get_session: the transaction opened)", (("shared/db.py", "get_session"),)),
    ("    idempotency (get_idempotency)", (("shared/idempotency.py", "get_idempotency"),)),
    ("  endpoint (run_endpoint_function)", (("fastapi/routing.py", "run_endpoint_function"),)),
    (
        "    statements (AsyncSession/AsyncConnection.execute)",
        (
            ("ext/asyncio/session.py", "execute"),
            ("ext/asyncio/connection.py", "execute"),
        ),
    ),
    (
        "    field encryption (FieldCipher)",
        (
            ("shared/crypto.py", "encrypt"),
            ("shared/crypto.py", "blind_index"),
        ),
    ),
    ("    idempotent response (Idempotency.respond)", (("shared/idempotency.py", "respond"),)),
    ("  the transaction closed (commit or rollback)", (("shared/db.py", "__aexit__"),)),
    (
        "  response validation + serialisation (serialize_response)",
        (("fastapi/routing.py", "serialize_response"),),
    ),
    ("  response rendering (JSONResponse.render)", (("starlette/responses.py", "render"),)),
    (
        "access log through Logger.info (the code before issue 17)",
        (("logging/__init__.py", "info"),),
    ),
    (
        "access log record + handlers (makeRecord + Logger.handle → JSON line)",
        (
            ("logging/__init__.py", "makeRecord"),
            ("logging/__init__.py", "handle"),
        ),
    ),
    (
        "metrics (labels + inc + observe)",
        (
            ("prometheus_client/metrics.py", "labels"),
            ("prometheus_client/metrics.py", "inc"),
            ("prometheus_client/metrics.py", "observe"),
        ),
    ),
    ("commit (AsyncSession commit)", (("ext/asyncio/session.py", "commit"),)),
)


def _cum(stats: dict[Any, Any], key: tuple[str, int, str]) -> tuple[float, int]:
    entry = stats.get(key)
    if entry is None:
        return 0.0, 0
    cc, _nc, _tt, ct, _callers = entry
    return ct, cc


def _matched(stats: dict[Any, Any], pairs: Sequence[tuple[str, str]]) -> tuple[float, int]:
    """Summed over the pairs; for one pair, the largest entry (same-named closures nest)."""
    total, calls = 0.0, 0
    for suffix, want in pairs:
        best = (0.0, 0)
        for (filename, _line, name), (cc, _nc, _tt, ct, _c) in stats.items():
            if name == want and filename.replace(os.sep, "/").endswith(suffix):
                best = max(best, (ct, cc))
        total += best[0]
        calls += best[1]
    return total, calls


@dataclass
class Breakdown:
    label: str
    requests: int
    statuses: dict[int, int]
    chain: list[tuple[str, float, float, float]]  # name, cumulative ms, own ms, calls
    steps: list[tuple[str, float, float]]  # label, ms, calls
    total_ms: float
    calls_per_request: float
    packages: list[tuple[str, float]]  # package, self ms/req
    top: list[tuple[str, float, float]]  # function, self ms/req, calls/req
    unprofiled_us: float = 0.0


def breakdown(
    label: str, app: Any, profile: cProfile.Profile, n: int, statuses: dict[int, int]
) -> Breakdown:
    stats = pstats.Stats(profile).stats  # type: ignore[attr-defined]
    chain = middleware_chain(app)
    rows: list[tuple[str, float, float, float]] = []
    cums = [_cum(stats, key) for _, key in chain]
    for i, (name, _key) in enumerate(chain):
        ct, cc = cums[i]
        inner = cums[i + 1][0] if i + 1 < len(cums) else 0.0
        rows.append((name, 1000 * ct / n, 1000 * (ct - inner) / n, cc / n))
    steps = []
    for step, pairs in STEPS:
        ct, cc = _matched(stats, pairs)
        if cc:
            steps.append((step, 1000 * ct / n, cc / n))
    total_calls = sum(entry[1] for entry in stats.values())
    outer = cums[0][0] if cums else 0.0
    packages: dict[str, float] = {}
    functions = []
    for (filename, line, name), (_cc, nc, tt, _ct, _c) in stats.items():
        pkg = _package(filename)
        packages[pkg] = packages.get(pkg, 0.0) + tt
        functions.append((f"{pkg}:{Path(filename).name}:{line}({name})", tt, nc))
    functions.sort(key=lambda f: -f[1])
    return Breakdown(
        label,
        n,
        statuses,
        rows,
        steps,
        1000 * outer / n,
        total_calls / n,
        sorted(((k, 1000 * v / n) for k, v in packages.items()), key=lambda kv: -kv[1])[:12],
        [(f, 1000 * tt / n, nc / n) for f, tt, nc in functions[:15]],
    )


def _package(filename: str) -> str:
    path = filename.replace(os.sep, "/")
    if "site-packages/" in path:
        return path.split("site-packages/", 1)[1].split("/", 1)[0]
    for first_party in ("/shared/", "/bench/", "/hayu/"):
        if first_party in path:
            return first_party.strip("/")
    if path.startswith("<"):
        return "builtins"
    return "stdlib:" + Path(path).stem if "/lib/python" in path else path


def emit(line: str = "") -> None:
    print(line, flush=True)  # noqa: T201 - the tool's output


def print_breakdown(b: Breakdown) -> None:
    emit(f"\n## {b.label}: {b.requests} requests, statuses {b.statuses}")
    emit(
        f"whole stack {b.total_ms:.3f} ms/request under cProfile, "
        f"{b.calls_per_request:.0f} Python calls/request; unprofiled "
        f"{b.unprofiled_us:.0f} µs/request"
    )
    emit("\n| ASGI layer (outermost first) | cumulative ms/req | own ms/req | entries/req |")
    emit("| --- | ---: | ---: | ---: |")
    for name, cum, own, calls in b.chain:
        emit(f"| {name} | {cum:.3f} | {own:.3f} | {calls:.1f} |")
    emit("\n| step (inclusive) | ms/req | calls/req |")
    emit("| --- | ---: | ---: |")
    for step, ms, calls in b.steps:
        emit(f"| {step.replace('  ', '· ')} | {ms:.3f} | {calls:.1f} |")
    emit("\nself time by package (ms/req): " + ", ".join(f"{k} {v:.3f}" for k, v in b.packages))
    emit("\nbusiest functions (self ms/req, calls/req):")
    for name, ms, calls in b.top:
        emit(f"  {ms:7.3f}  {calls:6.1f}  {name}")


# --- the run --------------------------------------------------------------------------------------


async def _prepare(db: str, keep: bool, scale: float, workdir: Path) -> None:
    from bench.runner import migrate, service_env

    env = service_env("hayu", db, workdir)
    env["HAYU_BACKGROUND_TASKS"] = "false"
    os.environ.update(env)
    if keep:
        return
    await database.drop_schema(db, "hayu")
    await asyncio.to_thread(migrate, "hayu", env, workdir / "hayu.migrate.log")
    report = await seed.seed_service(db, "hayu", scale=scale)
    if report.status != "ok":
        raise SystemExit(f"seeding HAYU failed: {report.detail}")


async def _codes(db: str, n: int) -> list[str]:
    import asyncpg  # type: ignore[import-untyped]

    conn = await asyncpg.connect(db.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        rows = await conn.fetch(
            "SELECT tracking_code FROM hayu.applications ORDER BY id LIMIT $1", n
        )
    finally:
        await conn.close()
    return [r[0] for r in rows]


def _quiet_logs() -> None:
    """The JSON access log still formats every line; it is written to /dev/null, not the tty."""
    sink = open(os.devnull, "w")  # noqa: SIM115 - for the life of the process
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(sink)


def scenario_request(
    name: str,
    token: str,
    i: int,
    run_id: str,
    *,
    level: str,
    users: int,
    pools: Mapping[str, Sequence[str]] | None = None,
) -> Request:
    """The `i`-th request of a write scenario as the k6 script would send it: its body rendered
    for virtual user `1 + i % users`, the caller's token and a new Idempotency-Key."""
    scenario = scenarios.BY_NAME[name]
    ctx = RenderContext(
        run_id=run_id, level=level, vu=1 + i % users, iteration=i, pools=pools or {}
    )
    body = json.dumps(render(scenario.body, ctx)).encode()
    return Request(
        scenario.method,
        scenario.path,
        (
            (b"authorization", f"Bearer {token}".encode()),
            (b"content-type", b"application/json"),
            (b"idempotency-key", uuid.uuid4().hex.encode()),
        ),
        body,
    )


def self_report_request(token: str, i: int, run_id: str) -> Request:
    return scenario_request("hayu.self_report", token, i, run_id, level="p", users=64)


async def sign_in(app: ASGI, username: str, hint: str = "") -> str:
    """A bearer token for a seeded account (the bench password), through the app's own login."""
    status, body = await call(
        app,
        Request(
            "POST",
            "/api/v1/auth/token",
            ((b"content-type", b"application/x-www-form-urlencoded"),),
            f"username={username}&password={seed.BENCH_PASSWORD}".encode(),
        ),
    )
    if status != 200:
        raise SystemExit(f"login answered {status}: {body[:300]!r}{hint}")
    token: str = json.loads(body)["access_token"]
    return token


async def send_all(app: ASGI, requests: Sequence[Request]) -> dict[int, int]:
    """Send the requests one after another; how many got each status."""
    statuses: dict[int, int] = {}
    for req in requests:
        status, _ = await call(app, req)
        statuses[status] = statuses.get(status, 0) + 1
    return statuses


async def _profile(
    label: str,
    app: Any,
    requests: Sequence[Request],
    warmup: Sequence[Request],
    again: Sequence[Request],
) -> Breakdown:
    for req in warmup:
        await call(app, req)
    # CPU time of this thread: other engineers' processes on the same cores do not count.
    profile = cProfile.Profile(time.thread_time_ns, 1e-9)
    profile.enable()
    statuses = await send_all(app, requests)
    profile.disable()
    result = breakdown(label, app, profile, len(requests), statuses)
    started = time.perf_counter()
    for req in again:
        await call(app, req)
    result.unprofiled_us = 1e6 * (time.perf_counter() - started) / max(1, len(again))
    return result


async def _timed(app: Any, req: Request, n: int) -> tuple[float, float]:
    """(wall-clock, this thread's CPU) seconds per request."""
    started, cpu = time.perf_counter(), time.thread_time()
    for _ in range(n):
        await call(app, req)
    return (time.perf_counter() - started) / n, (time.thread_time() - cpu) / n


async def noop_ratio(stack: Any, bare: Any, n: int, rounds: int) -> dict[str, Any]:
    stack_req = Request("GET", "/api/v1/bench/noop")
    bare_req = Request("GET", "/noop")
    for app, req in ((bare, bare_req), (stack, stack_req)):
        status, body = await call(app, req)
        if status != 200:
            raise SystemExit(f"no-op answered {status}: {body[:200]!r}")
        await _timed(app, req, min(n, 200))
    load_before = os.getloadavg()
    figures: dict[str, list[float]] = {k: [] for k in ("bare", "stack", "bare_cpu", "stack_cpu")}
    for _ in range(rounds):
        b, b_cpu = await _timed(bare, bare_req, n)
        s, s_cpu = await _timed(stack, stack_req, n)
        figures["bare"].append(b * 1e6)
        figures["stack"].append(s * 1e6)
        figures["bare_cpu"].append(b_cpu * 1e6)
        figures["stack_cpu"].append(s_cpu * 1e6)
    result: dict[str, Any] = {"rounds": rounds, "requests_per_round": n}
    for clock, suffix in (("wall", ""), ("cpu", "_cpu")):
        bare_us, stack_us = figures["bare" + suffix], figures["stack" + suffix]
        ratios = [b / s for b, s in zip(bare_us, stack_us, strict=True)]
        result[clock] = {
            "bare_us": [round(x, 1) for x in bare_us],
            "stack_us": [round(x, 1) for x in stack_us],
            "ratios": [round(x, 3) for x in ratios],
            "median": round(statistics.median(ratios), 3),
            "min": round(min(ratios), 3),
            "max": round(max(ratios), 3),
        }
    result["loadavg_before"] = [round(x, 2) for x in load_before]
    result["loadavg_after"] = [round(x, 2) for x in os.getloadavg()]
    return result


async def main_async(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory(prefix="bench-layers-") as tmp:
        await _prepare(args.db, args.keep_data, args.scale, Path(tmp))
        from bench.reference_app import create_app as create_bare
        from bench.stack_app import create_app as create_stack

        os.environ.setdefault("BENCH_REF_DATABASE_URL", args.db)
        stack = create_stack()
        bare = create_bare()
        _quiet_logs()
        async with stack.router.lifespan_context(stack):
            token = await sign_in(stack, seed.LOGIN_GROUPS["hayu.owner"].username_of(0))
            n = args.requests
            codes = await _codes(args.db, n)
            if not codes:
                raise SystemExit("no HAYU application to track: seed first (drop --keep-data)")
            track = [
                Request("GET", f"/api/v1/public/track/{codes[i % len(codes)]}") for i in range(n)
            ]
            run_id = uuid.uuid4().hex[:8]
            writes = [self_report_request(token, i, run_id) for i in range(2 * n + 50)]
            noop = [Request("GET", "/api/v1/bench/noop")] * n
            bare_noop = [Request("GET", "/noop")] * n
            results = (
                []
                if args.ratio_only
                else [
                    await _profile(
                        "no-op in the bare app", bare, bare_noop, bare_noop[:50], bare_noop
                    ),
                    await _profile("no-op through the full stack", stack, noop, noop[:50], noop),
                    await _profile("HAYU tracking lookup", stack, track, track[:50], track),
                    await _profile(
                        "HAYU self-report",
                        stack,
                        writes[50 : n + 50],
                        writes[:50],
                        writes[n + 50 :],
                    ),
                ]
            )
            emit(
                f"# per-layer breakdown, {n} requests each, load average "
                f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}"
            )
            for result in results:
                print_breakdown(result)
            ratio = await noop_ratio(stack, bare, args.ratio_requests, args.rounds)
        emit("\n## bare vs full-stack no-op, in-process, no profiler")
        emit(json.dumps(ratio))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.profile_layers",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--db", default=database.DEFAULT_URL)
    parser.add_argument("--requests", type=int, default=2000, help="per profiled scenario")
    parser.add_argument("--ratio-requests", type=int, default=5000, help="per round and app")
    parser.add_argument("--rounds", type=int, default=7, help="alternating no-op rounds")
    parser.add_argument("--scale", type=float, default=0.01, help="HAYU seed volume factor")
    parser.add_argument("--keep-data", action="store_true", help="reuse the seeded hayu schema")
    parser.add_argument("--ratio-only", action="store_true", help="skip the profiled breakdown")
    args = parser.parse_args(argv)
    try:
        database.check_url(args.db)
    except ValueError as exc:
        raise SystemExit(f"bench: {exc}") from None
    return asyncio.run(main_async(args))


if __name__ == "__main__":
    sys.exit(main())
