from __future__ import annotations

import io
from pathlib import Path

import pytest
from fastapi import UploadFile

from shared.problems import PayloadTooLargeError, UnprocessableError, UnsupportedMediaTypeError
from shared.uploads import store_upload, stored_path

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _upload(data: bytes, name: str) -> UploadFile:
    return UploadFile(io.BytesIO(data), filename=name)


async def test_stores_by_content_hash_once(tmp_path: Path) -> None:
    first = await store_upload(_upload(PDF, "proposal.pdf"), upload_dir=tmp_path, max_bytes=10_000)
    second = await store_upload(_upload(PDF, "copy.pdf"), upload_dir=tmp_path, max_bytes=10_000)
    assert first.content_type == "application/pdf"
    assert first.sha256 == second.sha256
    assert first.path == stored_path(tmp_path, first.sha256)
    assert first.path.read_bytes() == PDF
    assert len([p for p in tmp_path.rglob("*") if p.is_file()]) == 1


async def test_content_decides_not_the_name(tmp_path: Path) -> None:
    png = await store_upload(_upload(PNG, "looks-like.pdf"), upload_dir=tmp_path, max_bytes=10_000)
    assert png.content_type == "image/png"
    with pytest.raises(UnsupportedMediaTypeError):
        await store_upload(
            _upload(b"MZ\x90\x00evil", "scan.pdf"), upload_dir=tmp_path, max_bytes=99
        )
    assert not [p for p in tmp_path.rglob("*") if p.is_file() and p != png.path]


async def test_too_large_and_empty_leave_nothing(tmp_path: Path) -> None:
    with pytest.raises(PayloadTooLargeError):
        await store_upload(_upload(PDF * 100, "big.pdf"), upload_dir=tmp_path, max_bytes=1024)
    with pytest.raises(UnprocessableError):
        await store_upload(_upload(b"", "empty.pdf"), upload_dir=tmp_path, max_bytes=1024)
    assert not [p for p in tmp_path.rglob("*") if p.is_file()]


def test_stored_path_refuses_traversal(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="sha256"):
        stored_path(tmp_path, "../../etc/passwd")
