"""Request-only dependencies resolved in one step (`shared.folding`, issue 17).

Each behaviour is compared with the same app left to FastAPI: the same callables run in the same
order, once each, before the body is validated; the same answers, the same refusals; nothing is
folded where FastAPI would resolve a callable a second time or run the function in a thread.
"""

# No `from __future__ import annotations`: FastAPI must see the closures' `Depends` annotations.
from typing import Annotated, Any

import httpx
import pytest
from fastapi import Depends, FastAPI, Header, HTTPException, Request
from fastapi.routing import APIRoute
from pydantic import BaseModel

from shared import folding
from shared.testing import client_for


def _app(calls: list[str]) -> FastAPI:
    """Routes with request-only dependencies in the shapes the services use."""

    async def context(request: Request) -> str:
        calls.append("context")
        return "ctx"

    async def principal(request: Request) -> str | None:
        calls.append("principal")
        token = request.headers.get("authorization")
        return token.removeprefix("Bearer ") if token else None

    async def caller(request: Request, who: Annotated[str | None, Depends(principal)]) -> str:
        calls.append("caller")
        if who is None:
            raise HTTPException(401, "sign in")
        if who != "clerk":
            raise HTTPException(403, "not yours")
        return who

    async def session(request: Request) -> str:
        calls.append("session")
        return "session"

    async def audit(request: Request) -> None:
        calls.append("audit")

    async def keyed(
        request: Request,
        s: Annotated[str, Depends(session)],
        key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
    ) -> str:
        calls.append("keyed")
        return f"{s}:{key}"

    async def gen(request: Request) -> Any:
        calls.append("gen")
        yield "gen"

    class Body(BaseModel):
        amount: int

    app = FastAPI()

    @app.post("/write/{code}", dependencies=[Depends(audit)])
    async def write(
        code: str,
        body: Body,
        ctx: Annotated[str, Depends(context)],
        s: Annotated[str, Depends(session)],
        who: Annotated[str, Depends(caller)],
        again: Annotated[str | None, Depends(principal)],
    ) -> dict[str, Any]:
        calls.append("endpoint")
        return {"code": code, "amount": body.amount, "ctx": ctx, "s": s, "who": who, "p": again}

    @app.get("/shared")
    async def shared_session(
        ctx: Annotated[str, Depends(context)],
        s: Annotated[str, Depends(session)],
        k: Annotated[str, Depends(keyed)],
    ) -> dict[str, Any]:
        calls.append("endpoint")
        return {"ctx": ctx, "s": s, "k": k}

    @app.get("/runs")
    async def two_runs(
        ctx: Annotated[str, Depends(context)],
        who: Annotated[str | None, Depends(principal)],
        key: Annotated[str | None, Header(alias="X-Key")] = None,
        g: Annotated[str, Depends(gen)] = "",
        a: Annotated[None, Depends(audit)] = None,
        s: Annotated[str, Depends(session)] = "",
    ) -> dict[str, Any]:
        calls.append("endpoint")
        return {"ctx": ctx, "who": who, "key": key, "g": g, "s": s}

    @app.get("/sync")
    def in_a_thread(
        ctx: Annotated[str, Depends(context)], s: Annotated[str, Depends(session)]
    ) -> dict[str, Any]:
        calls.append("endpoint")
        return {"ctx": ctx, "s": s}

    return app


REQUESTS: list[tuple[str, str, dict[str, Any]]] = [
    ("POST", "/write/A1", {"json": {"amount": 5}, "headers": {"authorization": "Bearer clerk"}}),
    ("POST", "/write/A1", {"json": {"amount": "x"}}),  # no caller and a bad body: 401 first
    ("POST", "/write/A1", {"json": {"amount": "x"}, "headers": {"authorization": "Bearer x"}}),
    ("POST", "/write/A1", {"json": {"amount": "x"}, "headers": {"authorization": "Bearer clerk"}}),
    ("GET", "/shared", {"headers": {"idempotency-key": "k1"}}),
    ("GET", "/runs", {"headers": {"x-key": "v", "authorization": "Bearer p"}}),
    ("GET", "/sync", {}),
]


async def _answers(app: FastAPI, calls: list[str]) -> list[tuple[int, Any, list[str]]]:
    seen = []
    async with client_for(app) as client:
        for method, path, kwargs in REQUESTS:
            calls.clear()
            response = await client.request(method, path, **kwargs)
            seen.append((response.status_code, response.json(), list(calls)))
    return seen


