"""Hostile uploads to HAYU and Sabilulungan: refused with a 4xx problem, nothing stored.

Each hostile file is sent beside a benign control (a small PDF, a small PNG) through the same
helper, so a test that counted the wrong table or folder would fail on the control.
"""

from __future__ import annotations

import shutil
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from reliability_helpers import (
    PDF,
    bansos_proposal,
    files_under,
    hayu_filing,
    jpeg,
    png,
    row_count,
)

from hayu.models import ApplicationDocument
from sabilulungan.models import Document
from shared.testing import add_account, assert_problem, bearer, client_for

LIMIT = 64 * 1024  # upload_max_bytes for these apps: small, so the oversized file stays cheap


def _executable() -> bytes:
    true = shutil.which("true")
    assert true is not None
    return Path(true).read_bytes()


HOSTILE: dict[str, tuple[str, bytes]] = {
    "executable-renamed-pdf": ("laporan.pdf", _executable()),
    "windows-executable-renamed-pdf": ("laporan.pdf", b"MZ\x90\x00\x03" + b"\x00" * 512),
    "oversized-pdf": ("besar.pdf", PDF + b"%" * LIMIT),
    "png-decompression-bomb": ("ktp.png", png(50_000, 50_000)),
    "dotdot-name": ("../../../../etc/cron.d/x.pdf", PDF),
    "dotdot-backslash-name": ("..\\..\\windows\\win.ini.pdf", PDF),
    "dotdot-name-into-uploads": ("../hayu/aa/evil.pdf", PDF),
}


@dataclass
class Target:
    """One service's upload endpoint, an object to attach to, and what to count."""

    app: Any
    client: httpx.AsyncClient
    upload: Callable[[str, bytes], Awaitable[httpx.Response]]
    model: Any
    upload_dir: Path

    async def stored(self) -> tuple[int, set[Path]]:
        return await row_count(self.app, self.model), files_under(self.upload_dir)


async def _hayu(make_app: Any, client_stack: list[httpx.AsyncClient], limit: int = LIMIT) -> Target:
    app = await make_app("hayu", upload_max_bytes=limit)
    client = client_for(app)
    client_stack.append(client)
    await add_account(app, "pemilik", ["business_owner"])
    owner = await bearer(client, "pemilik")
    created = await client.post(
        "/api/v1/applications", json=hayu_filing("REKLAME", capital_idr=750_000_000), headers=owner
    )
    assert created.status_code == 201, created.text
    app_id = created.json()["id"]

    async def upload(name: str, content: bytes) -> httpx.Response:
        return await client.post(
            f"/api/v1/applications/{app_id}/documents",
            data={"checklist_item": "ktp"},
            files={"file": (name, content, "application/pdf")},
            headers=owner,
        )

    return Target(app, client, upload, ApplicationDocument, app.state.settings.upload_dir)


async def _sabilulungan(
    make_app: Any, client_stack: list[httpx.AsyncClient], limit: int = LIMIT
) -> Target:
    app = await make_app("sabilulungan", upload_max_bytes=limit)
    client = client_for(app)
    client_stack.append(client)
    await add_account(app, "pemohon", ["applicant"])
    applicant = await bearer(client, "pemohon")
    created = await client.post("/api/v1/proposals", json=bansos_proposal(), headers=applicant)
    assert created.status_code == 201, created.text
    proposal_id = created.json()["id"]

    async def upload(name: str, content: bytes) -> httpx.Response:
        return await client.post(
            f"/api/v1/proposals/{proposal_id}/documents",
            data={"item": "ktp_chair"},
            files={"file": (name, content, "application/pdf")},
            headers=applicant,
        )

    return Target(app, client, upload, Document, app.state.settings.upload_dir)


TARGETS = {"hayu": _hayu, "sabilulungan": _sabilulungan}


def _cases() -> list[Any]:
    cases = []
    for service in TARGETS:
        for name in HOSTILE:
            marks = []
            cases.append(pytest.param(service, name, marks=marks, id=f"{service}-{name}"))
    return cases


@pytest.fixture
async def client_stack() -> Any:
    clients: list[httpx.AsyncClient] = []
    yield clients
    for client in clients:
        await client.aclose()


@pytest.mark.parametrize(("service", "case"), _cases())
async def test_hostile_upload_is_refused_and_nothing_is_stored(
    make_app: Any, client_stack: list[httpx.AsyncClient], service: str, case: str
) -> None:
    target = await TARGETS[service](make_app, client_stack)
    name, content = HOSTILE[case]
    before_rows, before_files = await target.stored()

    response = await target.upload(name, content)

    assert 400 <= response.status_code < 500, (response.status_code, response.text)
    assert_problem(response, response.status_code)
    rows, files = await target.stored()
    assert rows == before_rows, "a document row was written"
    assert files == before_files, f"files were left behind: {sorted(files - before_files)}"
    # Nothing escaped the upload folder either: no file named like the payload beside it.
    outside = target.upload_dir.parent
    assert not any(p.name in ("x.pdf", "evil.pdf") for p in files_under(outside)), "escaped"


@pytest.mark.parametrize("service", sorted(TARGETS))
@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("surat.pdf", PDF),
        ("ktp.png", png(4000, 3000)),  # a 12 MP phone photo is fine
        ("tepat-batas.pdf", PDF + b"%" * (LIMIT - len(PDF))),  # exactly the limit
    ],
    ids=["pdf", "photo-png", "pdf-at-limit"],
)
async def test_benign_upload_is_stored_once(
    make_app: Any,
    client_stack: list[httpx.AsyncClient],
    service: str,
    name: str,
    content: bytes,
) -> None:
    """The control: the same helper stores an ordinary file, one row and one file."""
    target = await TARGETS[service](make_app, client_stack)
    before_rows, before_files = await target.stored()
    response = await target.upload(name, content)
    assert response.status_code == 201, response.text
    assert response.json()["filename"] == name
    rows, files = await target.stored()
    assert rows == before_rows + 1
    assert len(files - before_files) == 1
    (stored,) = files - before_files
    assert stored.read_bytes() == content
    assert target.upload_dir in stored.parents


@pytest.mark.parametrize("service", sorted(TARGETS))
async def test_a_jpeg_declaring_a_huge_frame_behind_its_metadata_is_refused(
    make_app: Any, client_stack: list[httpx.AsyncClient], service: str
) -> None:
    """The frame header 100 KiB into the file (past the part that used to be read) still counts;
    a photo of ordinary size with the same metadata is stored (the control)."""
    target = await TARGETS[service](make_app, client_stack, 512 * 1024)
    before_rows, before_files = await target.stored()
    bomb = await target.upload("foto.jpg", jpeg(60_000, 60_000, metadata_bytes=100_000))
    assert 400 <= bomb.status_code < 500, bomb.text
    assert "pixels" in assert_problem(bomb, bomb.status_code)["detail"]
    assert await target.stored() == (before_rows, before_files)
    photo = await target.upload("foto.jpg", jpeg(4000, 3000, metadata_bytes=100_000))
    assert photo.status_code == 201, photo.text
