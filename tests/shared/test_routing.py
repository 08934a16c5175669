"""Route dispatch by leading segments (shared.routing): the same answers, far fewer matches."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi import APIRouter, FastAPI
from starlette.routing import BaseRoute, Match

from shared import routing
from shared.testing import assert_problem, client_for

SERVICES = ("sabilulungan", "hayu", "erk")


def _sample(path_format: str) -> str:
    return re.sub(r"\{[^}]*\}", "1", path_format)


def _scope(path: str, method: str = "GET") -> dict[str, Any]:
    return {"type": "http", "method": method, "path": path, "root_path": "", "headers": []}


def _paths(app: FastAPI) -> list[str]:
    """Every route's own path with its parameters filled, and paths near them."""
    paths = {"/", "/nowhere", "/api/v1/nowhere/at/all", "/static/app.css", "/api", "/api/v1"}
    for route in app.router.routes:
        path_format = getattr(route, "path_format", None)
        if isinstance(path_format, str):
            sample = _sample(path_format)
            paths.update({sample, sample + "/", sample.rstrip("/") + "/x", sample + "/1/2"})
    return sorted(paths)


@pytest.mark.parametrize("service", SERVICES)
async def test_no_route_that_matches_a_path_is_left_out_of_its_candidates(
    make_app: Any, service: str
) -> None:
    app = await make_app(service)
    index = app.router.middleware_stack
    assert isinstance(index, routing.RouteIndex)
    routes: list[BaseRoute] = list(app.router.routes)
    checked = 0
    for path in _paths(app):
        candidates = index.candidates(path)
        for method in ("GET", "POST"):
            matching = [r for r in routes if r.matches(_scope(path, method))[0] != Match.NONE]
            missing = [r for r in matching if r not in candidates]
            assert not missing, (path, method, missing)
            # and in the same order as the full list
            assert [r for r in candidates if r in matching] == matching
            checked += 1
    assert checked > 100


@pytest.mark.parametrize("service", SERVICES)
async def test_the_flat_app_documents_the_same_api_as_the_nested_inclusions(
    make_app: Any, monkeypatch: pytest.MonkeyPatch, service: str
) -> None:
    flat = await make_app(service)
    monkeypatch.setattr(routing, "optimise", lambda app: None)
    nested = await make_app(service)
    assert any(type(r).__name__ == "_IncludedRouter" for r in nested.router.routes)
    assert not any(type(r).__name__ == "_IncludedRouter" for r in flat.router.routes)
    assert flat.openapi() == nested.openapi()

    # the same routes, in the same order, by path, methods and name
    def listing(app: FastAPI) -> list[tuple[Any, ...]]:
        from fastapi.routing import iter_route_contexts

        return [
            (c.path, sorted(getattr(c, "methods", None) or []), c.name)
            for c in iter_route_contexts(app.router.routes)
        ]

    assert listing(flat) == listing(nested)


async def test_a_tracking_lookup_tries_a_few_routes_not_all_of_them(
    make_app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = await make_app("hayu")
    from fastapi.routing import APIRoute
    from starlette.routing import Mount

    tried: list[str] = []

    def counting(real: Any) -> Any:
        def matches(self: BaseRoute, scope: Any) -> Any:
            tried.append(str(getattr(self, "path", self)))
            return real(self, scope)

        return matches

    for cls in (APIRoute, Mount):  # every leaf route, nested or not (APIRoute calls Route)
        monkeypatch.setattr(cls, "matches", counting(cls.matches))
    async with client_for(app) as client:
        response = await client.get("/api/v1/public/track/NOPE-0000")
    assert_problem(response, 404)  # the lookup's own 404: the route was found
    assert 0 < len(tried) <= 3, tried  # FastAPI's nested inclusions tried about forty


async def test_not_found_method_not_allowed_and_slash_redirects_are_answered_as_before(
    make_app: Any,
) -> None:
    app = await make_app("hayu")
    async with client_for(app) as client:
        assert_problem(await client.get("/api/v1/nowhere"), 404)
        assert (await client.delete("/api/v1/permit-types")).status_code == 405
        redirect = await client.get("/api/v1/permit-types/", follow_redirects=False)
        assert redirect.status_code == 307
        assert redirect.headers["location"].endswith("/api/v1/permit-types")
        assert (await client.get("/health")).status_code == 200


async def test_a_route_added_after_the_app_was_built_is_served(make_app: Any) -> None:
    app = await make_app("hayu")
    async with client_for(app) as client:
        assert (await client.get("/health")).status_code == 200  # the index is built
        late = APIRouter()

        @late.get("/api/v1/late/{value}")
        async def echo(value: str) -> dict[str, str]:
            return {"value": value}

        app.include_router(late)
        assert (await client.get("/api/v1/late/x")).json() == {"value": "x"}


def test_a_router_included_under_a_prefix_of_its_own_is_refused() -> None:
    inner = APIRouter()

    @inner.get("/things")
    async def things() -> list[str]:
        return []

    outer = APIRouter(prefix="/api/v1")
    outer.include_router(inner)
    app = FastAPI()
    app.include_router(outer)
    with pytest.raises(routing.NestedPrefixError, match="/api/v1/things"):
        routing.flatten(app)


@pytest.mark.parametrize(
    ("path_format", "head"),
    [
        ("/", ("",)),
        ("/health", ("health",)),
        ("/api/v1/public/track/{code}", ("api", "v1", "public", "track")),
        ("/{page}", ()),
        ("/files/a{x}.pdf", ("files",)),
        ("/static/{path}", ("static",)),
    ],
)
def test_literal_heads(path_format: str, head: tuple[str, ...]) -> None:
    class Route(BaseRoute):
        def __init__(self) -> None:
            self.path_format = path_format

    assert routing.literal_head(Route()) == head
