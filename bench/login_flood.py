"""Login flood: 40 clients send wrong passwords to one HAYU process for 20 s; prints its RSS.

    .venv/bin/python -m bench.login_flood

SQLite in a temporary folder, uvicorn on 127.0.0.1:18999 only. The bound the service promises is
≤ 400 MB (argon2 runs at most `<P>PASSWORD_HASH_CONCURRENCY` hashes of 64 MiB at once).
"""

from __future__ import annotations

import asyncio
import sys
import time

import httpx
import psutil

from bench.live_hayu import hayu_process

PORT = 18999
CLIENTS = 40
SECONDS = 20.0


async def flood(pid: int) -> tuple[int, int, dict[int, int]]:
    process = psutil.Process(pid)
    before = process.memory_info().rss
    peak = before
    answers: dict[int, int] = {}
    end = time.monotonic() + SECONDS

    async def client(i: int) -> None:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{PORT}", timeout=30) as c:
            while time.monotonic() < end:
                username = "admin" if i % 2 == 0 else f"user{i}"
                r = await c.post(
                    "/api/v1/auth/token", data={"username": username, "password": "salah"}
                )
                answers[r.status_code] = answers.get(r.status_code, 0) + 1

    async def watch() -> None:
        nonlocal peak
        while time.monotonic() < end + 1:
            peak = max(peak, process.memory_info().rss)
            await asyncio.sleep(0.25)

    await asyncio.gather(watch(), *(client(i) for i in range(CLIENTS)))
    return before, peak, answers


def main() -> int:
    with hayu_process(PORT) as pid:
        before, peak, answers = asyncio.run(flood(pid))
    mib = 2**20
    sys.stdout.write(
        f"{CLIENTS} clients for {SECONDS:.0f} s: RSS before {before / mib:.0f} MiB, "
        f"peak {peak / mib:.0f} MiB; answers {dict(sorted(answers.items()))}\n"
    )
    return 0 if peak <= 400 * 10**6 else 1


if __name__ == "__main__":
    raise SystemExit(main())
