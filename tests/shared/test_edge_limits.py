"""Bounded request bodies: size and time limits before authentication and admission.

The app is driven with raw ASGI messages, so a test controls how fast (and how much of) a body
arrives and can count what the service read.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI

from shared.testing import client_for

MiB = 1024 * 1024
Receive = Callable[[], Awaitable[dict[str, Any]]]


class Answer:
    def __init__(self) -> None:
        self.status: int | None = None
        self.headers: dict[str, str] = {}
        self.body = b""

    async def send(self, message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
            self.headers = {k.decode(): v.decode() for k, v in message.get("headers", [])}
        elif message["type"] == "http.response.body":
            self.body += message.get("body", b"")

    def json(self) -> Any:
        return json.loads(self.body)


def scope_for(method: str, path: str, headers: dict[str, str]) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("127.0.0.1", 50000),
        "server": ("test", 80),
    }


class Sender:
    """A client body: `chunks` chunks of `size` bytes, `pause` s apart; counts what is read."""

    def __init__(self, *, chunks: int, size: int, pause: float = 0.0) -> None:
        self.chunks = chunks
        self.size = size
        self.pause = pause
        self.sent = 0
        self.index = 0
        self.gone = asyncio.Event()

    async def receive(self) -> dict[str, Any]:
        if self.index >= self.chunks:
            await self.gone.wait()  # the client stays until the answer is complete
            return {"type": "http.disconnect"}
        if self.pause and self.index:
            await asyncio.sleep(self.pause)
        self.index += 1
        self.sent += self.size
        return {
            "type": "http.request",
            "body": b"x" * self.size,
            "more_body": self.index < self.chunks,
        }


async def call(app: FastAPI, scope: dict[str, Any], receive: Receive) -> Answer:
    answer = Answer()
    await app(scope, receive, answer.send)
    return answer


async def test_a_declared_oversized_body_is_refused_before_a_byte_is_read(make_app: Any) -> None:
    app = await make_app("hayu")
    sender = Sender(chunks=100, size=MiB)
    scope = scope_for(
        "POST",
        "/api/v1/auth/token",
        {"content-type": "application/x-www-form-urlencoded", "content-length": str(100 * MiB)},
    )
    answer = await call(app, scope, sender.receive)
    assert answer.status == 413
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["status"] == 413
    assert sender.sent == 0


async def test_a_streamed_body_is_cut_at_the_limit_before_authentication(make_app: Any) -> None:
    app = await make_app("hayu", max_body_bytes=256 * 1024)
    sender = Sender(chunks=100 * 16, size=64 * 1024)  # 100 MiB, chunked, no Content-Length
    scope = scope_for(
        "POST",
        "/api/v1/applications",
        {"content-type": "application/json", "transfer-encoding": "chunked"},
    )
    answer = await call(app, scope, sender.receive)
    assert answer.status == 413, answer.body
    assert sender.sent <= 256 * 1024 + 64 * 1024


async def test_a_json_route_refuses_what_an_upload_route_accepts(make_app: Any) -> None:
    app = await make_app("hayu")
    big = b"%PDF-1.4\n" + b"0" * (2 * MiB)
    async with client_for(app) as client:
        as_json = await client.post(
            "/api/v1/applications",
            content=b'{"x":"' + b"0" * (2 * MiB) + b'"}',
            headers={"content-type": "application/json"},
        )
        as_upload = await client.post(
            "/api/v1/applications/1/documents",
            files={"file": ("izin.pdf", big, "application/pdf")},
            data={"kind": "ktp"},
        )
    assert as_json.status_code == 413
    assert as_upload.status_code == 401  # past the size limit: the route asks who is calling


async def test_a_body_slower_than_the_minimum_rate_is_cut(make_app: Any) -> None:
    app = await make_app("hayu", body_grace_seconds=0.3, body_min_rate_bytes=1024)
    sender = Sender(chunks=1000, size=1, pause=0.05)  # 20 bytes a second
    scope = scope_for(
        "POST",
        "/api/v1/auth/token",
        {"content-type": "application/x-www-form-urlencoded", "content-length": "1000"},
    )
    started = time.monotonic()
    answer = await call(app, scope, sender.receive)
    assert answer.status == 408, answer.body
    assert answer.headers["content-type"] == "application/problem+json"
    assert time.monotonic() - started < 2
    assert sender.sent < 50


async def test_a_stalled_body_is_cut_after_the_idle_limit(make_app: Any) -> None:
    app = await make_app("hayu", body_idle_seconds=0.3)
    stalled = asyncio.Event()

    async def receive() -> dict[str, Any]:
        await stalled.wait()  # never set: the client sent its headers and nothing more
        return {"type": "http.disconnect"}

    scope = scope_for(
        "POST", "/api/v1/auth/token", {"content-type": "application/json", "content-length": "10"}
    )
    answer = await asyncio.wait_for(call(app, scope, receive), 3)
    assert answer.status == 408


async def test_slow_senders_hold_no_admission_slot(make_app: Any) -> None:
    """Finding: a few slow bodies took every admission slot and every other request got 503."""
    app = await make_app("hayu", max_in_flight=2, admission_wait_seconds=0.3)
    senders = [Sender(chunks=40, size=1, pause=0.05) for _ in range(6)]  # 2 s each, 6 > 2 slots
    scope = scope_for(
        "POST",
        "/api/v1/auth/token",
        {"content-type": "application/x-www-form-urlencoded", "content-length": "40"},
    )
    slow = [asyncio.create_task(call(app, scope, s.receive)) for s in senders]
    await asyncio.sleep(0.2)
    async with client_for(app) as client:
        statuses = []
        for _ in range(3):
            statuses.append((await client.get("/api/v1/public/audit/checkpoint")).status_code)
            await asyncio.sleep(0.1)
    for sender in senders:
        sender.gone.set()
    answers = await asyncio.gather(*slow)
    assert statuses == [200, 200, 200]
    # The slow bodies were received in full in the end and judged by the route (a bad form).
    assert {a.status for a in answers} == {422}