async def test_folded_routes_answer_and_call_exactly_as_fastapi_does() -> None:
    plain_calls: list[str] = []
    folded_calls: list[str] = []
    plain = _app(plain_calls)
    folded = _app(folded_calls)
    assert folding.fold(folded) == 2  # /write and /runs; /shared and /sync left as they are
    expected = await _answers(plain, plain_calls)
    assert await _answers(folded, folded_calls) == expected
    # What that comparison covers, spelled out (FastAPI's own behaviour, kept):
    write_ok, anonymous, wrong, bad_body, shared, runs, sync = expected
    assert write_ok[0] == 200
    assert write_ok[2] == ["audit", "context", "session", "principal", "caller", "endpoint"]
    assert anonymous[0] == 401
    assert anonymous[2] == ["audit", "context", "session", "principal", "caller"]
    assert wrong[0] == 403
    assert bad_body[0] == 422
    assert "endpoint" not in bad_body[2]
    assert shared[2].count("session") == 1
    assert runs[1] == {"ctx": "ctx", "who": "p", "key": "v", "g": "gen", "s": "session"}
    assert sync[0] == 200


async def test_the_openapi_document_is_unchanged() -> None:
    plain = _app([])
    folded = _app([])
    folding.fold(folded)
    assert folded.openapi() == plain.openapi()


async def test_what_is_folded_and_what_is_not() -> None:
    app = _app([])
    assert folding.fold(app) == 2
    assert folding.fold(app) == 0  # a folded route is not folded again
    routes = {r.path: r for r in app.router.routes if isinstance(r, APIRoute)}

    def names(route: APIRoute) -> list[str | None]:
        return [d.name for d in route.dependant.dependencies]

    # /write: the route-level audit and the four parameters in one step.
    assert names(routes["/write/{code}"]) == ["_shared_folded_0"]
    assert [d.name for d in folding.declared(routes["/write/{code}"])] == [
        None,
        "ctx",
        "s",
        "who",
        "again",
    ]
    # /shared: `session` is also reached through `keyed` (a header parameter: FastAPI's), so
    # folding `context` and `session` would resolve the session twice: left as declared.
    assert names(routes["/shared"]) == ["ctx", "s", "k"]
    # /runs: a generator (FastAPI's) splits it into two runs, each one step.
    assert names(routes["/runs"]) == ["_shared_folded_0", "g", "_shared_folded_1"]
    # /sync: FastAPI runs the function in a thread; its wrapper would not be.
    assert names(routes["/sync"]) == ["ctx", "s"]


async def test_an_override_of_a_folded_dependency_is_refused_not_ignored() -> None:
    """An override could take other parameters than the request: refused loudly at the request
    rather than silently bypassed (the services never override; tests replace app state)."""
    app = _app([])
    folding.fold(app)
    write = next(r for r in app.router.routes if getattr(r, "path", "") == "/write/{code}")
    assert isinstance(write, APIRoute)
    context = folding.declared(write)[1].call
    assert context is not None
    app.dependency_overrides[context] = lambda: "other"
    transport = httpx.ASGITransport(app=app)  # exceptions raised to the test
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        with pytest.raises(folding.FoldedOverrideError, match="context"):
            await client.post(
                "/write/A1", json={"amount": 1}, headers={"authorization": "Bearer clerk"}
            )


@pytest.mark.parametrize("service", ["hayu", "erk", "sabilulungan"])
async def test_no_service_route_resolves_two_request_only_dependencies_apart(
    make_app: Any, service: str
) -> None:
    """Every run of two or more request-only dependencies of a service route is one step, except
    where a callable of the run is reached elsewhere (none today: `get_idempotency` takes the
    session from `get_session` itself, which answers with the request's open session)."""
    app = await make_app(service)
    folded = 0
    for route in app.router.routes:
        if not isinstance(route, APIRoute):
            continue
        dependencies = route.dependant.dependencies
        kinds = [folding.foldable(d) for d in dependencies]
        pairs = [i for i in range(len(kinds) - 1) if kinds[i] and kinds[i + 1]]
        assert not pairs, (route.path, sorted(route.methods or ()), [d.name for d in dependencies])
        folded += getattr(route.dependant.call, "__folded__", False)
    assert folded > 30


