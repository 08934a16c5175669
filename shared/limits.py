"""Bounded request bodies: size and time limits enforced before authentication and admission.

`BodyReader`, called by the request frame (`shared.frame`) before admission control, receives the
whole body of a request before the app (and so before the token check, the admission slot and the
database) sees it:

- a `Content-Length` above the route's limit is a 413 at once, without reading a byte;
- a streamed (chunked) body is counted as it arrives and cut with a 413 when it passes the limit;
- a body that arrives slower than `min_rate` bytes a second (after `grace` seconds), that stalls
  longer than `idle` seconds, or that is not complete within `total` seconds is cut with a 408.

The limit depends on the kind of body: a multipart body (a file upload) may have up to
`max_upload_bytes`; every other body (JSON, urlencoded forms) up to `max_body_bytes`. Up to
`spool_bytes` of a body are kept in memory; a larger (upload) body is spooled to a temporary file,
so memory per request stays bounded however many uploads arrive at once. Because the body is fully
received before the app runs, a slow sender never holds an admission slot or a connection.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from dataclasses import dataclass
from typing import IO, Any

from starlette.types import Message, Receive

MiB = 1024 * 1024
READ_CHUNK = 64 * 1024


@dataclass(frozen=True)
class BodyLimitSettings:
    max_body_bytes: int = 1 * MiB
    max_upload_bytes: int = 21 * MiB
    total: float = 60.0
    idle: float = 10.0
    min_rate: int = 1024
    grace: float = 5.0
    spool_bytes: int = 1 * MiB


class RefusedError(Exception):
    """A body refused before the app sees it: the request frame answers it as a problem."""

    def __init__(self, status: int, title: str, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.title = title
        self.detail = detail


class BodyReader:
    """Receives a request's whole body within the limits (see the module docstring).

    Used by `shared.frame.RequestFrame`, the one middleware every request passes through; it
    reads the headers once for every check it makes.
    """

    def __init__(self, limits: BodyLimitSettings) -> None:
        self.limits = limits

    def limit_for(self, content_type: bytes) -> int:
        if content_type.lstrip().lower().startswith(b"multipart/form-data"):
            return max(self.limits.max_upload_bytes, self.limits.max_body_bytes)
        return self.limits.max_body_bytes

    async def read(
        self, receive: Receive, content_type: bytes, length: bytes | None
    ) -> ReceivedBody | None:
        """The body, or None if the client went away while sending it; `RefusedError` if it is
        too large, its `Content-Length` is not a number, or it arrives too slowly."""
        limit = self.limit_for(content_type)
        if length is not None:
            if not length.strip().isdigit():
                raise RefusedError(400, "Bad request", "The Content-Length header is not a number")
            if int(length) > limit:
                raise RefusedError(413, "Payload too large", _too_large(limit))
        lim = self.limits
        body = ReceivedBody(lim.spool_bytes)
        start = time.monotonic()
        deadline = start + lim.total
        try:
            while True:
                now = time.monotonic()
                wait = min(lim.idle, deadline - now)
                if wait <= 0:
                    raise RefusedError(408, "Request timeout", _too_slow(lim))
                try:
                    # `asyncio.timeout`, not `wait_for`: no task made to await each chunk (about
                    # 4 µs against 12 a chunk; most bodies are one chunk).
                    async with asyncio.timeout(wait):
                        message = await receive()
                except TimeoutError:
                    raise RefusedError(408, "Request timeout", _too_slow(lim)) from None
                if message["type"] == "http.disconnect":
                    body.close()
                    return None
                chunk = message.get("body", b"")
                if body.size + len(chunk) > limit:
                    raise RefusedError(413, "Payload too large", _too_large(limit))
                body.write(chunk)
                if not message.get("more_body", False):
                    return body
                elapsed = time.monotonic() - start
                if elapsed > lim.grace and body.size < lim.min_rate * elapsed:
                    raise RefusedError(408, "Request timeout", _too_slow(lim))
        except BaseException:
            body.close()
            raise


class ReceivedBody:
    """A received body: in memory up to `spool_bytes`, then in a temporary file."""

    def __init__(self, spool_bytes: int) -> None:
        self.spool_bytes = spool_bytes
        self.chunks: list[bytes] = []
        self.file: IO[bytes] | None = None
        self.size = 0

    def write(self, chunk: bytes) -> None:
        if not chunk:
            return
        self.size += len(chunk)
        if self.file is None and self.size > self.spool_bytes:
            self.file = tempfile.TemporaryFile(prefix="body-")  # noqa: SIM115 - closed in close()
            for earlier in self.chunks:
                self.file.write(earlier)
            self.chunks = []
        if self.file is not None:
            self.file.write(chunk)
        else:
            self.chunks.append(chunk)

    def close(self) -> None:
        self.chunks = []
        if self.file is not None:
            self.file.close()
            self.file = None

    def replay(self, receive: Receive) -> Receive:
        """A `receive` that hands the app the stored body, then passes on to the client's."""
        if self.file is None:
            pending = [b"".join(self.chunks)]
            self.chunks = []
        else:
            self.file.seek(0)
            pending = None
        done = False

        async def replayed() -> Message:
            nonlocal done
            if done:
                return await receive()  # after the body: the client's disconnect
            if pending is not None:
                done = True
                return {"type": "http.request", "body": pending.pop() if pending else b""}
            assert self.file is not None
            chunk = self.file.read(READ_CHUNK)
            more = self.file.tell() < self.size
            done = not more
            return {"type": "http.request", "body": chunk, "more_body": more}

        return replayed


def _too_large(limit: int) -> str:
    return f"The request body is larger than the {limit // 1024} KiB this route accepts"


def _too_slow(limits: BodyLimitSettings) -> str:
    return (
        f"The request body did not arrive in time (at least {limits.min_rate} bytes a second, "
        f"within {limits.total:g} seconds)"
    )


def body_limits(settings: Any) -> BodyLimitSettings:
    """The limits a service's settings (`ServiceSettings`) ask for."""
    return BodyLimitSettings(
        max_body_bytes=settings.max_body_bytes,
        max_upload_bytes=max(
            settings.max_upload_request_bytes, settings.upload_max_bytes + 256 * 1024
        ),
        total=settings.body_timeout_seconds,
        idle=settings.body_idle_seconds,
        min_rate=settings.body_min_rate_bytes,
        grace=settings.body_grace_seconds,
    )
