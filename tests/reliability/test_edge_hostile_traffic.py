"""Hostile traffic against a real uvicorn process: slow senders and huge bodies.

Fifty unauthenticated connections trickle request bodies a byte at a time and four others send
100 MB bodies (two declared with Content-Length, two streamed without), while an ordinary client
keeps asking for the public audit checkpoint. Every ordinary request must be answered (not a 503
for want of an admission slot) and the process must stay small. Only 127.0.0.1 is used.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import httpx
import psutil

SLOW_SENDERS = 50
HUGE_BODIES = 4
HUNDRED_MB = 100 * 1024 * 1024
RSS_BOUND = 200 * 1024 * 1024


async def _slow_sender(port: int, stop: asyncio.Event) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(
        b"POST /api/v1/auth/token HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\n"
    )
    answer = b""
    try:
        while not stop.is_set():
            writer.write(b"u")
            await writer.drain()
            with contextlib.suppress(TimeoutError):
                answer = await asyncio.wait_for(reader.read(200), 0.5)
                if answer or reader.at_eof():
                    break
    except (ConnectionError, OSError):
        pass
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError, OSError):
            await writer.wait_closed()
    return answer


async def _huge_body(port: int, declared: bool) -> tuple[bytes, int]:
    """The start of the answer (empty if the server reset the connection) and the bytes sent."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    framing = f"Content-Length: {HUNDRED_MB}" if declared else "Transfer-Encoding: chunked"
    writer.write(
        f"POST /api/v1/auth/token HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Content-Type: application/json\r\n{framing}\r\n\r\n".encode()
    )
    answer = asyncio.create_task(reader.read(200))  # read the answer while the body goes out
    if declared:
        # The refusal must come on the headers alone. Waiting for it before sending a byte keeps a
        # reset (the service closing on unread bytes) from discarding the 413 before it is read.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(answer), 2)
    chunk = b"7" * (1024 * 1024)
    sent = 0
    with contextlib.suppress(ConnectionError, OSError, TimeoutError):
        for _ in range(100):
            if answer.done():
                break
            writer.write(chunk if declared else b"100000\r\n" + chunk + b"\r\n")
            await asyncio.wait_for(writer.drain(), 5)
            sent += len(chunk)
    try:
        return await asyncio.wait_for(answer, 5), sent
    except (ConnectionError, OSError, TimeoutError):
        return b"", sent
    finally:
        writer.close()


async def test_slow_senders_and_huge_bodies_leave_the_service_answering(
    live_service: Any, monkeypatch: Any
) -> None:
    monkeypatch.setenv("HAYU_BODY_GRACE_SECONDS", "2")  # cut the trickles within the test
    live = await live_service("hayu")
    port = int(live.url.rsplit(":", 1)[1])
    process = psutil.Process(live.process.pid)
    stop = asyncio.Event()
    slow = [asyncio.create_task(_slow_sender(port, stop)) for _ in range(SLOW_SENDERS)]
    await asyncio.sleep(1.0)  # every slow sender is connected and trickling
    huge = [asyncio.create_task(_huge_body(port, i % 2 == 0)) for i in range(HUGE_BODIES)]
    statuses = []
    peak = 0
    async with httpx.AsyncClient(base_url=live.url, timeout=2.0) as client:
        for _ in range(30):
            response = await client.get("/api/v1/public/audit/checkpoint")
            statuses.append(response.status_code)
            peak = max(peak, process.memory_info().rss)
            await asyncio.sleep(0.1)
    huge_answers = await asyncio.gather(*huge)
    slow_answers = await asyncio.wait_for(asyncio.gather(*slow), 10)
    stop.set()

    assert statuses == [200] * len(statuses), statuses
    for index, (answer, sent) in enumerate(huge_answers):
        if index % 2 == 0:  # declared: refused before a byte of the body is read
            assert answer.startswith(b"HTTP/1.1 413"), answer
            assert sent == 0, f"the refusal came after {sent} bytes of the body"
        else:  # streamed: a 413 (or a reset, when the refusal met bytes still in flight)
            assert answer.startswith(b"HTTP/1.1 413") or answer == b"", answer
        assert sent < HUNDRED_MB // 4, f"the service kept reading: {sent} bytes sent"
    # The trickling bodies were cut (408) once they fell below the minimum rate.
    cut = [a for a in slow_answers if a.startswith(b"HTTP/1.1 408")]
    assert len(cut) == SLOW_SENDERS, [
        a[:40] for a in slow_answers if not a.startswith(b"HTTP/1.1 408")
    ]
    assert peak < RSS_BOUND, f"resident memory reached {peak / 2**20:.0f} MB"
