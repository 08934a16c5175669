"""Route dispatch that tries only the routes a path can match, in FastAPI's order.

Since FastAPI 0.137 `include_router` keeps each included router as one nested node that matches
its own routes one by one, twice per request (once to match, once to handle). With every
service's API and pages included that way, a request to a route near the end paid for about
forty regular-expression matches and FastAPI's scope bookkeeping around each: measured on the
2-core VM, a no-op route placed after the pages answered 2,250 requests per second against
4,250 for the same route placed first (bench/README.md, "The per-request floor").

Three steps, all done once when the app is built:

- `flatten(app)`: the app's route list becomes the leaf routes themselves, in the order FastAPI
  would try them. It refuses (at start-up) a router included with a prefix of its own: every
  router carries its full prefix, so a leaf's path is the path it is served at and nothing is
  lost by taking it out of its inclusion. No inclusion in the services passes dependencies,
  tags or limits (`tests/shared/test_routing.py` checks that the OpenAPI document is the one
  FastAPI builds from the nested inclusions, for every service).
- `shared.folding.fold(app)`: each route's consecutive dependencies that take only the request
  are resolved in one step instead of one FastAPI level each (that module says when).
- `index(app)`: the router's dispatch looks at the first `DEPTH` path segments and tries only
  the routes whose literal leading segments agree with them, in their original order; a route
  whose path starts with a parameter is tried for every path. The routes left out cannot match
  (their regular expression starts with a different literal), so the first full match, the
  405 for a partial one and every other answer are those of the full list. A path that
  matches nothing in its candidates (404, or the trailing-slash redirect) is handed to the full
  router, which answers it exactly as before.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence

from fastapi import FastAPI
from fastapi.routing import APIRouter, iter_route_contexts
from starlette.routing import BaseRoute
from starlette.types import Receive, Scope, Send

from shared.folding import fold

DEPTH = 4
"""Leading path segments that select the candidate routes."""
MAX_CACHED_KEYS = 1024
"""Distinct leading segments kept with their candidates; past this, computed per request."""


class NestedPrefixError(RuntimeError):
    """A router was included with a prefix of its own: give the router its full prefix."""


def flatten(app: FastAPI) -> None:
    """Replace the app's nested inclusions by their leaf routes, in dispatch order."""
    leaves: list[BaseRoute] = []
    for context in iter_route_contexts(app.router.routes):
        route = context.original_route
        if context.path != getattr(route, "path", None):
            raise NestedPrefixError(
                f"{context.path} is served under a prefix its router does not carry "
                f"({getattr(route, 'path', None)}): give the router its full prefix"
            )
        leaves.append(route)
    app.router.routes[:] = leaves


def literal_head(route: BaseRoute) -> tuple[str, ...] | None:
    """The leading path segments a route matches literally; None: it may match any path."""
    path_format = getattr(route, "path_format", None)
    if not isinstance(path_format, str) or not path_format.startswith("/"):
        return None
    head: list[str] = []
    for segment in path_format[1:].split("/"):
        if "{" in segment:
            break
        head.append(segment)
    return tuple(head)


def route_path(scope: Scope) -> str:
    """The path the routes are matched against: the request's path under the app's root path
    (Starlette's own rule)."""
    path: str = scope["path"]
    root_path: str = scope.get("root_path", "")
    if not root_path or not path.startswith(root_path):
        return path
    if path == root_path:
        return ""
    if path[len(root_path)] == "/":
        return path[len(root_path) :]
    return path


class RouteIndex:
    """The dispatch of `router` (pure ASGI), trying only the candidates of each path."""

    def __init__(self, router: APIRouter) -> None:
        self.router = router
        self.full_dispatch = router.app
        self._heads: list[tuple[BaseRoute, tuple[str, ...] | None]] = []
        self._views: dict[tuple[str, ...], APIRouter] = {}
        self._indexed = -1  # the number of routes indexed (routes are only ever added)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.full_dispatch(scope, receive, send)
            return
        path = route_path(scope)
        if not path.startswith("/"):
            await self.full_dispatch(scope, receive, send)
            return
        scope.setdefault("router", self.router)  # url_for looks for every route there
        await self._view(_key(path)).app(scope, receive, send)

    def _view(self, key: tuple[str, ...]) -> APIRouter:
        if len(self.router.routes) != self._indexed:  # first request, or routes added since
            self._reindex()
        view = self._views.get(key)
        if view is None:
            view = copy.copy(self.router)
            view.routes = [route for route, head in self._heads if _may_match(head, key)]
            view.default = self._fallback
            if len(self._views) < MAX_CACHED_KEYS:
                self._views[key] = view
        return view

    def _reindex(self) -> None:
        self._heads = [(route, literal_head(route)) for route in self.router.routes]
        self._indexed = len(self._heads)
        self._views = {}

    async def _fallback(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Nothing among the candidates: the full router answers (404, or a redirect to the
        # path with or without its trailing slash), exactly as without the index.
        await self.full_dispatch(scope, receive, send)

    def candidates(self, path: str) -> Sequence[BaseRoute]:
        """The routes tried for `path` (for tests and the benchmark's report)."""
        return self._view(_key(path)).routes


def _key(path: str) -> tuple[str, ...]:
    """The first `DEPTH` segments of a path that starts with a slash."""
    return tuple(path[1:].split("/", DEPTH)[:DEPTH])


def _may_match(head: tuple[str, ...] | None, key: tuple[str, ...]) -> bool:
    if head is None:
        return True
    if len(head) >= DEPTH:
        return head[:DEPTH] == key
    # A shorter literal head: the path's first segments must be those (the path may go on).
    return key[: len(head)] == head


def index(app: FastAPI) -> RouteIndex:
    """Put the index in front of the app's router; returns it."""
    route_index = RouteIndex(app.router)
    app.router.middleware_stack = route_index
    return route_index


def optimise(app: FastAPI) -> RouteIndex:
    """`flatten`, `shared.folding.fold`, then `index`: what `shared.app` does once every route
    is added."""
    flatten(app)
    fold(app)
    return index(app)
