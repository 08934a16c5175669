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


def _png(width: int, height: int) -> bytes:
    import struct
    import zlib

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    chunk = struct.pack(">I", len(ihdr)) + b"IHDR" + ihdr
    chunk += struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))
    return b"\x89PNG\r\n\x1a\n" + chunk


async def test_decompression_bomb_is_refused(tmp_path: Path) -> None:
    with pytest.raises(UnprocessableError, match="pixels"):
        await store_upload(
            _upload(_png(50_000, 50_000), "bom.png"), upload_dir=tmp_path, max_bytes=10_000
        )
    assert not [p for p in tmp_path.rglob("*") if p.is_file()]
    ok = await store_upload(
        _upload(_png(1200, 800), "foto.png"), upload_dir=tmp_path, max_bytes=10_000
    )
    assert ok.content_type == "image/png"


def test_jpeg_dimensions_are_read_from_the_frame_header() -> None:
    from shared.uploads import image_pixels

    app0 = b"\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    sof0 = b"\xff\xc0\x00\x11\x08" + (3000).to_bytes(2, "big") + (4000).to_bytes(2, "big")
    assert image_pixels(b"\xff\xd8" + app0 + sof0 + b"\x00" * 12, "image/jpeg") == 12_000_000
