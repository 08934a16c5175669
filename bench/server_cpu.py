"""A service's server CPU per request during a `bench run`, from /proc, beside the run.

    .venv/bin/python -m bench.server_cpu --service erk --seconds 170 --log run.log &
    .venv/bin/python -m bench run --scenarios erk.activity_submit ... | tee run.log

Every 0.5 s it reads the user + system CPU time of the service's server process (the uvicorn
process whose command line names `<service>.main:app`) from `/proc/<pid>/stat`. When the time is
up it reads the run's log for each `<scenario> @<clients>: <n> req/s` line the harness prints
at the end of a load level, and divides the CPU the server spent in that level's last
`--window` seconds (ending 1.5 s before the line) by the requests answered in them (rate ×
time). Throughput on a shared 2-core VM moves by 15 % between runs; the server's CPU per
request moves much less (time the cores gave to k6 or PostgreSQL is not in it), so it is the
figure to compare before and after a change to a write path's Python.
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.cpu_pair import cpu_seconds

LEVEL = re.compile(r"\[bench (\d\d:\d\d:\d\d)\]\s+(\S+) @(\d+): (\d+) req/s")


@dataclass(frozen=True)
class Level:
    scenario: str
    clients: int
    rate: int
    cpu_us_per_request: float
    cores: float


def _server_pid(service: str) -> int | None:
    needle = f"{service}.main:app".encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if b"uvicorn" in command and needle in command:
            return int(entry.name)
    return None


def _cpu_seconds(pid: int) -> float | None:
    """`bench.cpu_pair.cpu_seconds`, or None when the process has gone (a server restarts
    between the harness's stages)."""
    try:
        return cpu_seconds(pid)
    except OSError:
        return None


def levels(
    log_lines: Iterable[str],
    samples: Sequence[tuple[float, int, float]],
    day: dt.date,
    window: float = 14.0,
) -> list[Level]:
    """Each level line of the log with the CPU per request of the server in its last `window`
    seconds; `samples` are (epoch seconds, pid, CPU seconds). Levels without two samples of one
    process inside their window are left out."""
    out: list[Level] = []
    for line in log_lines:
        match = LEVEL.search(line)
        if match is None:
            continue
        clock = dt.time.fromisoformat(match.group(1))
        end = dt.datetime.combine(day, clock, tzinfo=dt.UTC).timestamp() - 1.5
        inside = [s for s in samples if end - window <= s[0] <= end]
        if len(inside) < 2 or inside[0][1] != inside[-1][1]:
            continue
        (t0, _, c0), (t1, _, c1) = inside[0], inside[-1]
        rate = int(match.group(4))
        if rate <= 0 or t1 <= t0:
            continue
        out.append(
            Level(
                scenario=match.group(2),
                clients=int(match.group(3)),
                rate=rate,
                cpu_us_per_request=1e6 * (c1 - c0) / (rate * (t1 - t0)),
                cores=(c1 - c0) / (t1 - t0),
            )
        )
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.server_cpu", description=__doc__)
    parser.add_argument("--service", required=True, choices=("sabilulungan", "hayu", "erk"))
    parser.add_argument("--seconds", type=float, default=170.0)
    parser.add_argument("--log", type=Path, required=True, help="the bench run's output")
    parser.add_argument("--window", type=float, default=14.0)
    args = parser.parse_args(argv)
    samples: list[tuple[float, int, float]] = []
    deadline = time.monotonic() + args.seconds
    while time.monotonic() < deadline:
        pid = _server_pid(args.service)
        cpu = None if pid is None else _cpu_seconds(pid)
        if pid is not None and cpu is not None:
            samples.append((time.time(), pid, cpu))
        time.sleep(0.5)
    found = levels(
        args.log.read_text().splitlines(), samples, dt.datetime.now(dt.UTC).date(), args.window
    )
    for level in found:
        sys.stdout.write(
            f"{level.scenario} @{level.clients}: {level.rate} req/s, server CPU "
            f"{level.cpu_us_per_request:.0f} µs/request ({level.cores:.2f} cores)\n"
        )
    if not found:
        sys.stdout.write("no level of the log had two samples of the server inside its window\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
