"""Request ids, JSON logs and Prometheus metrics.

Every response carries `X-Request-ID` (set by the request frame, `shared.frame`) and every log
line written while serving it carries the same id. Metrics go to a registry per app, so three
services mounted in one process keep separate figures.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import sys
import time
from bisect import bisect_left
from collections.abc import Iterator
from itertools import accumulate
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from prometheus_client.core import Metric

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "request_id", default=None
)
VALID_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
"""An incoming `X-Request-ID` kept as the request's id; any other is replaced by a new one."""


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
"""Access-log route parts kept per app; past this, each is built per request."""

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"})
"""Methods counted under their own name; any other a client invents is counted as `OTHER`, so a
client cannot grow the metrics without bound."""


_BOUNDS = (*(repr(bound) for bound in LATENCY_BUCKETS), "+Inf")  # as prometheus_client writes `le`


class _Series:
    """One (method, route, status): the requests answered, their total time, and how many fell
    in each latency bucket (the last one past the largest bound)."""

    __slots__ = ("buckets", "count", "total")

    def __init__(self) -> None:
        self.count = 0
        self.total = 0.0
        self.buckets = [0] * (len(LATENCY_BUCKETS) + 1)


class Metrics:
    """Requests answered and their latency, per method, route template and status.

    Each request adds to plain counters (one dictionary lookup, one bisection); the Prometheus
    families `http_requests_total` (a counter) and `http_request_duration_seconds` (a histogram
    per method and route) are built from them only when `/metrics` is read: a custom collector,
    the way prometheus_client documents for figures kept elsewhere. prometheus_client's own
    `Counter.inc` and `Histogram.observe` were about a dozen calls and two locks a request.
    Everything runs on the event loop's thread, so the counters need no lock.
    """

    def __init__(self, service: str) -> None:
        self.service = service
        self._series: dict[tuple[str, str, int], _Series] = {}
        self._registry: Any = None  # prometheus_client's, made on the first read of /metrics

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count one answered request and its duration."""
        key = (method, route, status)
        series = self._series.get(key)
        if series is None:
            if method not in METHODS:
                key = ("OTHER", route, status)
            series = self._series.setdefault(key, _Series())
        series.count += 1
        series.total += seconds
        series.buckets[bisect_left(LATENCY_BUCKETS, seconds)] += 1

    def collect(self) -> Iterator[Metric]:
        """The two families, for the registry (prometheus_client's `Collector` protocol)."""
        from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily

        service = self.service
        requests = CounterMetricFamily(
            "http_requests",
            "HTTP requests answered",
            labels=("service", "method", "route", "status"),
        )
        latency: dict[tuple[str, str], _Series] = {}
        for (method, route, status), series in sorted(self._series.items()):
            requests.add_metric((service, method, route, str(status)), series.count)
            merged = latency.setdefault((method, route), _Series())
            merged.count += series.count
            merged.total += series.total
            merged.buckets = [a + b for a, b in zip(merged.buckets, series.buckets, strict=True)]
        durations = HistogramMetricFamily(
            "http_request_duration_seconds",
            "Time to answer an HTTP request",
            labels=("service", "method", "route"),
        )
        for (method, route), series in latency.items():
            cumulative = list(accumulate(series.buckets))
            durations.add_metric(
                (service, method, route),
                buckets=list(zip(_BOUNDS, cumulative, strict=True)),
                sum_value=series.total,
            )
        yield requests
        yield durations

    def render(self) -> bytes:
        # prometheus_client is imported here, on the first scrape: a process that is never
        # scraped does not load it (about 1.2 MB resident), and requests never call it.
        from prometheus_client import CollectorRegistry, generate_latest

        if self._registry is None:
            self._registry = CollectorRegistry()
            self._registry.register(self)
        return generate_latest(self._registry)


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
                        # request ids are checked against VALID_ID or made here: nothing to escape
                        f', "request_id": "{request_id}"' if request_id else "",
                        self._route(method, template),
                        f', "status": {status}, "duration_ms": {round(elapsed * 1000, 2)}}}\n',
                    )
                )
                stream = handler.stream  # as `StreamHandler.emit` and `.flush` do, under the lock
                stream.write(line)
                stream.flush()
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
