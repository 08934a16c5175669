"""The Idempotency-Key header, read by the idempotency handle itself (issue 17).

A header parameter made the handle a FastAPI dependency level of its own (about 150 Python calls
for every keyed write); the handle now reads the header itself and is resolved in one step with
the route's other request-only dependencies (`shared.folding`). What FastAPI did for the header
still holds: the same 422 for a key over 200 characters, the caller refused first, and the header
in the OpenAPI document as FastAPI describes it.
"""

# No `from __future__ import annotations`: FastAPI must see the route's `Header` annotation.
from typing import Annotated, Any

import httpx
import pytest
from fastapi import FastAPI, Header
from fastapi.routing import APIRoute
from sqlalchemy import select

from shared.folding import declared
from shared.idempotency import KEY_HEADER_DOC, KEY_PARAMETER, get_idempotency, takes_idempotency
from shared.testing import assert_problem, client_for, probe_router


async def test_the_documented_header_is_what_fastapi_writes_for_a_header_parameter() -> None:
    app = FastAPI()

    @app.post("/keyed")
    async def keyed(
        key: Annotated[
            str | None,
            Header(alias="Idempotency-Key", max_length=200, description=KEY_HEADER_DOC),
        ] = None,
    ) -> None:
        return None

    assert app.openapi()["paths"]["/keyed"]["post"]["parameters"] == [KEY_PARAMETER]


async def test_a_long_key_gets_fastapis_answer_for_a_long_header(make_app: Any) -> None:
    """The same 422 items a `Header(max_length=200)` parameter gave, and nothing is filed; a key
    of exactly 200 characters is accepted."""
    fastapi_app = FastAPI()

    @fastapi_app.post("/keyed")
    async def keyed(
        key: Annotated[str | None, Header(alias="Idempotency-Key", max_length=200)] = None,
    ) -> None:
        return None

    long_key = "k" * 201
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=fastapi_app), base_url="http://t"
    ) as client:
        fastapi_items = (await client.post("/keyed", headers={"Idempotency-Key": long_key})).json()[
            "detail"
        ]

    app = await make_app("hayu", extra_routers=[probe_router()])
    async with client_for(app) as client:
        refused = await client.post(
            "/api/v1/probe/things",
            json={"name": "long", "amount_idr": 1},
            headers={"Idempotency-Key": long_key},
        )
        accepted = await client.post(
            "/api/v1/probe/things",
            json={"name": "exact", "amount_idr": 1},
            headers={"Idempotency-Key": "k" * 200},
        )
    problem = assert_problem(refused, 422)
    assert [e["type"] for e in fastapi_items] == ["string_too_long"]
    assert problem["errors"] == [{k: e[k] for k in ("loc", "msg", "type")} for e in fastapi_items]
    assert accepted.status_code == 201, accepted.text
    events = app.state.models.audit_event
    async with app.state.db.sessionmaker() as session:
        filed = await session.scalars(
            select(events.entity_id).where(events.action == "thing.created")
        )
        assert list(filed) == ["exact"]


async def test_without_a_token_a_long_key_is_refused_for_the_caller_first(make_app: Any) -> None:
    app = await make_app("hayu")
    async with client_for(app) as client:
        anonymous = await client.post(
            "/api/v1/applications", json={}, headers={"Idempotency-Key": "k" * 201}
        )
    assert_problem(anonymous, 401)


@pytest.mark.parametrize("service", ["hayu", "erk", "sabilulungan"])
async def test_every_keyed_route_takes_the_handle_last_and_documents_the_header(
    make_app: Any, service: str
) -> None:
    """Last among the route's dependencies: its refusal of a long key (raised, not collected
    as FastAPI collected a header's) comes after every check of the caller, as before."""
    app = await make_app(service)
    document = app.openapi()
    keyed = 0
    for route in app.router.routes:
        if not isinstance(route, APIRoute):
            continue
        dependencies = declared(route)
        if not takes_idempotency(dependencies):
            continue
        keyed += 1
        assert dependencies[-1].call is get_idempotency, (route.path, route.methods)
        if not route.include_in_schema:
            continue
        for method in route.methods or ():
            operation = document["paths"][route.path_format][method.lower()]
            named = [p for p in operation["parameters"] if p["name"] == "Idempotency-Key"]
            assert named == [KEY_PARAMETER], (route.path, method)
            assert "422" in operation["responses"], (route.path, method)
    assert keyed >= 3
