"""Registration, listing with filters and cursors, the data dictionary and the OpenAPI document."""

from __future__ import annotations

import csv
import io
from typing import Any

from shared.testing import assert_problem, bearer


async def test_register_then_apply(world: Any) -> None:
    body = {"username": "warga.baru", "password": "rahasia-sekali-1", "full_name": "Warga Baru"}
    r = await world.client.post("/api/v1/auth/register", json=body)
    assert r.status_code == 201, r.text
    assert r.json() == {"username": "warga.baru", "roles": ["applicant"]}
    assert_problem(
        await world.client.post("/api/v1/auth/register", json=body), 409, "username-taken"
    )
    short = {**body, "username": "lain", "password": "pendek"}
    assert_problem(await world.client.post("/api/v1/auth/register", json=short), 422)
    headers = await bearer(world.client, "warga.baru", "rahasia-sekali-1")
    r = await world.client.post("/api/v1/proposals", json=world.bansos(), headers=headers)
    assert r.status_code == 201
    mine = (await world.client.get("/api/v1/proposals", headers=headers)).json()["items"]
    assert [p["tracking_code"] for p in mine] == [r.json()["tracking_code"]]
    others = (await world.client.get("/api/v1/proposals", headers=world.h("applicant"))).json()
    assert others["items"] == []
    assert_problem(
        await world.client.post("/api/v1/proposals", json=world.bansos(), headers=world.h("clerk")),
        403,
    )
    assert_problem(await world.client.post("/api/v1/proposals", json=world.bansos()), 401)


async def test_lists_filter_and_page_with_cursors(world: Any) -> None:
    for i in range(5):
        await world.submit(world.bansos(title=f"Bansos {i}"))
    await world.submit(world.hibah())
    seen: list[int] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"kind": "bansos", "limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = (
            await world.client.get("/api/v1/proposals", params=params, headers=world.h("auditor"))
        ).json()
        seen += [p["id"] for p in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert len(seen) == 5
    assert seen == sorted(seen, reverse=True)
    assert_problem(
        await world.client.get(
            "/api/v1/proposals", params={"cursor": "zzz"}, headers=world.h("auditor")
        ),
        400,
        "invalid-cursor",
    )
    ledger = await world.client.get(
        "/api/v1/public/proposals", params={"fiscal_year": world.year, "kind": "hibah"}
    )
    assert [row["kind"] for row in ledger.json()["items"]] == ["hibah"]
    first = await world.client.get(
        "/api/v1/public/proposals", params={"fiscal_year": world.year, "limit": 4}
    )
    rest = await world.client.get(
        "/api/v1/public/proposals",
        params={"fiscal_year": world.year, "limit": 4, "cursor": first.json()["next_cursor"]},
    )
    codes = [r["tracking_code"] for r in first.json()["items"] + rest.json()["items"]]
    assert len(set(codes)) == 6
    assert rest.json()["next_cursor"] is None
    csv_text = (
        await world.client.get("/api/v1/public/proposals.csv", params={"fiscal_year": world.year})
    ).text
    rows = list(csv.DictReader(io.StringIO(csv_text)))
    assert len(rows) == 6
    dictionary = (await world.client.get("/api/v1/public/data-dictionary")).json()
    assert [f["name"] for f in dictionary["fields"]] == list(rows[0])


async def test_openapi_declares_the_fixed_paths_and_problems(world: Any) -> None:
    spec = (await world.client.get("/openapi.json")).json()
    paths = spec["paths"]
    for path in (
        "/api/v1/budgets",
        "/api/v1/public/budgets/{fiscal_year}",
        "/api/v1/auth/register",
        "/api/v1/proposals",
        "/api/v1/proposals/{proposal_id}/documents",
        "/api/v1/proposals/{proposal_id}/transitions",
        "/api/v1/proposals/{proposal_id}",
        "/api/v1/proposals/{proposal_id}/flags",
        "/api/v1/public/track/{tracking_code}",
        "/api/v1/public/proposals",
        "/api/v1/public/proposals.csv",
        "/api/v1/public/data-dictionary",
        "/api/v1/public/verify/{document_number}",
    ):
        assert path in paths, path
    transitions = paths["/api/v1/proposals/{proposal_id}/transitions"]["post"]["responses"]
    assert {"200", "401", "403", "404", "409", "422"} <= set(transitions)


async def test_out_of_range_ids_are_a_422_not_a_500(world: Any) -> None:
    huge = 2**70
    for url in (
        f"/api/v1/proposals/{huge}",
        f"/api/v1/proposals/1/documents/{huge}",
        "/api/v1/public/budgets/99999",
    ):
        assert_problem(await world.client.get(url, headers=world.h("auditor")), 422)
    r = await world.act(huge, "clerk", "verify_completeness")
    assert_problem(r, 422, "validation-error")
