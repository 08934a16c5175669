"""Typed helpers for HAYU's tests (imported through conftest.py's sys.path entry)."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import func, select

from hayu.models import Application, ApplicationEvent, Business
from shared.testing import user_headers

NIK = "3273014506900001"
PHONE = "081234567890"
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64

BUSINESS: dict[str, Any] = {
    "name": "Warung Sari Rasa",
    "owner": {"nik": NIK, "name": "Siti Rahmawati", "phone": PHONE},
    "kbli_codes": ["47111"],
    "address": "Jl. Merdeka No. 10, Bandung",
    "region_code": "32.73.01",
    "capital_idr": 100_000_000,
    "workforce": 3,
}


def filing(permit_type_code: str = "SS", **business: Any) -> dict[str, Any]:
    body = copy.deepcopy(BUSINESS)
    body.update(business)
    return {"permit_type_code": permit_type_code, "business": body}


class Actors:
    """Tokens for one account per role."""

    def __init__(self, headers: dict[str, dict[str, str]]) -> None:
        self.h = headers

    def __getattr__(self, role: str) -> dict[str, str]:
        try:
            return self.h[role]
        except KeyError:
            raise AttributeError(role) from None


async def actors(app: FastAPI, client: httpx.AsyncClient) -> Actors:
    roles = ["business_owner", "officer", "inspector", "approver", "auditor", "admin"]
    headers = {role: await user_headers(app, client, f"u-{role}", [role]) for role in roles}
    headers["other_owner"] = await user_headers(app, client, "u-other", ["business_owner"])
    return Actors(headers)


async def counts(app: FastAPI) -> tuple[int, int, int]:
    """(businesses, applications, history rows): to show a refused request wrote nothing."""
    async with app.state.db.sessionmaker() as session:
        return (
            int(await session.scalar(select(func.count()).select_from(Business)) or 0),
            int(await session.scalar(select(func.count()).select_from(Application)) or 0),
            int(await session.scalar(select(func.count()).select_from(ApplicationEvent)) or 0),
        )


async def upload_checklist(
    client: httpx.AsyncClient, headers: dict[str, str], app_id: int, items: Sequence[str]
) -> None:
    """Upload one PDF for each checklist item (each must be accepted)."""
    for item in items:
        uploaded = await client.post(
            f"/api/v1/applications/{app_id}/documents",
            data={"checklist_item": item},
            files={"file": ("berkas.pdf", PDF, "application/pdf")},
            headers=headers,
        )
        assert uploaded.status_code == 201, uploaded.text
