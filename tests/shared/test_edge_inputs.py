"""Crafted input and refused writes: a clear 4xx, never a 500, and no connection held twice."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import APIRouter, FastAPI
from sqlalchemy import text

from shared.db import SessionDep
from shared.idempotency import IdempotencyDep
from shared.problems import ConflictError, UnprocessableError
from shared.testing import add_account, assert_problem, bearer, client_for
from shared.uploads import image_pixels, store_upload


def crafted(values: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


ONE_KEY = [["abc"], [True], [1.5], [None], [{"dt": "2026-01-01T00:00:00"}], [{"d": "2026-01-01"}]]
LISTS = [
    ("hayu", "/api/v1/audit/events", {}, ["auditor"]),
    ("hayu", "/api/v1/applications", {}, ["admin"]),
    ("sabilulungan", "/api/v1/public/proposals", {"fiscal_year": 2026}, []),
    ("sabilulungan", "/api/v1/proposals", {}, ["admin"]),
    ("erk", "/api/v1/audit/events", {}, ["auditor"]),
]


@pytest.mark.parametrize(("service", "url", "params", "roles"), LISTS, ids=lambda v: str(v))
async def test_a_crafted_cursor_is_a_400_on_every_keyset_list(
    make_app: Any, service: str, url: str, params: dict[str, Any], roles: list[str]
) -> None:
    app = await make_app(service)
    async with client_for(app) as client:
        headers = {}
        if roles:
            await add_account(app, "penguji", roles)
            headers = await bearer(client, "penguji")
        assert (await client.get(url, params=params, headers=headers)).status_code == 200
        for values in ONE_KEY:
            response = await client.get(
                url, params={**params, "cursor": crafted(values)}, headers=headers
            )
            assert_problem(response, 400, "invalid-cursor")


async def test_a_crafted_two_key_cursor_is_a_400(make_app: Any) -> None:
    app = await make_app("erk")
    async with client_for(app) as client:
        headers = await _admin(app, client)
        for values in (["abc", 1], [{"d": "2026-01-01"}, "x"], [{"d": "2026-01-01"}, True]):
            response = await client.get(
                "/api/v1/activities", params={"cursor": crafted(values)}, headers=headers
            )
            assert response.status_code == 400, response.text


async def _admin(app: FastAPI, client: httpx.AsyncClient) -> dict[str, str]:
    await add_account(app, "admin", ["admin"])
    return await bearer(client, "admin")


async def test_a_csv_with_bare_cr_line_endings_is_read_not_a_500(make_app: Any) -> None:
    app = await make_app("erk")
    csv_text = "nip,name,unit_code,job_class,tpp_base_idr\r199001012020121001,Ani,TIDAK-ADA,5,1\r"
    async with client_for(app) as client:
        headers = await _admin(app, client)
        response = await client.post(
            "/api/v1/employees/import",
            files={"file": ("pegawai.csv", csv_text.encode(), "text/csv")},
            headers=headers,
        )
        body = assert_problem(response, 422, "import-rejected")
        assert [row["row"] for row in body["rows"]] == [2]  # the CR ended the header line
        broken = b'nip,name\r"199001012020121001,Ani\n' + b"x" * 200_000  # an unclosed quote
        response = await client.post(
            "/api/v1/employees/import",
            files={"file": ("pegawai.csv", broken, "text/csv")},
            headers=headers,
        )
        assert_problem(response, 422, "import-rejected")


def refusing_router() -> APIRouter:
    router = APIRouter(prefix="/api/v1/probe")

    @router.post("/refused", status_code=201)
    async def refused(session: SessionDep, idem: IdempotencyDep) -> Any:
        await session.execute(text("SELECT 1"))  # the request's transaction has its connection
        raise ConflictError("refused by a rule")

    return router


async def test_a_refused_keyed_write_holds_one_connection_only(make_app: Any) -> None:
    """Finding: the replay lookup took a second connection while the refused request held its
    own, so refused keyed writes ran out of connections (503) under load. With a pool of one
    connection a refused keyed write must still answer its own 409."""
    app = await make_app(
        "hayu",
        extra_routers=[refusing_router()],
        db_pool_size=1,
        db_max_overflow=0,
        db_pool_timeout=0.5,
    )
    async with client_for(app) as client:
        for key in ("k-1", "k-2", "k-1"):
            response = await client.post(
                "/api/v1/probe/refused", json={}, headers={"Idempotency-Key": key}
            )
            assert_problem(response, 409)


def _client_from(app: FastAPI, address: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://test")


async def test_anonymous_callers_do_not_share_idempotency_keys(make_app: Any) -> None:
    from shared.testing import probe_router

    app = await make_app("hayu", extra_routers=[probe_router()])
    key = {"Idempotency-Key": "same-key-123"}
    first_body = {"name": "pertama", "amount_idr": 1}
    async with _client_from(app, "10.0.0.1") as first, _client_from(app, "10.0.0.2") as second:
        assert (await first.post("/api/v1/probe/things", json=first_body, headers=key)).is_success
        # Another caller's identical body is its own write, not a replay of the first answer.
        same = await second.post("/api/v1/probe/things", json=first_body, headers=key)
        assert same.status_code == 201, same.text
        assert "idempotent-replayed" not in same.headers
        # Another caller's other body under the same key is not refused as a reuse.
        other = await second.post(
            "/api/v1/probe/things",
            json={"name": "kedua", "amount_idr": 2},
            headers={"Idempotency-Key": "another-key-1"},
        )
        assert other.status_code == 201
        # The first caller's retry is still replayed, and a reuse by it is still refused.
        again = await first.post("/api/v1/probe/things", json=first_body, headers=key)
        assert again.headers.get("idempotent-replayed") == "true"
        reused = await first.post(
            "/api/v1/probe/things", json={"name": "lain", "amount_idr": 3}, headers=key
        )
        assert_problem(reused, 422, "idempotency-key-reused")


def _jpeg(width: int, height: int, metadata: int) -> bytes:
    import struct

    def seg(marker: int, payload: bytes) -> bytes:
        return bytes([0xFF, marker]) + struct.pack(">H", len(payload) + 2) + payload

    out = b"\xff\xd8"
    while metadata > 0:
        out += seg(0xE1, b"\x00" * min(metadata, 60_000))
        metadata -= 60_000
    out += seg(0xC0, struct.pack(">BHHB", 8, height, width, 1) + b"\x01\x11\x00")
    return out + seg(0xDA, b"\x01\x01\x00\x00\x3f\x00") + b"\x00" * 16 + b"\xff\xd9"


def test_the_jpeg_frame_header_is_found_anywhere_before_the_scan() -> None:
    assert image_pixels(_jpeg(60_000, 60_000, 200_000), "image/jpeg") == 3_600_000_000
    # Stray bytes between markers are skipped as decoders skip them.
    stray = _jpeg(100, 100, 0).replace(b"\xff\xc0", b"\x00\x00junk\xff\xc0", 1)
    assert image_pixels(stray, "image/jpeg") == 10_000
    assert image_pixels(b"\xff\xd8\xff\xd9", "image/jpeg") is None


async def test_store_upload_refuses_a_pixel_bomb_behind_metadata(tmp_path: Path) -> None:
    from fastapi import UploadFile

    bomb = UploadFile(io.BytesIO(_jpeg(60_000, 60_000, 100_000)), filename="foto.jpg")
    with pytest.raises(UnprocessableError, match="pixels"):
        await store_upload(bomb, upload_dir=tmp_path, max_bytes=1_000_000)
    assert not [p for p in tmp_path.rglob("*") if p.is_file()]
    photo = UploadFile(io.BytesIO(_jpeg(4000, 3000, 100_000)), filename="foto.jpg")
    stored = await store_upload(photo, upload_dir=tmp_path, max_bytes=1_000_000)
    assert stored.content_type == "image/jpeg"
