from __future__ import annotations

import hashlib
import importlib
import io
import os
from pathlib import Path
from typing import Any

import pytest
from fastapi import UploadFile

from shared.problems import PayloadTooLargeError, UnprocessableError, UnsupportedMediaTypeError
from shared.uploads import (
    UploadProblems,
    check_content,
    read_stored,
    safe_name,
    store_upload,
    stored_path,
    write_stored,
)

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


# --- The services' document storage goes through the one layout ---------------------------------

STORES = {
    "sabilulungan": ("sabilulungan.documents", lambda root, sha: root / sha[:2] / sha),
    "hayu": ("hayu.documents", lambda root, sha: root / "hayu" / sha[:2] / sha),
}


def _documents(service: str) -> Any:
    return importlib.import_module(STORES[service][0])


@pytest.mark.parametrize("service", sorted(STORES))
def test_two_replicas_storing_the_same_file_at_once_do_not_collide(
    service: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Replica B stores the same document while replica A is between writing its temporary file
    and renaming it: each must have its own temporary file (a fixed `<digest>.part` is truncated
    and renamed away under A's feet), and the stored file is whole."""
    documents = _documents(service)
    content = PDF * 50
    sha = hashlib.sha256(content).hexdigest()
    real_replace = os.replace
    calls: list[str] = []

    def replace(src: Any, dst: Any) -> None:
        if not calls:  # replica A, about to rename: replica B stores the same file meanwhile
            calls.append("B")
            documents.write_stored(tmp_path, sha, content)
        calls.append("A")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    documents.write_stored(tmp_path, sha, content)
    assert calls == ["B", "A", "A"]
    assert stored_path(tmp_path, sha).read_bytes() == content
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == [stored_path(tmp_path, sha)]


@pytest.mark.parametrize("service", sorted(STORES))
def test_documents_stored_under_the_earlier_layout_are_still_read(
    service: str, tmp_path: Path
) -> None:
    documents = _documents(service)
    old, new = PDF + b"old", PDF + b"new"
    old_sha, new_sha = hashlib.sha256(old).hexdigest(), hashlib.sha256(new).hexdigest()
    earlier = STORES[service][1](tmp_path, old_sha)
    earlier.parent.mkdir(parents=True)
    earlier.write_bytes(old)
    documents.write_stored(tmp_path, new_sha, new)
    assert stored_path(tmp_path, new_sha).read_bytes() == new  # new files: the shared layout
    assert documents._read(tmp_path, old_sha) == old
    assert documents._read(tmp_path, new_sha) == new
    with pytest.raises(FileNotFoundError):
        documents._read(tmp_path, "0" * 64)


def test_write_stored_keeps_the_first_copy_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    sha = hashlib.sha256(PDF).hexdigest()
    first = write_stored(tmp_path, sha, PDF)
    assert write_stored(tmp_path, sha, PDF) == first == stored_path(tmp_path, sha)
    assert read_stored(tmp_path, sha) == PDF
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == [first]


def test_check_content_refuses_with_the_services_own_problem_types() -> None:
    """One check for uploads held in memory (HAYU, Sabilulungan); each service names its types."""

    class UnsupportedError(UnsupportedMediaTypeError):
        type = "own-unsupported"

    class BadNameError(UnprocessableError):
        type = "own-bad-name"

    problems = UploadProblems(unsupported=UnsupportedError, bad_name=BadNameError)
    assert check_content(PDF, filename="a.pdf", max_bytes=1024, problems=problems) == (
        "application/pdf",
        hashlib.sha256(PDF).hexdigest(),
    )
    with pytest.raises(PayloadTooLargeError) as too_large:
        check_content(PDF * 100, filename="a.pdf", max_bytes=64, problems=problems)
    assert too_large.value.type == "payload-too-large"
    with pytest.raises(UnsupportedError):
        check_content(b"", filename="a.pdf", max_bytes=64, problems=problems)
    with pytest.raises(UnsupportedError):
        check_content(b"MZ\x90\x00", filename="a.exe", max_bytes=64, problems=problems)
    with pytest.raises(BadNameError):
        check_content(PDF, filename="../a.pdf", max_bytes=1024, problems=problems)


def test_upload_names_keep_their_last_part_and_printable_characters_only() -> None:
    # U+202E turns "gpj.exe" into "exe.jpg" on screen; an escape could colour a terminal.
    assert safe_name("surat\u202egpj.exe") == "suratgpj.exe"
    assert safe_name("../../etc/\x1b[31mpasswd") == "[31mpasswd"
    assert safe_name("a" * 300 + ".pdf") == "a" * 200
    assert safe_name("\u202e") == "berkas"
    assert safe_name(None, fallback="dokumen") == "dokumen"
    assert safe_name("  ktp.pdf  ") == "ktp.pdf"
