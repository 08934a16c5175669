"""Hostile traffic: 50 slow senders and 4 × 100 MB bodies against one HAYU process, for 20 s.

    .venv/bin/python -m bench.hostile_traffic

While the attack runs (every slow sender reconnects when it is cut, every huge body is sent again
when it is refused), four ordinary clients keep reading the public audit checkpoint and the public
certificate check. Prints the ordinary requests' answers, their p50/p99 latency and the process's
peak RSS; exits 1 unless every ordinary request was answered 200 with p99 under 1 s and RSS stayed
under 200 MB (issue: platform trust). SQLite in a temporary folder, 127.0.0.1:18998 only, with the
service's default body limits.
"""

from __future__ import annotations

import asyncio
import contextlib
import statistics
import sys
import time
from collections.abc import Awaitable, Callable

import httpx
import psutil

from bench.live_hayu import hayu_process

PORT = 18998
SECONDS = 20.0
SLOW_SENDERS = 50
HUGE_BODIES = 4
ORDINARY_CLIENTS = 4
HUNDRED_MB = 100 * 1024 * 1024
P99_BOUND = 1.0
RSS_BOUND = 200 * 1024 * 1024
ORDINARY_PATHS = (
    "/api/v1/public/audit/checkpoint",
    "/api/v1/public/verify/REG-3273-2026-000001",
)


async def _trickle_once(deadline: float) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", PORT)
    writer.write(
        b"POST /api/v1/auth/token HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\n"
    )
    try:
        while time.monotonic() < deadline:
            writer.write(b"u")
            await writer.drain()
            with contextlib.suppress(TimeoutError):
                if await asyncio.wait_for(reader.read(200), 1.0) or reader.at_eof():
                    return  # cut by the server: the caller reconnects
    finally:
        writer.close()


async def _huge_once(declared: bool) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", PORT)
    framing = f"Content-Length: {HUNDRED_MB}" if declared else "Transfer-Encoding: chunked"
    writer.write(
        f"POST /api/v1/auth/token HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Content-Type: application/json\r\n{framing}\r\n\r\n".encode()
    )
    answer = asyncio.create_task(reader.read(200))
    chunk = b"7" * (1024 * 1024)
    try:
        for _ in range(100):
            if answer.done():
                break
            writer.write(chunk if declared else b"100000\r\n" + chunk + b"\r\n")
            await asyncio.wait_for(writer.drain(), 5)
        await asyncio.wait_for(answer, 5)
    finally:
        answer.cancel()
        writer.close()


async def _repeat(attack: Callable[[], Awaitable[None]], deadline: float) -> int:
    """Run one attacker again and again until the deadline; returns how many attempts it made."""
    attempts = 0
    while time.monotonic() < deadline:
        attempts += 1
        with contextlib.suppress(ConnectionError, OSError, TimeoutError):
            await attack()
        await asyncio.sleep(0.05)
    return attempts


async def attack(pid: int) -> tuple[list[float], dict[int, int], int, int, int]:
    process = psutil.Process(pid)
    before = process.memory_info().rss
    peak = before
    deadline = time.monotonic() + SECONDS
    latencies: list[float] = []
    answers: dict[int, int] = {}

    async def ordinary(i: int) -> None:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{PORT}", timeout=10) as c:
            n = i
            while time.monotonic() < deadline:
                started = time.perf_counter()
                try:
                    status = (await c.get(ORDINARY_PATHS[n % len(ORDINARY_PATHS)])).status_code
                except httpx.HTTPError:
                    status = 0
                latencies.append(time.perf_counter() - started)
                answers[status] = answers.get(status, 0) + 1
                n += 1
                await asyncio.sleep(0.02)

    async def watch() -> None:
        nonlocal peak
        while time.monotonic() < deadline + 1:
            peak = max(peak, process.memory_info().rss)
            await asyncio.sleep(0.1)

    slow = [_repeat(lambda: _trickle_once(deadline), deadline) for _ in range(SLOW_SENDERS)]
    huge = [_repeat(lambda d=i % 2 == 0: _huge_once(d), deadline) for i in range(HUGE_BODIES)]
    _, slow_counts, huge_counts, _ = await asyncio.gather(
        watch(),
        asyncio.gather(*slow),
        asyncio.gather(*huge),
        asyncio.gather(*(ordinary(i) for i in range(ORDINARY_CLIENTS))),
    )
    slow_attempts, huge_attempts = sum(slow_counts), sum(huge_counts)
    return latencies, answers, peak, slow_attempts, huge_attempts


def main() -> int:
    with hayu_process(PORT) as pid:
        before = psutil.Process(pid).memory_info().rss
        latencies, answers, peak, slow, huge = asyncio.run(attack(pid))
    latencies.sort()
    p50 = statistics.median(latencies)
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    mib = 2**20
    sys.stdout.write(
        f"{SECONDS:.0f} s of {SLOW_SENDERS} slow senders ({slow} connections) and "
        f"{HUGE_BODIES} × 100 MB bodies ({huge} sent): {len(latencies)} ordinary requests, "
        f"answers {dict(sorted(answers.items()))}, p50 {p50 * 1000:.0f} ms, "
        f"p99 {p99 * 1000:.0f} ms; RSS before {before / mib:.0f} MiB, peak {peak / mib:.0f} MiB\n"
    )
    ok = set(answers) <= {200, 404} and p99 < P99_BOUND and peak < RSS_BOUND
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
