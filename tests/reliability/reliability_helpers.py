"""Typed payloads and counters shared by the fault and abuse tests (on sys.path via conftest.py)."""

from __future__ import annotations

import copy
import datetime as dt
import struct
import zlib
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from sqlalchemy import func, select

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"

HAYU_BUSINESS: dict[str, Any] = {
    "name": "Warung Sari Rasa",
    "owner": {"nik": "3273014506900001", "name": "Siti Rahmawati", "phone": "081234567890"},
    "kbli_codes": ["47111"],
    "address": "Jl. Merdeka No. 10, Bandung",
    "region_code": "32.73.01",
    "capital_idr": 100_000_000,
    "workforce": 3,
}

SABILULUNGAN_YEAR = dt.date.today().year + 1


def hayu_filing(permit_type_code: str = "SS", **business: Any) -> dict[str, Any]:
    """A HAYU filing; SS below Rp500 juta is a self-report, REKLAME is always a permit."""
    body = copy.deepcopy(HAYU_BUSINESS)
    body.update(business)
    return {"permit_type_code": permit_type_code, "business": body}


def bansos_proposal(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "kind": "bansos",
        "fiscal_year": SABILULUNGAN_YEAR,
        "title": "Bantuan modal usaha warung",
        "purpose": "Modal usaha bagi keluarga rentan",
        "purpose_code": "pemberdayaan_sosial",
        "social_risk": "kemiskinan",
        "requested_amount_idr": 5_000_000,
        "budget_lines": [{"description": "Modal barang dagangan", "amount_idr": 5_000_000}],
        "applicant": {
            "type": "individual",
            "name": "Siti Aminah",
            "nik": "3273015203800003",
            "address": "Jl. Melati No. 7",
            "region_code": "32.73.01.1001",
            "phone": "081298765432",
            "bank_account": "9876543210",
        },
    }
    body.update(overrides)
    return body


def sabilulungan_hibah(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "kind": "hibah",
        "fiscal_year": SABILULUNGAN_YEAR,
        "title": "Renovasi sekretariat yayasan",
        "purpose": "Perbaikan atap dan ruang belajar anak",
        "requested_amount_idr": 50_000_000,
        "budget_lines": [
            {"description": "Material atap", "amount_idr": 30_000_000},
            {"description": "Upah tukang", "amount_idr": 20_000_000},
        ],
        "applicant": {
            "type": "organization",
            "name": "Yayasan Harapan Bangsa",
            "legal_entity_number": "AHU-0012345.AH.01.04.2019",
            "npwp": "01.234.567.8-901.000",
            "address": "Jl. Merdeka No. 10, Bandung",
            "region_code": "32.73.01.1001",
            "phone": "0221234567",
            "bank_account": "1234567890123",
            "board_members": [
                {"name": "Ketua Yayasan", "nik": "3273010101900001", "position": "Ketua"},
                {"name": "Sekretaris Yayasan", "nik": "3273014505850002", "position": "Sekretaris"},
            ],
        },
    }
    body.update(overrides)
    return body


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png(width: int, height: int) -> bytes:
    """A well-formed PNG header and one tiny IDAT, claiming `width` x `height` RGB pixels."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 64)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", idat)
        + _png_chunk(b"IEND", b"")
    )


def files_under(root: Path) -> set[Path]:
    """Every regular file below `root` (the upload directory), temporary files included."""
    if not root.exists():
        return set()
    return {p for p in root.rglob("*") if p.is_file()}


async def row_count(app: FastAPI, model: Any) -> int:
    async with app.state.db.sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


def _jpeg_segment(marker: int, payload: bytes) -> bytes:
    return bytes([0xFF, marker]) + struct.pack(">H", len(payload) + 2) + payload


def jpeg(width: int, height: int, *, metadata_bytes: int = 0) -> bytes:
    """A JPEG's markers claiming `width` x `height`, its frame header behind `metadata_bytes` of
    APP1 metadata (as a camera's EXIF block with a thumbnail puts it)."""
    parts = [b"\xff\xd8", _jpeg_segment(0xE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00")]
    while metadata_bytes > 0:
        size = min(metadata_bytes, 60_000)
        parts.append(_jpeg_segment(0xE1, b"Exif\x00\x00" + b"\x00" * size))
        metadata_bytes -= size
    components = b"".join(bytes([i, 0x11, 0]) for i in (1, 2, 3))
    parts.append(_jpeg_segment(0xC0, struct.pack(">BHHB", 8, height, width, 3) + components))
    parts.append(
        _jpeg_segment(0xDA, b"\x03" + b"".join(bytes([i, 0]) for i in (1, 2, 3)) + b"\x00\x3f\x00")
    )
    parts.append(b"\x12\x34" * 8 + b"\xff\xd9")
    return b"".join(parts)
