"""Request ids, JSON logs and Prometheus metrics.

Every response carries `X-Request-ID` and every log line written while serving it carries the same
id. Metrics go to a registry per app, so three services mounted in one process keep separate
figures.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import logging
import os
import re
import sys
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.routing import route_path

if TYPE_CHECKING:
    from starlette.responses import Response

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "request_id", default=None
)
_VALID_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


class JsonFormatter(logging.Formatter):
    """One JSON object per line, with the request id of the request being served."""

    TIME_FORMAT = "%Y-%m-%dT%H:%M:%S"
    _second: int | None = None
    _stamp = ""

    def _time(self, record: logging.LogRecord) -> str:
        return self._stamp_of(int(record.created))

    def _stamp_of(self, second: int) -> str:
        # The stamp has a resolution of one second: formatted once per second, not per line.
        if second != self._second:
            self._stamp = time.strftime(self.TIME_FORMAT, self.converter(second))
            self._second = second
        return self._stamp

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": self._time(record),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = request_id_var.get()
        if request_id:
            entry["request_id"] = request_id
        for key in ("service", "method", "path", "status", "duration_ms"):
            value = record.__dict__.get(key)
            if value is not None:
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(level: str = "INFO") -> None:
    root = logging.getLogger()
    if any(isinstance(h.formatter, JsonFormatter) for h in root.handlers):
        root.setLevel(level)
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root.handlers = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers = []
        logging.getLogger(name).propagate = True
    logging.getLogger("uvicorn.access").disabled = True


MAX_CACHED_SERIES = 4096
"""Label children kept per app; past this (a client inventing methods), `.labels()` per request."""


class Metrics:
    def __init__(self, service: str) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "http_requests_total",
            "HTTP requests answered",
            ["service", "method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "http_request_duration_seconds",
            "Time to answer an HTTP request",
            ["service", "method", "route"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=self.registry,
        )
        self.service = service
        # (method, route, status) -> the counter's and the histogram's child for those labels:
        # looked up once, not built from a new label tuple on every request.
        self._series: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count one answered request and its duration."""
        key = (method, route, status)
        series = self._series.get(key)
        if series is None:
            series = (
                self.requests.labels(self.service, method, route, str(status)),
                self.latency.labels(self.service, method, route),
            )
            if len(self._series) < MAX_CACHED_SERIES:
                self._series[key] = series
        series[0].inc()
        series[1].observe(seconds)

    def render(self) -> bytes:
        return generate_latest(self.registry)


class AccessLog:
    """One JSON line per answered request on the service's `<service>.access` logger.

    Under the configuration `configure_logging` sets up (the access logger without handlers or
    filters of its own, propagating to the one JSON handler on the root logger) the line is
    written straight to that handler's stream, under its lock, with the same fields in the same
    order as `JsonFormatter` gives them: no `LogRecord`, no dictionary, no `json.dumps` per
    request (the method and route part is encoded once per pair). That path was about a sixth
    of the no-op's time (bench/README.md, "The per-request floor"). Any other configuration (a
    handler or filter added, as tests and some deployments do) gets a normal record through
    `logging`, so nothing configured is bypassed.
    """

    def __init__(self, logger: logging.Logger, service: str) -> None:
        self.logger = logger
        self.service = service
        self._name = json.dumps(logger.name, ensure_ascii=False)
        self._route_part: dict[tuple[str, str], str] = {}

    def write(self, method: str, template: str, status: int, elapsed: float) -> None:
        logger = self.logger
        if not logger.isEnabledFor(logging.INFO):
            return
        handler = self._direct_handler()
        if handler is None:
            # The template, never the raw path: paths can carry identifiers. The record is made
            # directly: `Logger.info` would look up the caller's frame, which no line shows.
            logger.handle(
                logger.makeRecord(
                    logger.name,
                    logging.INFO,
                    __file__,
                    0,
                    "request",
                    (),
                    None,
                    extra={
                        "service": self.service,
                        "method": method,
                        "path": template,
                        "status": status,
                        "duration_ms": round(elapsed * 1000, 2),
                    },
                )
            )
            return
        request_id = request_id_var.get()
        try:
            with handler.lock:  # type: ignore[union-attr]
                line = "".join(
                    (
                        '{"time": "',
                        handler.formatter._stamp_of(int(time.time())),  # type: ignore[union-attr]
                        '", "level": "INFO", "logger": ',
                        self._name,
                        ', "message": "request"',
                        # request ids are checked against _VALID_ID or made here: nothing to escape
                        f', "request_id": "{request_id}"' if request_id else "",
                        self._route(method, template),
                        f', "status": {status}, "duration_ms": {round(elapsed * 1000, 2)}}}\n',
                    )
                )
                handler.stream.write(line)
                handler.flush()
        except Exception:
            # As `logging` does: a broken log stream (a closed pipe) never fails the request.
            handler.handleError(
                logging.makeLogRecord({"name": logger.name, "msg": "request", "levelno": 20})
            )

    def _route(self, method: str, template: str) -> str:
        key = (method, template)
        part = self._route_part.get(key)
        if part is None:
            dumps = json.dumps
            part = (
                f', "service": {dumps(self.service, ensure_ascii=False)}, '
                f'"method": {dumps(method, ensure_ascii=False)}, '
                f'"path": {dumps(template, ensure_ascii=False)}'
            )
            if len(self._route_part) < MAX_CACHED_SERIES:
                self._route_part[key] = part
        return part

    def _direct_handler(self) -> logging.StreamHandler[Any] | None:
        """The root's JSON stream handler if nothing else could see the record, else None."""
        logger: logging.Logger | None = self.logger
        while logger is not None and logger.parent is not None:  # up to the root
            if logger.handlers or logger.filters or not logger.propagate or logger.disabled:
                return None
            logger = logger.parent
        if logger is None or logger.filters or len(logger.handlers) != 1:
            return None
        handler = logger.handlers[0]
        if (
            type(handler) is not logging.StreamHandler
            or type(handler.formatter) is not JsonFormatter
            or handler.filters
            or handler.level > logging.INFO
        ):
            return None
        return handler


