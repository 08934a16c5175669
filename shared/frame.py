"""The request frame: the one middleware every request passes through, before and after the app.

In one layer and one pass over the request's headers, in this order:

1. the request id: an incoming `X-Request-ID` kept if it is well-formed, else a new one; set for
   the logs (`request_id_var`) and in `scope["state"]`, and sent back on every answer;
2. a state-changing form post a browser marks as from another site refused with a 403
   (`shared.security.BrowserGuard`);
3. the body received whole within its size and time limits (`shared.limits.BodyReader`), before
   the token check, the admission slot and the database: 413, 408 or 400 otherwise;
4. admission control: at most `max_in_flight` requests inside the app at once; one that cannot get
   in within `max_wait` seconds is answered at once with a 503 and `Retry-After`, so an overloaded
   service sheds load instead of letting every answer slow past the client's patience (health,
   readiness and metrics always get through);
5. the app; its answer, and every refusal above, gets the protective headers of `BrowserGuard`
   and the request id;
6. an unhandled error is answered with the service's error page or a 500 problem that quotes the
   request id (nothing of the error leaks); then one metrics observation and one access-log line,
   with the route's template, never the raw path.

These were four middlewares, each a layer of calls, a wrapped `send` and its own scan of the
headers on every request (bench/README.md, "The per-request floor").
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.limits import BodyLimitSettings, BodyReader, ReceivedBody, RefusedError
from shared.observability import VALID_ID, AccessLog, Metrics, request_id_var
from shared.problems import send_asgi_problem
from shared.routing import route_path
from shared.security import BrowserGuard

if TYPE_CHECKING:
    from starlette.responses import Response

ALWAYS_ADMITTED = frozenset({"/health", "/ready", "/metrics"})


class RequestFrame:
    """Pure ASGI middleware: see the module docstring."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        metrics: Metrics,
        logger_name: str,
        body_limits: BodyLimitSettings,
        max_in_flight: int,
        max_wait: float,
        public_url: str = "",
        error_page: Callable[[Scope], Awaitable[Response | None]] | None = None,
        always_admitted: frozenset[str] = ALWAYS_ADMITTED,
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.logger = logging.getLogger(logger_name)
        self.access = AccessLog(self.logger, metrics.service)
        self.error_page = error_page  # the page a browser gets instead of the problem document
        self.guard = BrowserGuard(public_url)
        self.bodies = BodyReader(body_limits)
        self.slots = asyncio.Semaphore(max_in_flight)
        self.max_wait = max_wait
        self.always_admitted = always_admitted

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        incoming = content_type = length = fetch_site = origin = host = None
        has_body = False
        for name, value in scope.get("headers", ()):
            if name == b"host":
                host = value
            elif name == b"x-request-id":
                if incoming is None:
                    incoming = value
            elif name == b"content-type":
                content_type = value
            elif name == b"content-length":
                length = value
                has_body = True
            elif name == b"transfer-encoding":
                has_body = True
            elif name == b"sec-fetch-site":
                fetch_site = value
            elif name == b"origin":
                origin = value
        request_id = _request_id(incoming)
        token = request_id_var.set(request_id)
        scope.setdefault("state", {})["request_id"] = request_id
        path = route_path(scope)
        id_header = (b"x-request-id", request_id.encode())
        guard = self.guard
        status = 500
        started = False

        async def send_framed(message: Message) -> None:
            nonlocal status, started
            if message["type"] == "http.response.start":
                started = True
                status = message["status"]
                headers = list(message.get("headers", ()))
                guard.add_headers(headers, path)
                headers.append(id_header)
                message["headers"] = headers
            await send(message)

        try:
            if guard.refuses(scope.get("method", "GET"), fetch_site, origin, host):
                await send_asgi_problem(
                    send_framed,
                    scope,
                    403,
                    "Forbidden",
                    "A form of another site cannot be submitted to this service",
                    request_id=request_id,
                )
                return
            body = None
            app_receive = receive
            if has_body:
                body = await self._body(scope, receive, send_framed, content_type, length)
                if body is None:
                    return  # refused, or the client went away while sending
                app_receive = body.replay(receive)
            try:
                if path in self.always_admitted:
                    await self.app(scope, app_receive, send_framed)
                else:
                    await self._admitted(scope, app_receive, send_framed)
            finally:
                if body is not None:
                    body.close()
        except Exception:
            # The app's own 500 handler runs outside this middleware; answer here so that the
            # response still carries the request id, and nothing of the error leaks.
            self.logger.exception("unhandled error")
            if started:
                raise
            await self._failed(scope, receive, send_framed, request_id)  # the client's receive
        finally:
            elapsed = time.perf_counter() - start
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            method = scope.get("method", "")
            self.metrics.observe(method, template, status, elapsed)
            self.access.write(method, template, status, elapsed)
            request_id_var.reset(token)

    async def _body(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        content_type: bytes | None,
        length: bytes | None,
    ) -> ReceivedBody | None:
        try:
            return await self.bodies.read(receive, content_type or b"", length)
        except RefusedError as refused:
            await send_asgi_problem(
                send,
                scope,
                refused.status,
                refused.title,
                refused.detail,
                request_id=request_id_var.get(),
                headers=((b"connection", b"close"),),  # the rest of the body is not read
            )
            return None

    async def _failed(self, scope: Scope, receive: Receive, send: Send, request_id: str) -> None:
        page = await self.error_page(scope) if self.error_page is not None else None
        if page is not None:
            await page(scope, receive, send)
            return
        await send_asgi_problem(
            send,
            scope,
            500,
            "Internal Server Error",
            "An unexpected error occurred. It has been logged; quote the request id.",
            request_id=request_id,
        )

    async def _admitted(self, scope: Scope, receive: Receive, send: Send) -> None:
        slots = self.slots
        try:
            if slots.locked():
                await asyncio.wait_for(slots.acquire(), self.max_wait)
            else:
                await slots.acquire()  # a free slot: no timer, no task, no wait
        except TimeoutError:
            await send_asgi_problem(
                send,
                scope,
                503,
                "Service Unavailable",
                "The service is busy; try again in a moment.",
                request_id=request_id_var.get(),
                headers=((b"retry-after", b"2"),),
            )
            return
        try:
            await self.app(scope, receive, send)
        finally:
            slots.release()


def _request_id(incoming: bytes | None) -> str:
    """The client's `X-Request-ID` if it is well-formed, else a new random one."""
    if incoming is not None:
        text = incoming.decode("latin-1")
        if VALID_ID.match(text):
            return text
    return os.urandom(16).hex()
