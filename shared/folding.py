"""A route's dependencies that take only the request, resolved in one step instead of one each.

FastAPI resolves every dependency of a route as a level of its own (`solve_dependencies` again,
the callable's kind looked up three times, its cache key built, the query, headers and cookies
read for parameters it has none of): about 85 Python calls per dependency, measured with a route
of one to four dependencies that each take only the request (bench/README.md, "The per-request
floor"). Almost every dependency in the services is of that kind: the request context, the
session, the caller and its role check, the page viewer. A write route has three of them in a
row, a bare ORM request costs about 280 calls in all.

`fold(app)`, done once when the app is built (`shared.routing.optimise`), replaces each run of
two or more consecutive such dependencies of a route by one dependency that calls them in
FastAPI's order (each one's own dependencies first, each callable once per request, as FastAPI's
per-request cache does) and gives the route's function the same values under the same names.
What a route does is unchanged: the same callables run in the same order, before the body is
validated and before any later dependency; an exception from one of them is raised as before;
the OpenAPI document is unchanged (a dependency that takes only the request adds nothing to it).

Folded only when that holds by construction:

- a dependency is foldable when it is a coroutine function (not a generator, not run in a
  thread), takes the request (`request: Request`) and nothing but other foldable dependencies,
  has no security scopes, is cached (`use_cache`) and has no scope of its own;
- a run is folded only if none of its callables is also reached elsewhere in the route's
  dependencies (FastAPI would then resolve it a second time: a second transaction, say), and
  only when the route's function is a coroutine function (its wrapper is one);
- an app with `dependency_overrides` for a folded callable is refused at the request (an
  override could take other parameters): override the app's state instead.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from fastapi import FastAPI
from fastapi import routing as fastapi_routing
from fastapi.dependencies.models import (
    Dependant,
    _is_async_gen_callable,
    _is_coroutine_callable,
    _is_gen_callable,
    _is_security_scheme,
)
from fastapi.routing import APIRoute
from starlette.requests import Request

FOLDED_PREFIX = "_shared_folded_"
"""The keyword under which a folded run's values reach the route function's wrapper."""


class FoldedOverrideError(RuntimeError):
    """`app.dependency_overrides` names a dependency that was folded into one step."""


def foldable(dependant: Dependant) -> bool:
    """Takes the request and nothing but other foldable dependencies; awaited in the loop."""
    call = dependant.call
    if (
        call is None
        or dependant.request_param_name is None
        or dependant.path_params
        or dependant.query_params
        or dependant.header_params
        or dependant.cookie_params
        or dependant.body_params
        or dependant.websocket_param_name
        or dependant.http_connection_param_name
        or dependant.response_param_name
        or dependant.background_tasks_param_name
        or dependant.security_scopes_param_name
        or dependant.own_oauth_scopes
        or dependant.scope is not None
        or not dependant.use_cache
        or dependant.concurrency is not None  # `max_concurrency`: FastAPI's semaphore
        or _is_security_scheme(dependant=dependant)  # it belongs in the OpenAPI document
        or getattr(call, "__folded__", False)
    ):
        return False
    if not _is_coroutine_callable(call) or _is_gen_callable(call) or _is_async_gen_callable(call):
        return False
    return all(foldable(sub) for sub in dependant.dependencies)


def _calls(dependants: Sequence[Dependant]) -> Iterator[Callable[..., Any]]:
    for dependant in dependants:
        yield from _calls(dependant.dependencies)
        if dependant.call is not None:
            yield dependant.call


class _Plan:
    """The steps of one folded run, in FastAPI's order, each callable once."""

    __slots__ = ("calls", "outputs", "steps")

    def __init__(self, run: Sequence[Dependant]) -> None:
        # A step: (callable, name of its request parameter, (parameter name, step index), ...).
        self.steps: list[tuple[Callable[..., Any], str, tuple[tuple[str, int], ...]]] = []
        self.calls: dict[Callable[..., Any], int] = {}
        self.outputs = tuple((dependant.name, self._add(dependant)) for dependant in run)

    def _add(self, dependant: Dependant) -> int:
        call = dependant.call
        assert call is not None
        assert dependant.request_param_name is not None
        # As FastAPI: a dependency's own dependencies first, then it (from the cache if seen).
        args: list[tuple[str, int]] = []
        for sub in dependant.dependencies:
            index = self._add(sub)
            if sub.name is not None:  # None: a dependency without a parameter
                args.append((sub.name, index))
        if call in self.calls:
            return self.calls[call]
        self.steps.append((call, dependant.request_param_name, tuple(args)))
        self.calls[call] = len(self.steps) - 1
        return self.calls[call]

    def resolver(self) -> Callable[[Request], Any]:
        steps = tuple(self.steps)
        calls = tuple(self.calls)

        async def resolve(request: Request) -> list[Any]:
            if request.app.dependency_overrides:
                _refuse_overrides(request.app, calls)
            values: list[Any] = []
            for call, request_name, args in steps:
                if args:
                    kwargs = {name: values[index] for name, index in args}
                    kwargs[request_name] = request
                    values.append(await call(**kwargs))
                else:
                    values.append(await call(**{request_name: request}))
            return values

        resolve.__folded__ = True  # type: ignore[attr-defined]
        return resolve


