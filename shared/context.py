"""What the services' request contexts share: the site's address and a context at a new moment.

Every route of every service resolves its service's `Context` (configuration, calendar, keys and
the moment), so what it costs is paid on every request. Measured in-process on the 2-core VM
(bench/README.md, "The per-request floor"), HAYU's context cost ~33 µs a request: ~18 µs of it
parsing the request's URL twice for the site address (`request.base_url`, `request.url`), the rest
building a frozen dataclass from six `app.state` lookups. Here:

- `request_origin(scope)`: the site address a request was made to, computed by Starlette's own
  URL objects (an invalid Host header falls back to the server's address, so `Host:
  good@evil.example` never becomes a link in a letter or a QR code), cached per (scheme, Host
  header, server, root path): a service answers under a handful of addresses.
- `url_path(scope)`: `request.url.path` without building the URL (the idempotency scope and the
  password-change check read it on every authenticated or keyed request).
- `AppState`: `app.state` whose values are read as plain attributes. Starlette's `State` answers
  every read through `__getattr__`, after the normal lookup has failed: ~1.2 µs a read against
  ~0.05 µs, and a request reads it about ten times (context, principal, session, metrics).
- `kept(state, key, sources, build)`: the per-app part of a context, kept on the state and built
  again when one of the state values it was built from is replaced.
- `evolve(ctx, **changes)`: `dataclasses.replace` without running the dataclass's `__init__`
  again: the fields not named are the same objects, so the services build the parts that do
  not change while the app runs once and give each request its own `now`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from starlette.datastructures import URL, State
from starlette.requests import Request
from starlette.types import Scope

T = TypeVar("T")

# Longer Host headers (no valid host name is) are computed every time instead of being kept.
_CACHED_HOST_BYTES = 300


@functools.lru_cache(maxsize=64)
def _origin(scheme: str, host: bytes | None, server: tuple[str, int] | None, root: str) -> str:
    headers = [(b"host", host)] if host is not None else []
    request = Request(
        {
            "type": "http",
            "scheme": scheme,
            "server": server,
            "headers": headers,
            "path": "/",
            "root_path": root,
            "query_string": b"",
        }
    )
    return f"{request.base_url.scheme}://{request.url.netloc}{root.rstrip('/')}"


def request_origin(scope: Scope) -> str:
    """`scheme://host[:port][root path]` of a request, as Starlette reads it (no final slash)."""
    host: bytes | None = None
    for name, value in scope.get("headers", ()):
        if name == b"host":  # the first one, as Starlette's `Headers.get`
            host = value
            break
    server = scope.get("server")
    key = (
        str(scope.get("scheme", "http")),
        host,
        tuple(server) if server is not None else None,
        str(scope.get("root_path", "")),
    )
    if host is not None and len(host) > _CACHED_HOST_BYTES:
        return _origin.__wrapped__(*key)
    return _origin(*key)


class AppState(State):
    """Starlette's `State` with each value also kept as an instance attribute (read directly)."""

    def __init__(self, state: dict[str, Any] | None = None) -> None:
        super().__init__(state)
        self.__dict__.update(self._state)

    def __setattr__(self, key: str, value: Any) -> None:
        self._state[key] = value
        self.__dict__[key] = value

    def __delattr__(self, key: str) -> None:
        del self._state[key]
        self.__dict__.pop(key, None)

    def __setitem__(self, key: str, value: Any) -> None:
        self.__setattr__(key, value)

    def __delitem__(self, key: str) -> None:
        self.__delattr__(key)


_REMOVED_BY_URLSPLIT = ("\t", "\r", "\n")


def url_path(scope: Scope) -> str:
    """`Request(scope).url.path`: the raw path with Starlette's escapes, no URL object built."""
    path: str = scope["path"]
    if (
        not path.startswith("/")
        or path.startswith("//")
        or any(c in path for c in _REMOVED_BY_URLSPLIT)
    ):
        # `urlsplit` drops these characters, and reads a path without its leading slash or
        # with two as something else: its answer, not a copy of it
        return URL(scope=scope).path
    return path.replace("?", "%3F").replace("#", "%23").replace("\\", "%5C")


def evolve(ctx: T, **changes: Any) -> T:
    """A copy of a (frozen, non-slotted) dataclass instance with some fields changed.

    The same result as `dataclasses.replace` for a dataclass without `__post_init__` or
    init-only fields, in about a fifth of the time: the instance's attributes are copied as
    they are and the named ones set, without validating or rebuilding the others.
    """
    clone = object.__new__(type(ctx))
    attributes = clone.__dict__
    attributes.update(ctx.__dict__)
    for name in changes:
        if name not in attributes:
            raise TypeError(f"{type(ctx).__name__} has no field {name!r}")
    attributes.update(changes)
    return clone


def kept(state: Any, key: str, sources: tuple[str, ...], build: Callable[[], T]) -> T:
    """The value kept on `state` under `key`, built by `build()` on first use and again whenever
    one of the state's attributes named in `sources` is no longer the object it was built from
    (a key rotation, a test swapping the configuration)."""
    entry: tuple[tuple[Any, ...], T] | None = getattr(state, key, None)
    if entry is not None:
        # A plain loop, no generator: this runs on every request (a generator per check cost
        # about 19 Python calls a request).
        for name, source in zip(sources, entry[0], strict=True):
            if getattr(state, name) is not source:
                break
        else:
            return entry[1]
    entry = (tuple(getattr(state, name) for name in sources), build())
    setattr(state, key, entry)
    return entry[1]
