"""Server CPU per request: the bare no-op against the full-stack no-op, under wrk, alternating.

    .venv/bin/python -m bench.cpu_pair [--db URL] [--rounds 3] [--seconds 6] [--connections 16]
                                       [--lookups]

Starts `bench.reference_app` and `bench.stack_app` under uvicorn (one worker each, on free ports of
127.0.0.1), then, round after round, runs `wrk` (apt package `wrk`) against each no-op in turn and
reads the server process's user + system CPU time from `/proc/<pid>/stat` before and after. It
prints, per server, the CPU microseconds per answered request and the requests per second of each
round. Throughput on a shared VM moves by 15 % or more between runs (the bench README shows the
references themselves doing so); the CPU a server spends per request moves much less, because
time the cores spend on other processes is not in it. HAYU's schema must exist in the database
(`python -m bench seed --service hayu`, or any earlier run): the stack app starts HAYU.

With `--lookups`, the same for a pair that touches the database: the bare app's ORM select by key
(`GET /orm/payments/ref-1`; the reference table is made by any `python -m bench run`) against
HAYU's public tracking lookup of one seeded file, on the same two server processes. Only the
server process's CPU is counted, not PostgreSQL's: the figure is what the Python side of a
lookup costs.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def emit(line: str) -> None:
    sys.stdout.write(line + "\n")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a live process, from /proc (OSError once it has gone)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _wait_ready(url: str, deadline: float) -> None:
    import urllib.request

    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"{url} did not answer in time")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.cpu_pair", description=__doc__)
    parser.add_argument("--db", default="postgresql://postgres@127.0.0.1:5432/bench")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=6)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--lookups", action="store_true", help="also the lookup pair")
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (apt-get install wrk)")
    if not args.db.startswith("postgresql://postgres@127.0.0.1"):
        raise SystemExit("--db must be a PostgreSQL database on 127.0.0.1")
    env = {
        **os.environ,
        "BENCH_REF_DATABASE_URL": args.db,
        "HAYU_DATABASE_URL": args.db,
        "HAYU_BACKGROUND_TASKS": "false",
    }
    targets = {
        "bare": (["bench.reference_app:create_app", "--factory"], "/noop"),
        "stack": (["bench.stack_app:app"], "/api/v1/bench/noop"),
    }
    lookups = {"bare select": ("bare", "/orm/payments/ref-1")}
    if args.lookups:
        code = subprocess.run(
            ["psql", args.db, "-Atc", "SELECT tracking_code FROM hayu.applications LIMIT 1"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        if not code:
            raise SystemExit("no HAYU file in the database: seed it first")
        lookups["HAYU track"] = ("stack", f"/api/v1/public/track/{code}")
    servers: dict[str, tuple[subprocess.Popen[bytes], str]] = {}
    try:
        for name, (app, path) in targets.items():
            port = _free_port()
            command = [sys.executable, "-m", "uvicorn", *app, "--host", "127.0.0.1"]
            command += ["--port", str(port), "--no-access-log", "--log-level", "warning"]
            process = subprocess.Popen(
                command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
            servers[name] = (process, f"http://127.0.0.1:{port}{path}")
        for _, url in servers.values():
            _wait_ready(url, time.monotonic() + 30)
        if args.lookups:
            for name, (server, path) in lookups.items():
                process, url = servers[server]
                servers[name] = (process, url.removesuffix(targets[server][1]) + path)
        figures: dict[str, list[tuple[float, float]]] = {name: [] for name in servers}
        for _ in range(args.rounds):
            for name, (process, url) in servers.items():
                before = cpu_seconds(process.pid)
                out = subprocess.run(
                    ["wrk", "-t1", f"-c{args.connections}", f"-d{args.seconds}s", url],
                    capture_output=True,
                    text=True,
                    check=True,
                ).stdout
                spent = cpu_seconds(process.pid) - before
                answered = re.search(r"(\d+) requests in", out)
                rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
                if answered is None or rate is None or "Non-2xx" in out:
                    raise SystemExit(f"{name}: wrk reported errors:\n{out}")
                figures[name].append((1e6 * spent / int(answered.group(1)), float(rate.group(1))))
        load = " ".join(f"{x:.2f}" for x in os.getloadavg())
        emit(f"# server CPU per request, {args.rounds} rounds, load average after: {load}")
        for name, rows in figures.items():
            cpu = [round(r[0]) for r in rows]
            rates = [round(r[1]) for r in rows]
            emit(f"{name}: CPU µs/request {cpu} (median {statistics.median(cpu)}), req/s {rates}")
        pairs = [("bare", "stack")] + ([("bare select", "HAYU track")] if args.lookups else [])
        for ours_bare, ours_stack in pairs:
            bare = statistics.median(r[0] for r in figures[ours_bare])
            stack = statistics.median(r[0] for r in figures[ours_stack])
            emit(f"{ours_bare} ÷ {ours_stack}, by CPU per request (medians): {bare / stack:.2f}")
    finally:
        for process in {id(p): p for p, _ in servers.values()}.values():
            process.terminate()
            process.wait(timeout=10)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