def _refuse_overrides(app: FastAPI, calls: Sequence[Callable[..., Any]]) -> None:
    for call in calls:
        if call in app.dependency_overrides:
            raise FoldedOverrideError(
                f"{getattr(call, '__qualname__', call)!r} is resolved with other dependencies in "
                "one step (shared.folding) and cannot be overridden: replace what it reads from "
                "the app's state instead"
            )


def _runs(dependencies: Sequence[Dependant]) -> list[tuple[int, int]]:
    """(start, end) of each run of two or more consecutive foldable dependencies."""
    runs: list[tuple[int, int]] = []
    start = None
    for position, dependant in enumerate([*dependencies, None]):
        if dependant is not None and foldable(dependant):
            start = position if start is None else start
            continue
        if start is not None and position - start >= 2:
            runs.append((start, position))
        start = None
    return runs


def fold_route(route: APIRoute) -> bool:
    """Fold the route's runs of request-only dependencies; True if anything was folded."""
    dependant = route.dependant
    endpoint = dependant.call
    if endpoint is None or getattr(endpoint, "__folded__", False):
        return False
    if not _is_coroutine_callable(endpoint):
        return False  # a function FastAPI runs in a thread: its wrapper would not be one
    if any(name.startswith(FOLDED_PREFIX) for name in inspect.signature(endpoint).parameters):
        return False  # its own parameter would be taken for a folded run's values
    dependencies = dependant.dependencies
    folds: list[tuple[int, int, _Plan]] = []
    for start, end in _runs(dependencies):
        inside = set(_calls(dependencies[start:end]))
        outside = set(_calls(dependencies[:start])) | set(_calls(dependencies[end:]))
        if inside & outside:
            continue  # FastAPI would resolve the shared callable again: leave the run as it is
        folds.append((start, end, _Plan(dependencies[start:end])))
    if not folds:
        return False
    replaced: list[Dependant] = []
    position = 0
    unfold: list[tuple[str, tuple[tuple[str | None, int], ...]]] = []
    for number, (start, end, plan) in enumerate(folds):
        key = f"{FOLDED_PREFIX}{number}"
        replaced.extend(dependencies[position:start])
        replaced.append(
            Dependant(
                call=plan.resolver(),
                name=key,
                request_param_name="request",
                path=dependant.path,
            )
        )
        unfold.append((key, plan.outputs))
        position = end
    replaced.extend(dependencies[position:])

    @functools.wraps(endpoint)
    async def call(**values: Any) -> Any:
        for key, outputs in unfold:
            folded = values.pop(key)
            for name, index in outputs:
                if name is not None:
                    values[name] = folded[index]
        return await endpoint(**values)

    call.__folded__ = True  # type: ignore[attr-defined]
    _name_in_errors(call, endpoint)
    call.__declared__ = list(dependencies)  # type: ignore[attr-defined]
    # The handler FastAPI built for the route holds this same `Dependant`: changed in place.
    dependant.dependencies[:] = replaced
    dependant.call = call
    return True


def _name_in_errors(wrapper: Callable[..., Any], endpoint: Callable[..., Any]) -> None:
    """FastAPI names the route's function (file, line) in its validation errors, looked up once
    per function and kept by its id: give the wrapper the function's own entry. The endpoint's
    entry is looked up afresh: one left by a freed function whose id it now has would be wrong."""
    cache = getattr(fastapi_routing, "_endpoint_context_cache", None)
    extract = getattr(fastapi_routing, "_extract_endpoint_context", None)
    if isinstance(cache, dict) and extract is not None:
        cache.pop(id(endpoint), None)
        cache[id(wrapper)] = extract(endpoint)


def declared(route: APIRoute) -> list[Dependant]:
    """The route's dependencies as its function declares them, folded or not."""
    return list(getattr(route.dependant.call, "__declared__", route.dependant.dependencies))


def fold(app: FastAPI) -> int:
    """Fold every API route of the app (`fold_route`); the number of routes folded."""
    return sum(fold_route(route) for route in app.router.routes if isinstance(route, APIRoute))
