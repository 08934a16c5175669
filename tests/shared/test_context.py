"""The services' request contexts: built once per app, given a moment and an address per request.

Every route resolves its service's context, so its cost is on every request (issue 17): the
site address is no longer parsed from the request's URL twice per request, and the parts that do
not change while the app runs are not rebuilt; what a context holds is unchanged.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pytest
from starlette import datastructures
from starlette.requests import Request

from shared.context import evolve, request_origin, url_path


def _scope(host: bytes | None, **extra: Any) -> dict[str, Any]:
    scope: dict[str, Any] = {
        "type": "http",
        "method": "GET",
        "path": "/api/v1/x",
        "root_path": "",
        "scheme": "http",
        "server": ("127.0.0.1", 8000),
        "query_string": b"",
        "headers": [(b"accept", b"*/*")] + ([(b"host", host)] if host is not None else []),
    }
    scope.update(extra)
    return scope


def _starlette_origin(scope: dict[str, Any]) -> str:
    """The expression the services used before (two URL parses per request)."""
    request = Request(scope)
    root = str(scope.get("root_path", "")).rstrip("/")
    return f"{request.base_url.scheme}://{request.url.netloc}{root}"


@pytest.mark.parametrize(
    ("host", "extra"),
    [
        (b"layanan.example.go.id", {}),
        (b"layanan.example.go.id:8443", {"scheme": "https"}),
        (b"good.example@evil.example", {}),  # invalid: the server's address instead
        (b"evil.example/path", {}),
        (b"[::1]:8000", {}),
        (b"127.0.0.1:80", {}),
        (b"", {}),
        (None, {}),
        (None, {"server": ("::1", 443), "scheme": "https"}),
        (None, {"server": None}),
        (b"kota.example", {"root_path": "/hayu/"}),
        (b"kota.example", {"root_path": "/erk"}),  # the same host under another root path
        (b"kota.example", {}),
        (b"kota.example", {"scheme": "https"}),  # and under another scheme: not the cached one
        (b"x" * 400, {}),  # too long to be kept: computed each time, same answer
    ],
)
def test_the_origin_is_starlettes_reading_of_the_request(host: bytes | None, extra: Any) -> None:
    scope = _scope(host, **extra)
    assert request_origin(scope) == _starlette_origin(scope)
    assert request_origin(scope) == _starlette_origin(scope)  # and again, from the cache


def test_the_origin_takes_the_first_host_header_as_starlette_does() -> None:
    scope = _scope(b"first.example")
    scope["headers"].append((b"host", b"second.example"))
    assert request_origin(scope) == "http://first.example" == _starlette_origin(scope)


def _count_urls(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    made: list[int] = []
    real = datastructures.URL.__init__

    def counting(self: Any, *args: Any, **kwargs: Any) -> None:
        made.append(1)
        real(self, *args, **kwargs)

    monkeypatch.setattr(datastructures.URL, "__init__", counting)
    return made


@pytest.mark.parametrize("service", ["hayu", "erk"])
async def test_a_request_context_parses_no_url_for_a_known_address(
    make_app: Any, service: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before: `request.base_url` and `request.url` were parsed on every request (~18 µs)."""
    app = await make_app(service)
    module = __import__(f"{service}.dependencies", fromlist=["get_context"])
    scope = _scope(b"layanan.example.go.id", app=app)
    first = await module.get_context(Request(scope))
    made = _count_urls(monkeypatch)
    contexts = [await module.get_context(Request(dict(scope))) for _ in range(5)]
    assert made == []
    assert {c.base_url for c in contexts} == {first.base_url} == {"http://layanan.example.go.id"}


@pytest.mark.parametrize("service", ["hayu", "erk", "sabilulungan"])
async def test_each_request_gets_its_own_moment_and_the_apps_current_configuration(
    make_app: Any, service: str
) -> None:
    app = await make_app(service)
    module = __import__(f"{service}.dependencies", fromlist=["context_of"])
    moments = iter(
        [dt.datetime(2026, 12, 7, 1, tzinfo=dt.UTC), dt.datetime(2026, 12, 8, 1, tzinfo=dt.UTC)]
    )
    app.state.clock = lambda: next(moments)
    first = module.context_of(app.state, "http://a.example")
    second = module.context_of(app.state, "http://b.example")
    assert (first.now.day, second.now.day) == (7, 8)
    assert first.today == dt.date(2026, 12, 7)
    assert second.today == dt.date(2026, 12, 8)
    assert first.calendar is second.calendar  # the fixed part is shared, not rebuilt
    if service != "sabilulungan":  # Sabilulungan's address is its configured public URL only
        assert (first.base_url, second.base_url) == ("http://a.example", "http://b.example")
        # A replaced configuration (a test, a reload) is what the next context holds.
        replaced = app.state.config.model_copy(deep=True)
        app.state.config = replaced
        app.state.clock = lambda: dt.datetime(2026, 12, 9, 1, tzinfo=dt.UTC)
        assert module.context_of(app.state, "").config is replaced


@dataclasses.dataclass(frozen=True)
class _Frozen:
    a: int
    b: tuple[int, ...]
    now: dt.datetime
    c: str = "x"

    @property
    def doubled(self) -> int:
        return self.a * 2


