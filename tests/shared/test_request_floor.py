"""The per-request floor (issue 17): what every request pays is paid once, and nothing is lost.

A verified token is decoded once and trusted until its `exp`, but revocation is still checked on
every request; metrics label children are looked up once; the JSON access log keeps its fields
and is not built when the level is off.
"""

from __future__ import annotations

import io
import json
import logging
import time
from typing import Any

import jwt
import pytest
from sqlalchemy import update

from shared.auth import LocalTokens, SessionEndedError, UnauthorizedError
from shared.folding import declared
from shared.observability import JsonFormatter
from shared.testing import add_account, assert_problem, bearer, client_for


class _Account:
    id = 7
    username = "siti"
    roles = ("applicant",)
    full_name = "Siti"
    unit = None
    token_epoch = 0
    must_change_password = False


def _count_decodes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []
    real = jwt.decode

    def counting(token: str, *args: Any, **kwargs: Any) -> Any:
        calls.append(token)
        return real(token, *args, **kwargs)

    monkeypatch.setattr(jwt, "decode", counting)
    return calls


def test_a_token_is_verified_once_then_trusted_until_it_expires(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    tokens = LocalTokens(secret="s" * 32, issuer="test")
    token, _ = tokens.issue(_Account())  # type: ignore[arg-type]
    calls = _count_decodes(monkeypatch)
    first = tokens.verify(token)
    assert tokens.verify(token) is first
    assert tokens.verify(token).username == "siti"
    assert len(calls) == 1  # the old code decoded (HMAC and claims) on every request

    # A token one second from its end: trusted while valid, refused once `exp` has passed.
    now = int(time.time())
    short, _ = tokens._sign(
        {"sub": "siti", "uid": 7, "iss": "test", "ep": 0, "roles": []}, now - 3600 + 1
    )
    assert tokens.verify(short).username == "siti"
    time.sleep(max(0.0, now + 1 - time.time()) + 0.05)
    with pytest.raises(SessionEndedError):
        tokens.verify(short)
    with pytest.raises(SessionEndedError):  # and again: the expired entry is gone for good
        tokens.verify(short)


def test_a_forged_or_foreign_token_is_never_cached(monkeypatch: pytest.MonkeyPatch) -> None:
    ours = LocalTokens(secret="s" * 32, issuer="test")
    theirs = LocalTokens(secret="t" * 32, issuer="test")
    foreign, _ = theirs.issue(_Account())  # type: ignore[arg-type]
    calls = _count_decodes(monkeypatch)
    for _ in range(2):
        with pytest.raises(UnauthorizedError):
            ours.verify(foreign)
    with pytest.raises(UnauthorizedError):
        ours.verify(foreign[:-2] + "xx")
    assert len(calls) == 3  # each attempt is checked in full
    assert foreign not in ours._verified


async def test_a_cached_token_is_still_refused_once_its_account_is_revoked(
    make_app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = await make_app("sabilulungan")
    await add_account(app, "warga", ["applicant"])
    calls = _count_decodes(monkeypatch)
    async with client_for(app) as client:
        headers = await bearer(client, "warga")
        for _ in range(3):
            assert (await client.get("/api/v1/auth/me", headers=headers)).status_code == 200
        assert len(calls) == 1  # verified once, then from the cache
        model = app.state.models.account
        async with app.state.db.sessionmaker.begin() as session:
            await session.execute(
                update(model).where(model.username == "warga").values(roles=["clerk"])
            )
        app.state.account_epochs.refreshed_at = float("-inf")  # the next refresh is due now
        refused = await client.get("/api/v1/auth/me", headers=headers)
    assert_problem(refused, 401)


async def test_metrics_and_the_access_log_keep_their_names_and_fields(make_app: Any) -> None:
    app = await make_app("hayu")
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    access = logging.getLogger("hayu.access")
    access.addHandler(handler)
    try:
        async with client_for(app) as client:
            for _ in range(3):
                await client.get("/health", headers={"X-Request-ID": "req-12345678"})
            await client.get("/api/v1/public/track/NOPE-0000")
            metrics = (await client.get("/metrics")).text
            access.setLevel(logging.WARNING)
            await client.get("/health")  # the level is off: no line is built
    finally:
        access.removeHandler(handler)
        access.setLevel(logging.NOTSET)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert len(lines) == 5  # three /health, the tracking lookup, /metrics
    first = lines[0]
    assert set(first) == {
        "time",
        "level",
        "logger",
        "message",
        "request_id",
        "service",
        "method",
        "path",
        "status",
        "duration_ms",
    }
    assert first["request_id"] == "req-12345678"
    assert (first["level"], first["logger"], first["message"]) == ("INFO", "hayu.access", "request")
    assert (first["service"], first["method"], first["path"], first["status"]) == (
        "hayu",
        "GET",
        "/health",
        200,
    )
    assert time.strptime(first["time"], "%Y-%m-%dT%H:%M:%S")
    track = lines[3]
    assert track["path"] == "/api/v1/public/track/{tracking_code}"  # the template, not the code
    assert "NOPE" not in json.dumps(lines)
    assert (
        'http_requests_total{method="GET",route="/health",service="hayu",status="200"} 3.0'
        in metrics
    )
    assert (
        'http_request_duration_seconds_count{method="GET",route="/health",service="hayu"} 3.0'
        in metrics
    )


async def test_the_access_line_is_written_without_a_log_record_and_keeps_its_fields(
    make_app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Under the standard configuration the line goes straight to the JSON handler's stream.

    It must be the line `JsonFormatter` writes for the same request (same keys, same order,
    same values but the duration), and no `LogRecord` is made for it (the old path made one).
    """
    app = await make_app("hayu")
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    direct = io.StringIO()
    handler = logging.StreamHandler(direct)
    handler.setFormatter(JsonFormatter())
    access = logging.getLogger("hayu.access")
    made: list[str] = []
    real_make = logging.Logger.makeRecord

    def counting(self: logging.Logger, *args: Any, **kwargs: Any) -> logging.LogRecord:
        made.append(self.name)
        return real_make(self, *args, **kwargs)

    monkeypatch.setattr(logging.Logger, "makeRecord", counting)
    try:
        root.handlers = [handler]  # what configure_logging sets up (pytest's own handler gone)
        root.setLevel(logging.INFO)
        async with client_for(app) as client:
            await client.get(
                "/api/v1/public/track/NOPE-0000", headers={"X-Request-ID": "req-1234567"}
            )
            assert made.count("hayu.access") == 0
            # Another configuration (a filter on the access logger): the record path again.
            access.addFilter(lambda record: True)
            await client.get(
                "/api/v1/public/track/NOPE-0000", headers={"X-Request-ID": "req-1234567"}
            )
            assert made.count("hayu.access") == 1
    finally:
        access.filters.clear()
        root.handlers, level = saved
        root.setLevel(level)
    fast, slow = [line for line in direct.getvalue().splitlines() if '"hayu.access"' in line]
    assert list(json.loads(fast)) == list(json.loads(slow))  # the same keys in the same order
    fast_entry, slow_entry = json.loads(fast), json.loads(slow)
    for entry in (fast_entry, slow_entry):
        del entry["duration_ms"]
        del entry["time"]
    assert fast_entry == slow_entry
    assert fast_entry["path"] == "/api/v1/public/track/{tracking_code}"
    assert fast_entry["status"] == 404
    assert isinstance(json.loads(fast)["duration_ms"], float)


async def test_an_anonymous_request_is_answered_from_its_raw_headers() -> None:
    """No Authorization and no Cookie header: None, without reaching for the app's verifier."""
    from starlette.requests import Request

    from shared.auth import optional_principal

    def request(headers: list[tuple[bytes, bytes]]) -> Request:
        # No "app" in the scope: anything that reads the verifier or the cookies' app fails.
        return Request({"type": "http", "method": "GET", "path": "/x", "headers": headers})

    assert await optional_principal(request([(b"accept", b"*/*")])) is None
    with pytest.raises(KeyError):  # a request with a cookie is still looked at
        await optional_principal(request([(b"cookie", b"session=abc")]))
    with pytest.raises(KeyError):
        await optional_principal(request([(b"authorization", b"Bearer abc")]))


async def test_a_role_check_is_one_dependency_not_a_chain(make_app: Any) -> None:
    """`require_roles` and `CurrentPrincipal` resolve the principal themselves: one level each."""
    from fastapi.routing import APIRoute, iter_route_contexts

    app = await make_app("hayu")
    checked = 0
    for context in iter_route_contexts(app.router.routes):
        route = getattr(context, "original_route", context)
        if not isinstance(route, APIRoute):
            continue
        for dependency in declared(route):
            name = getattr(dependency.call, "__name__", "")
            if name.startswith("require_") or name == "current_principal":
                checked += 1
                assert dependency.dependencies == [], (route.path, name)
    assert checked > 10
    async with client_for(app) as client:
        anonymous = await client.post("/api/v1/applications", json={})
        assert_problem(anonymous, 401)
        await add_account(app, "warga", ["business_owner"])
        headers = await bearer(client, "warga")
        wrong_role = await client.get("/api/v1/lkpm/due", headers=headers)  # an admin's list
    assert_problem(wrong_role, 403)


@pytest.mark.parametrize("service", ["hayu", "erk"])
async def test_a_forged_host_header_does_not_become_the_site_address(
    make_app: Any, service: str
) -> None:
    """Without a configured public URL, links (letters, QR codes) come from the request's host:
    Starlette refuses an invalid Host header and uses the server's address instead."""
    from starlette.requests import Request

    app = await make_app(service)
    assert not app.state.settings.public_url
    module = __import__(f"{service}.dependencies", fromlist=["get_context"])
    scope = {
        "type": "http",
        "method": "GET",
        "path": "/x",
        "scheme": "http",
        "server": ("127.0.0.1", 8000),
        "headers": [(b"host", b"good.example@evil.example")],
        "app": app,
    }
    ctx = await module.get_context(Request(scope))
    assert "evil" not in ctx.base_url
    assert ctx.base_url == "http://127.0.0.1:8000"
    scope["headers"] = [(b"host", b"layanan.example.go.id")]
    assert (await module.get_context(Request(scope))).base_url == "http://layanan.example.go.id"


async def test_a_broken_log_stream_never_fails_the_request(monkeypatch: pytest.MonkeyPatch) -> None:
    """A closed stderr (a closed pipe) is reported as `logging` reports it, not raised."""
    from shared.frame import RequestFrame
    from shared.limits import BodyLimitSettings
    from shared.observability import Metrics

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    broken = io.StringIO()
    handler = logging.StreamHandler(broken)
    handler.setFormatter(JsonFormatter())
    broken.close()
    root = logging.getLogger()
    monkeypatch.setattr(root, "handlers", [handler])
    monkeypatch.setattr(root, "level", logging.INFO)
    monkeypatch.setattr(logging, "raiseExceptions", False)  # as in production: no stderr noise
    middleware = RequestFrame(
        app,
        metrics=Metrics("probe"),
        logger_name="probe.access",
        body_limits=BodyLimitSettings(),
        max_in_flight=1,
        max_wait=1.0,
    )
    scope = {"type": "http", "method": "GET", "path": "/x", "headers": []}
    await middleware(scope, receive, send)  # the old direct write raised ValueError here
    assert sent[0]["status"] == 204


@pytest.mark.parametrize("service", ["hayu", "erk", "sabilulungan"])
async def test_a_route_resolves_its_caller_once(make_app: Any, service: str) -> None:
    """A route-level `dependencies=[role check]` plus a `CurrentPrincipal` parameter were two
    dependencies for FastAPI to resolve (~7 µs each) for one caller: 19 e-RK routes did that."""
    from fastapi.routing import APIRoute

    app = await make_app(service)
    routes = [r for r in app.router.routes if isinstance(r, APIRoute)]
    checked = 0
    for route in routes:
        callers = [
            name
            for dependency in declared(route)
            if (name := getattr(dependency.call, "__name__", "")).startswith("require_")
            or name in ("current_principal", "optional_principal")
        ]
        checked += bool(callers)
        assert len(callers) <= 1, (route.path, sorted(route.methods), callers)
    assert checked > 10


# The e-RK routes whose role check became their caller: the roles each allowed before.
ERK_CALLER_ROLES = {
    ("POST", "/api/v1/units"): {"admin", "hr_admin"},
    ("POST", "/api/v1/employees"): {"admin", "hr_admin", "unit_admin"},
    ("POST", "/api/v1/employees/import"): {"admin", "hr_admin", "unit_admin"},
    ("POST", "/api/v1/employees/{nip}/grades"): {"admin", "hr_admin"},
    ("POST", "/api/v1/employees/{nip}/password"): {"admin", "hr_admin"},
    ("POST", "/api/v1/delegations"): {"admin", "employee", "hr_admin"},
    ("POST", "/api/v1/pay-adjustments"): {"admin", "hr_admin"},
    ("POST", "/api/v1/activities"): {"employee"},
    ("POST", "/api/v1/activities/batch"): {"employee"},
    ("DELETE", "/api/v1/activities/{activity_id}"): {"employee"},
    ("POST", "/api/v1/attendance"): {"admin", "hr_admin", "unit_admin"},
    ("POST", "/api/v1/attendance/import"): {"admin", "hr_admin", "unit_admin"},
    ("POST", "/api/v1/periods/{period}/close"): {"admin", "hr_admin"},
    ("GET", "/api/v1/recaps/{period}.xlsx"): {"admin", "auditor", "hr_admin", "unit_admin"},
    ("GET", "/api/v1/recaps/{period}.csv"): {"admin", "auditor", "hr_admin", "unit_admin"},
    ("GET", "/api/v1/recaps/{period}"): {"admin", "auditor", "hr_admin", "unit_admin"},
    ("GET", "/api/v1/me/recap/{period}"): {"employee"},
    ("POST", "/api/v1/rencana-aksi/import"): {"admin", "employee", "hr_admin", "unit_admin"},
    ("PUT", "/api/v1/activities/{activity_id}/rencana-aksi"): {"employee"},
}


async def test_erk_routes_keep_their_roles_with_the_caller_from_the_check(
    make_app: Any,
) -> None:
    """Each route checks exactly the roles it checked as a route-level dependency, and a
    caller without them is refused before anything is written."""
    from fastapi.routing import APIRoute

    app = await make_app("erk")
    found: dict[tuple[str, str], set[str]] = {}
    for route in app.router.routes:
        if not isinstance(route, APIRoute):
            continue
        for method in route.methods:
            if (method, route.path) not in ERK_CALLER_ROLES:
                continue
            checks = [d.call for d in declared(route) if d.name == "principal"]
            assert len(checks) == 1, route.path
            name = getattr(checks[0], "__name__", "")
            assert name.startswith("require_"), (route.path, name)
            found[(method, route.path)] = set(name.removeprefix("require_").split("_or_"))
    assert found == ERK_CALLER_ROLES
    await add_account(app, "auditor1", ["auditor"])
    async with client_for(app) as client:
        headers = await bearer(client, "auditor1")
        refused = await client.post("/api/v1/activities", json={}, headers=headers)
        anonymous = await client.post("/api/v1/units", json={})
    assert_problem(refused, 403)
    assert_problem(anonymous, 401)


@pytest.mark.parametrize("service", ["hayu", "erk", "sabilulungan"])
async def test_no_route_dependency_runs_through_fastapis_yield_machinery(
    make_app: Any, service: str
) -> None:
    """FastAPI runs a dependency with `yield` through a generator, a context manager around it and
    two cancel scopes: about 60 µs a request against about 15 for a plain dependency. Every route
    that touches the database had one (the session's transaction, now closed by the route's exit
    stack: `tests/shared/test_request_transaction.py`); a keyed write had a second (the
    idempotency handle, which also resolved the caller as a dependency of its own).
    `session_routes` checks that the session is still there to be found."""
    import inspect

    from fastapi.routing import APIRoute

    def tree(dependencies: list[Any]) -> list[Any]:
        calls = []
        for dependency in dependencies:
            calls.append(dependency.call)
            calls.extend(tree(dependency.dependencies))
        return calls

    app = await make_app(service)
    keyed = session_routes = 0
    for route in app.router.routes:
        if not isinstance(route, APIRoute):
            continue
        calls = tree(declared(route))
        names = {getattr(call, "__name__", "") for call in calls}
        keyed += "get_idempotency" in names
        session_routes += "get_session" in names
        with_exit = {
            call
            for call in calls
            if inspect.isasyncgenfunction(call) or inspect.isgeneratorfunction(call)
        }
        assert not with_exit, (route.path, sorted(route.methods), with_exit)
        if "get_idempotency" in names:
            assert calls.count(next(c for c in calls if c.__name__ == "get_idempotency")) == 1
            assert "optional_principal" not in names or any(
                getattr(d.call, "__name__", "") == "optional_principal" for d in declared(route)
            ), (route.path, "the idempotency handle resolves the caller as a dependency")
    assert keyed >= 3
    assert session_routes > 30


@pytest.mark.parametrize("service", ["hayu", "erk", "sabilulungan"])
async def test_fastapis_own_telemetry_export_stays_off_whatever_the_environment(
    make_app: Any, service: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """FastAPI 0.165 exports spans, metrics and logs (a failed request's body, exception
    messages) as soon as an OpenTelemetry provider is configured, from the environment too
    (FASTAPI_OTEL_AUTO_CONFIGURE). Personal data must not leave through it: the services keep
    it off, which also spares every request three provider lookups."""
    import fastapi.telemetry._asgi as native

    monkeypatch.setenv("FASTAPI_OTEL_AUTO_CONFIGURE", "true")
    monkeypatch.setattr(native, "_unconfigured", lambda provider: False)  # providers "set up"
    entered: list[str] = []
    real = native.NativeTelemetry.__call__

    async def watched(self: Any, **kwargs: Any) -> None:
        entered.append(kwargs["scope"]["path"])
        await real(self, **kwargs)

    monkeypatch.setattr(native.NativeTelemetry, "__call__", watched)
    app = await make_app(service)
    async with client_for(app) as client:
        answer = await client.get("/health")
    assert answer.status_code == 200
    assert entered == []


def test_metrics_expose_what_prometheus_clients_own_families_would() -> None:
    """The per-request counters are plain numbers; `/metrics` must still read as prometheus_client's
    own Counter and Histogram would have written the same requests (bounds inclusive, cumulative
    buckets, a sum and a count per method and route)."""
    from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
    from prometheus_client.parser import text_string_to_metric_families

    from shared.observability import LATENCY_BUCKETS, Metrics

    requests = [
        ("GET", "/a", 200, 0.005),  # on a bound: counted in that bucket (le is inclusive)
        ("GET", "/a", 200, 0.0051),
        ("GET", "/a", 200, 0.3),
        ("GET", "/a", 200, 42.0),  # past every bound: only +Inf
        ("GET", "/a", 404, 0.002),
        ("POST", "/b", 201, 1.0),
        ("GET", "unmatched", 404, 0.001),
    ]
    ours = Metrics("svc")
    registry = CollectorRegistry()
    counter = Counter(
        "http_requests_total",
        "HTTP requests answered",
        ["service", "method", "route", "status"],
        registry=registry,
    )
    histogram = Histogram(
        "http_request_duration_seconds",
        "Time to answer an HTTP request",
        ["service", "method", "route"],
        buckets=LATENCY_BUCKETS,
        registry=registry,
    )
    for method, route, status, seconds in requests:
        ours.observe(method, route, status, seconds)
        counter.labels("svc", method, route, str(status)).inc()
        histogram.labels("svc", method, route).observe(seconds)

    def samples(text: bytes) -> set[tuple[str, tuple[tuple[str, str], ...], float]]:
        return {
            (s.name, tuple(sorted(s.labels.items())), round(s.value, 9))
            for family in text_string_to_metric_families(text.decode())
            for s in family.samples
            if not s.name.endswith("_created")
        }

    expected = samples(generate_latest(registry))
    assert samples(ours.render()) == expected
    assert ("http_requests_total", (("method", "GET"), ("route", "/a"), ("service", "svc"),
            ("status", "200")), 4.0) in expected  # fmt: skip


def test_a_client_inventing_methods_cannot_grow_the_metrics() -> None:
    from shared.observability import Metrics

    metrics = Metrics("svc")
    for i in range(500):
        metrics.observe(f"BREW{i}", "unmatched", 405, 0.001)
    metrics.observe("GET", "unmatched", 404, 0.001)
    text = metrics.render().decode()
    assert "BREW" not in text
    assert (
        'http_requests_total{method="OTHER",route="unmatched",service="svc",status="405"} 500.0'
        in text
    )
    assert len(metrics._series) == 2


@pytest.mark.parametrize("service", ["hayu", "erk", "sabilulungan"])
async def test_every_request_passes_one_middleware_of_the_service(
    make_app: Any, service: str
) -> None:
    """Request id, cross-site refusal, body limits, admission, protective headers, metrics and
    the access log are one layer with one pass over the headers (they were four layers, each
    with its own wrapped `send`)."""
    from shared.frame import RequestFrame

    app = await make_app(service)
    assert [m.cls for m in app.user_middleware] == [RequestFrame]


async def test_the_error_page_after_a_crash_gets_the_clients_receive() -> None:
    """The body handed to the app was replayed from a spool that is closed when the app fails;
    the error page is given the client's own `receive`, as before the frame."""
    from shared.frame import RequestFrame
    from shared.limits import BodyLimitSettings
    from shared.observability import Metrics

    async def app(scope: Any, receive: Any, send: Any) -> None:
        raise RuntimeError("a bug before reading the body")

    async def page(scope: Any, receive: Any, send: Any) -> None:
        message = await receive()  # the client's next message, not the closed spool
        await send({"type": "http.response.start", "status": 500, "headers": []})
        await send({"type": "http.response.body", "body": message["type"].encode()})

    async def error_page(scope: Any) -> Any:
        return page

    chunks = [b"x" * 40, b"y" * 40]
    incoming = [
        {"type": "http.request", "body": chunks[0], "more_body": True},
        {"type": "http.request", "body": chunks[1], "more_body": False},
        {"type": "http.disconnect"},
    ]

    async def receive() -> dict[str, Any]:
        return incoming.pop(0)

    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    frame = RequestFrame(
        app,
        metrics=Metrics("probe"),
        logger_name="probe.access",
        body_limits=BodyLimitSettings(spool_bytes=50),  # the body goes to a temporary file
        max_in_flight=1,
        max_wait=1.0,
        error_page=error_page,
    )
    scope = {
        "type": "http",
        "method": "POST",
        "path": "/x",
        "headers": [(b"transfer-encoding", b"chunked"), (b"content-type", b"text/plain")],
    }
    await frame(scope, receive, send)
    assert sent[0]["status"] == 500
    assert sent[1]["body"] == b"http.disconnect"