class RequestContextMiddleware:
    """Pure ASGI middleware: request id in and out, one access log line and metrics per request."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        metrics: Metrics,
        logger_name: str,
        error_page: Callable[[Scope], Awaitable[Response | None]] | None = None,
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.logger = logging.getLogger(logger_name)
        self.access = AccessLog(self.logger, metrics.service)
        self.error_page = error_page  # the page a browser gets instead of the problem document

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = None
        for name, value in scope.get("headers", ()):
            if name == b"x-request-id":
                incoming = value.decode("latin-1")
                break
        request_id = incoming if incoming and _VALID_ID.match(incoming) else os.urandom(16).hex()
        token = request_id_var.set(request_id)
        scope.setdefault("state", {})["request_id"] = request_id
        status = 500
        started = False
        start = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status, started
            if message["type"] == "http.response.start":
                started = True
                status = message["status"]
                headers = list(message.get("headers", ()))
                headers.append((b"x-request-id", request_id.encode()))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            # The app's own 500 handler runs outside this middleware; answer here so that the
            # response still carries the request id, and nothing of the error leaks.
            self.logger.exception("unhandled error")
            if started:
                raise
            page = await self.error_page(scope) if self.error_page is not None else None
            if page is not None:
                await page(scope, receive, send_with_id)
                return
            await send_with_id(
                {
                    "type": "http.response.start",
                    "status": 500,
                    "headers": [(b"content-type", b"application/problem+json")],
                }
            )
            body = {
                "type": "about:blank",
                "title": "Internal Server Error",
                "status": 500,
                "detail": "An unexpected error occurred. It has been logged; quote the request id.",
                "instance": scope.get("path", ""),
                "request_id": request_id,
            }
            await send_with_id({"type": "http.response.body", "body": json.dumps(body).encode()})
        finally:
            elapsed = time.perf_counter() - start
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            method = scope.get("method", "")
            self.metrics.observe(method, template, status, elapsed)
            self.access.write(method, template, status, elapsed)
            request_id_var.reset(token)


class AdmissionControl:
    """Pure ASGI middleware: at most `max_in_flight` requests inside the app at once.

    A request that cannot get in within `max_wait` seconds is answered at once with a 503 problem
    and `Retry-After`, so an overloaded service sheds load instead of letting every answer slow
    past the client's patience. Health, readiness and metrics always get through.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_in_flight: int,
        max_wait: float,
        exempt: frozenset[str] = frozenset({"/health", "/ready", "/metrics"}),
    ) -> None:
        self.app = app
        self.slots = asyncio.Semaphore(max_in_flight)
        self.max_wait = max_wait
        self.exempt = exempt

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or route_path(scope) in self.exempt:
            await self.app(scope, receive, send)
            return
        try:
            if self.slots.locked():
                await asyncio.wait_for(self.slots.acquire(), self.max_wait)
            else:
                await self.slots.acquire()  # a free slot: no timer, no task
        except TimeoutError:
            body = {
                "type": "about:blank",
                "title": "Service Unavailable",
                "status": 503,
                "detail": "The service is busy; try again in a moment.",
                "instance": scope.get("path", ""),
                "request_id": request_id_var.get(),
            }
            await send(
                {
                    "type": "http.response.start",
                    "status": 503,
                    "headers": [
                        (b"content-type", b"application/problem+json"),
                        (b"retry-after", b"2"),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": json.dumps(body).encode()})
            return
        try:
            await self.app(scope, receive, send)
        finally:
            self.slots.release()