def test_evolve_is_replace_without_rebuilding() -> None:
    base = _Frozen(a=1, b=(1, 2), now=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    moment = dt.datetime(2026, 12, 7, tzinfo=dt.UTC)
    clone = evolve(base, now=moment)
    assert clone == dataclasses.replace(base, now=moment)
    assert clone is not base
    assert clone.b is base.b
    assert clone.doubled == 2
    assert base.now.year == 2026
    assert base.now.month == 1
    with pytest.raises(dataclasses.FrozenInstanceError):
        clone.a = 3  # type: ignore[misc]
    with pytest.raises(TypeError, match="no field 'when'"):
        evolve(base, when=moment)


async def test_a_replaced_key_is_what_the_next_hayu_context_holds(make_app: Any) -> None:
    """The per-app part holds the signer and the field cipher: a key rotation (or a test's
    swap) after the first request must reach the next context, as before the cache."""
    from hayu.dependencies import context_of
    from shared.crypto import FieldCipher
    from shared.signing import Signer

    app = await make_app("hayu")
    first = context_of(app.state, "")
    app.state.signer = Signer.generate()
    app.state.cipher = FieldCipher(b"k" * 32)
    second = context_of(app.state, "")
    assert second.signer is app.state.signer
    assert second.cipher is app.state.cipher
    assert first.signer is not second.signer


async def test_sabilulungans_non_recipient_states_follow_its_refused_and_withdrawn(
    make_app: Any,
) -> None:
    from sabilulungan.dependencies import context_of

    app = await make_app("sabilulungan")
    ctx = context_of(app.state)
    assert ctx.not_recipient_states == ctx.refused_states | ctx.withdrawn_states
    assert ctx.refused_states
    assert ctx.withdrawn_states
    changed = evolve(ctx, refused_states=frozenset({"ditolak_x"}))
    assert changed.not_recipient_states == {"ditolak_x"} | ctx.withdrawn_states


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/applications",
        "/a?b",
        "/a#b",
        "/a\\b",
        "/ü/%20/x",
        "/a\tb",
        "/a\nb",
        "/",
        "/a b",
        "*",
        "//a",
        "",
    ],
)
@pytest.mark.parametrize("host", [b"kota.example", None])
def test_url_path_is_starlettes_request_url_path(path: str, host: bytes | None) -> None:
    scope = _scope(host, path=path, query_string=b"x=1", server=None)
    assert url_path(scope) == Request(scope).url.path


def test_app_state_reads_values_as_attributes_and_behaves_as_starlettes() -> None:
    from starlette.datastructures import State

    from shared.context import AppState

    state = AppState({"config": 1})
    assert state.config == 1
    state.clock = "c"
    assert (state.clock, state._state["clock"]) == ("c", "c")
    state.clock = "d"  # replaced: both views follow
    assert (state.clock, state._state["clock"]) == ("d", "d")
    del state.clock
    assert not hasattr(state, "clock")
    assert "clock" not in state._state
    assert getattr(state, "clock", None) is None
    with pytest.raises(AttributeError):
        _ = state.missing
    with pytest.raises(KeyError):
        del state.missing
    assert isinstance(state, State)
    state.x = 1
    state["x"] = 2  # Starlette's item access keeps both views too
    assert (state.x, state._state["x"]) == (2, 2)
    del state["x"]
    assert not hasattr(state, "x")
    assert "x" not in state._state


@pytest.mark.parametrize("service", ["hayu", "erk", "sabilulungan"])
async def test_a_request_reads_the_app_state_without_getattr(
    make_app: Any, service: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Starlette's `State.__getattr__` runs after a failed normal lookup (~1.2 µs a read); the
    services read `app.state` about ten times a request. Before: every one of them."""
    from starlette.datastructures import State

    from shared.testing import client_for

    app = await make_app(service)
    reads: list[str] = []
    real = State.__getattr__

    def counting(self: State, key: str) -> Any:
        if self is app.state:
            reads.append(key)
        return real(self, key)

    module = __import__(f"{service}.dependencies", fromlist=["get_context"])
    await module.get_context(Request(_scope(b"kota.example", app=app)))  # built on first use
    async with client_for(app) as client:
        assert (await client.get("/health")).status_code == 200
        monkeypatch.setattr(State, "__getattr__", counting)
        anonymous = await client.get("/api/v1/auth/me")  # the principal, a problem
        assert anonymous.status_code == 401
        if service != "erk":  # a public route with the context and a session (e-RK has none)
            path = {"hayu": "/api/v1/public/track/NOPE", "sabilulungan": "/api/v1/track/NOPE"}
            assert (await client.get(path[service])).status_code == 404
    await module.get_context(Request(_scope(b"kota.example", app=app)))
    assert reads == []


def test_kept_builds_once_and_again_when_a_source_is_replaced() -> None:
    from types import SimpleNamespace

    from shared.context import kept

    state = SimpleNamespace(config=object(), signer=object())
    built: list[int] = []

    def build() -> int:
        built.append(1)
        return len(built)

    assert kept(state, "part", ("config", "signer"), build) == 1
    assert kept(state, "part", ("config", "signer"), build) == 1  # nothing replaced
    state.signer = object()
    assert kept(state, "part", ("config", "signer"), build) == 2
    state.config = state.config  # the same object again: not a replacement
    assert kept(state, "part", ("config", "signer"), build) == 2


def test_kept_checks_its_sources_without_python_calls_of_its_own() -> None:
    """It runs on every request: when nothing was replaced, no generator or helper is entered
    (a generator per check cost about 19 Python calls a request; issue 17)."""
    import sys
    from types import SimpleNamespace

    from shared.context import kept

    state = SimpleNamespace(config=object(), signer=object(), cipher=object())
    sources = ("config", "signer", "cipher")
    kept(state, "part", sources, object)
    entered: list[str] = []

    def profile(frame: Any, event: str, arg: Any) -> None:
        if event == "call":
            entered.append(frame.f_code.co_name)

    sys.setprofile(profile)
    try:
        kept(state, "part", sources, object)
    finally:
        sys.setprofile(None)
    assert entered == ["kept"]