async def test_a_public_lookup_and_a_keyed_write_solve_fewer_fastapi_levels(
    make_app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """FastAPI's `solve_dependencies` runs once for the route and once per dependency level:
    the tracking lookup's context and session are one level, a keyed write's context, session,
    caller and idempotency handle (which reads its header itself) one too."""
    import fastapi.dependencies.utils as utils
    import fastapi.routing as fastapi_routing

    from shared.testing import add_account, bearer

    real = utils.solve_dependencies
    levels: list[str] = []

    async def counting(**kwargs: Any) -> Any:
        levels.append(getattr(kwargs["dependant"].call, "__name__", "?"))
        return await real(**kwargs)

    monkeypatch.setattr(utils, "solve_dependencies", counting)
    monkeypatch.setattr(fastapi_routing, "solve_dependencies", counting)
    app = await make_app("hayu")
    await add_account(app, "warga", ["business_owner"])
    async with client_for(app) as client:
        headers = await bearer(client, "warga")
        levels.clear()
        lookup = await client.get("/api/v1/public/track/NOPE-0000")
        lookup_levels = list(levels)
        levels.clear()
        write = await client.post(
            "/api/v1/applications", json={}, headers={**headers, "Idempotency-Key": "k-1"}
        )
        write_levels = list(levels)
    assert lookup.status_code == 404
    assert len(lookup_levels) == 2, lookup_levels  # the route and its one folded step
    assert write.status_code == 422  # an empty form, refused by the body's validation
    assert len(write_levels) == 2, write_levels  # its idempotency handle folded in too


async def test_dependencies_fastapi_must_keep_are_not_folded() -> None:
    """A concurrency limit, a security scheme (its OpenAPI entry), an uncached dependency, one
    with a scope of its own, and a function with a parameter named like a folded run's values."""
    import asyncio

    from fastapi.security.base import SecurityBase

    order: list[str] = []

    async def plain(request: Request) -> str:
        return "plain"

    async def slow(request: Request) -> str:
        order.append("start")
        await asyncio.sleep(0.01)
        order.append("end")
        return "slow"

    class Scheme(SecurityBase):
        def __init__(self) -> None:
            from fastapi.openapi.models import APIKey, APIKeyIn

            self.model = APIKey(**{"in": APIKeyIn.header}, name="X-Key")
            self.scheme_name = "Custom"

        async def __call__(self, request: Request) -> str:
            return "scheme"

    async def uncached(request: Request) -> str:
        return "uncached"

    async def scoped(request: Request) -> str:
        return "scoped"

    app = FastAPI()

    @app.get("/limited")
    async def limited(
        p: Annotated[str, Depends(plain)], s: Annotated[str, Depends(slow, max_concurrency=1)]
    ) -> dict[str, str]:
        return {"p": p, "s": s}

    @app.get("/secured")
    async def secured(
        p: Annotated[str, Depends(plain)], k: Annotated[str, Depends(Scheme())]
    ) -> dict[str, str]:
        return {"p": p, "k": k}

    @app.get("/uncached")
    async def not_cached(
        p: Annotated[str, Depends(plain)], u: Annotated[str, Depends(uncached, use_cache=False)]
    ) -> dict[str, str]:
        return {"p": p, "u": u}

    @app.get("/scoped")
    async def own_scope(
        p: Annotated[str, Depends(plain)], s: Annotated[str, Depends(scoped, scope="request")]
    ) -> dict[str, str]:
        return {"p": p, "s": s}

    @app.get("/collide")
    async def collide(
        p: Annotated[str, Depends(plain)],
        u: Annotated[str, Depends(scoped)],
        _shared_folded_0: str = "",
    ) -> dict[str, str]:
        return {"p": p, "u": u, "q": _shared_folded_0}

    document = app.openapi()
    app.openapi_schema = None
    assert folding.fold(app) == 0
    assert app.openapi() == document
    assert document["paths"]["/secured"]["get"]["security"] == [{"Custom": []}]
    async with client_for(app) as client:
        await asyncio.gather(client.get("/limited"), client.get("/limited"))
        collided = await client.get("/collide", params={"_shared_folded_0": "zz"})
    assert order == ["start", "end", "start", "end"]  # one at a time, as declared
    assert collided.json() == {"p": "plain", "u": "scoped", "q": "zz"}


async def test_a_validation_error_names_the_routes_own_function() -> None:
    """FastAPI names the function (file, line) in its validation errors: the wrapper's entry is
    the function's own."""
    import fastapi.routing as fastapi_routing

    app = _app([])
    write = next(r for r in app.router.routes if getattr(r, "path", "") == "/write/{code}")
    assert isinstance(write, APIRoute)
    endpoint = write.dependant.call
    # FastAPI keeps the context by id(): a function freed before this one may have left an entry
    # under the id this one now has (a CI run met exactly that); folding must not pass it on.
    fastapi_routing._endpoint_context_cache[id(endpoint)] = {"file": "/elsewhere/auth_api.py"}
    folding.fold(app)
    named = fastapi_routing._extract_endpoint_context(write.dependant.call)
    assert named == fastapi_routing._extract_endpoint_context(endpoint)
    assert named["file"].endswith("test_folding.py")
