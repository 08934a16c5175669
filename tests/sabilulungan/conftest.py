"""Typed helpers for Sabilulungan tests: a running app with one account per role."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, cast

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from sabilulungan.config import EVALUATION_CHECKLIST, LPJ_DOCUMENTS
from shared.testing import AppFactory, add_account, bearer, client_for

FISCAL_YEAR = dt.date.today().year + 1
# The tests' "now": inside the fiscal year, so that disbursements are on time (13:00 WIB).
NOW = dt.datetime(FISCAL_YEAR, 3, 2, 6, 0, tzinfo=dt.UTC)
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
EVALUATION = dict.fromkeys(EVALUATION_CHECKLIST, True)

ORG_NIK_CHAIR = "3273010101900001"
ORG_NIK_SECRETARY = "3273014505850002"
ORG_BANK = "1234567890123"
PERSON_NIK = "3273015203800003"
PERSON_BANK = "9876543210"
PERSON_ADDRESS = "Jl. Melati Gang Buntu No. 7 RT 02 RW 05"
PERSON_PHONE = "081298765432"

ROLES = {
    "applicant": ["applicant"],
    "applicant2": ["applicant"],
    "clerk": ["clerk"],
    "coordinator": ["coordinator"],
    "opd": ["opd_evaluator"],
    "opd_other": ["opd_evaluator"],
    "opd2": ["opd_evaluator"],
    "tapd": ["tapd"],
    "head": ["head"],
    "finance": ["finance"],
    "auditor": ["auditor"],
    "admin": ["admin"],
}
UNITS = {"opd": "DINSOS", "opd_other": "DISPORA", "opd2": "DINSOS"}


# Proposal windows are required by default: the tests' regency opens one for each fiscal year
# they file for (a test that sets its own `proposal_windows` keeps only those).
TEST_WINDOWS = (
    "".join(
        f"""
[[sabilulungan.proposal_windows]]
fiscal_year = {year}
opens_on = {year - 3}-01-01
closes_on = {year}-12-31
"""
        for year in range(FISCAL_YEAR - 3, FISCAL_YEAR + 4)
    )
    + "\n[sabilulungan.yearly_window]\nenabled = false\n"
)


def with_test_windows(config_toml: str | None) -> str:
    text = config_toml or ""
    if "proposal_windows" in text or "window" in text:
        return text
    return text + "\n" + TEST_WINDOWS


@pytest.fixture
def make_app(make_app: AppFactory) -> AppFactory:
    """The shared factory, with the tests' proposal windows in Sabilulungan's regency file."""

    async def factory(service: str, *, config_toml: str | None = None, **kw: Any) -> FastAPI:
        if service == "sabilulungan" and "regency_config" not in kw:
            config_toml = with_test_windows(config_toml)
        return await make_app(service, config_toml=config_toml, **kw)

    return cast(AppFactory, factory)


def hibah_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "kind": "hibah",
        "fiscal_year": FISCAL_YEAR,
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
            "bank_account": ORG_BANK,
            "board_members": [
                {"name": "Ketua Yayasan", "nik": ORG_NIK_CHAIR, "position": "Ketua"},
                {"name": "Sekretaris Yayasan", "nik": ORG_NIK_SECRETARY, "position": "Sekretaris"},
            ],
        },
    }
    body.update(overrides)
    return body


def bansos_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "kind": "bansos",
        "fiscal_year": FISCAL_YEAR,
        "title": "Bantuan modal usaha warung",
        "purpose": "Modal usaha bagi keluarga rentan",
        "purpose_code": "pemberdayaan_sosial",
        "social_risk": "kemiskinan",
        "requested_amount_idr": 5_000_000,
        "budget_lines": [{"description": "Modal barang dagangan", "amount_idr": 5_000_000}],
        "applicant": {
            "type": "individual",
            "name": "Siti Aminah",
            "nik": PERSON_NIK,
            "address": PERSON_ADDRESS,
            "region_code": "32.73.01.1001",
            "phone": PERSON_PHONE,
            "bank_account": PERSON_BANK,
        },
    }
    body.update(overrides)
    return body


@dataclass
class World:
    app: FastAPI
    client: httpx.AsyncClient
    headers: dict[str, dict[str, str]] = field(default_factory=dict)

    year = FISCAL_YEAR
    org_nik_chair = ORG_NIK_CHAIR
    org_bank = ORG_BANK
    person_nik = PERSON_NIK
    person_bank = PERSON_BANK
    person_address = PERSON_ADDRESS
    person_phone = PERSON_PHONE
    hibah = staticmethod(hibah_body)
    bansos = staticmethod(bansos_body)

    def h(self, who: str) -> dict[str, str]:
        return self.headers[who]

    async def budget(self, kind: str, ceiling: int, year: int = FISCAL_YEAR) -> None:
        r = await self.client.post(
            "/api/v1/budgets",
            json={"fiscal_year": year, "kind": kind, "ceiling_idr": ceiling},
            headers=self.h("tapd"),
        )
        assert r.status_code == 201, r.text

    async def submit(self, body: dict[str, Any], who: str = "applicant") -> dict[str, Any]:
        r = await self.client.post("/api/v1/proposals", json=body, headers=self.h(who))
        assert r.status_code == 201, r.text
        result: dict[str, Any] = r.json()
        return result

    async def act(self, pid: int, who: str, action: str, **fields: Any) -> httpx.Response:
        return await self.client.post(
            f"/api/v1/proposals/{pid}/transitions",
            json={"action": action, **fields},
            headers=self.h(who),
        )

    async def ok(self, pid: int, who: str, action: str, **fields: Any) -> dict[str, Any]:
        r = await self.act(pid, who, action, **fields)
        assert r.status_code == 200, r.text
        result: dict[str, Any] = r.json()
        return result

    def at(self, when: dt.datetime) -> None:
        """Fix the service's clock (UTC)."""
        self.app.state.clock = lambda: when

    async def upload(
        self, pid: int, item: str, who: str = "applicant", name: str = "berkas.pdf"
    ) -> httpx.Response:
        return await self.client.post(
            f"/api/v1/proposals/{pid}/documents",
            data={"item": item},
            files={"file": (name, PDF, "application/pdf")},
            headers=self.h(who),
        )

    async def docs(self, pid: int, items: list[str], who: str = "applicant") -> None:
        for item in items:
            r = await self.upload(pid, item, who)
            assert r.status_code == 201, r.text

    async def complete(self, pid: int, who: str = "clerk") -> None:
        """Upload every document the proposal's category requires."""
        r = await self.client.get(f"/api/v1/proposals/{pid}", headers=self.h(who))
        assert r.status_code == 200, r.text
        await self.docs(pid, r.json()["missing_documents"], who)

    async def to_approval(self, pid: int, amount: int) -> None:
        await self.complete(pid, "clerk")
        await self.ok(pid, "clerk", "verify_completeness")
        await self.ok(pid, "coordinator", "assign_opd", opd_code="DINSOS")
        await self.ok(pid, "opd", "recommend", amount_idr=amount, checklist=EVALUATION)
        await self.ok(pid, "tapd", "consider", amount_idr=amount)

    async def spend(self, pid: int, spent: int) -> dict[str, Any]:
        """An LPJ's fields for `spent` rupiah: each RAB line up to its share of the approved
        amount (line x approved / requested, rounded up), in the RAB's order."""
        r = await self.client.get(f"/api/v1/proposals/{pid}", headers=self.h("auditor"))
        assert r.status_code == 200, r.text
        p = r.json()
        approved, requested = p["approved_amount_idr"] or 0, p["requested_amount_idr"]
        spending, left = [], spent
        for line in p["budget_lines"]:
            share = -(-line["amount_idr"] * approved // requested)
            spending.append({"description": line["description"], "spent_idr": min(share, left)})
            left -= spending[-1]["spent_idr"]
        return {"spent_idr": spent, "spending": spending}

    async def report(self, pid: int, who: str, spent: int, **extra: Any) -> httpx.Response:
        fields = {**(await self.spend(pid, spent)), **extra}
        return await self.act(pid, who, "submit_report", **fields)

    async def lpj(self, pid: int, spent: int, who: str = "applicant") -> None:
        await self.docs(pid, LPJ_DOCUMENTS, who)
        r = await self.report(pid, who, spent)
        assert r.status_code == 200, r.text

    async def count(self, model: Any) -> int:
        async with self.app.state.db.sessionmaker() as session:
            return int(await session.scalar(select(func.count()).select_from(model)) or 0)

    async def row(self, model: Any, **where: Any) -> Any:
        async with self.app.state.db.sessionmaker() as session:
            stmt = select(model).filter_by(**where)
            return (await session.execute(stmt)).scalar_one_or_none()


@contextlib.asynccontextmanager
async def make_world(
    make_app: AppFactory, config_toml: str | None = None, **overrides: Any
) -> AsyncIterator[World]:
    app = await make_app("sabilulungan", config_toml=config_toml, **overrides)
    app.state.clock = lambda: NOW
    async with client_for(app) as client:
        world = World(app=app, client=client)
        for username, roles in ROLES.items():
            await add_account(app, username, roles, name=username, unit=UNITS.get(username))
            world.headers[username] = await bearer(client, username)
        yield world


@pytest.fixture
def world_factory(make_app: AppFactory) -> Any:
    return lambda config_toml=None, **kw: make_world(make_app, config_toml, **kw)


@pytest.fixture
async def world(make_app: AppFactory) -> AsyncIterator[World]:
    async with make_world(make_app) as w:
        yield w


@pytest.fixture
def drawn(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """What the next generated PDF was drawn with (title, rows, table, paragraphs)."""
    from shared import documents as shared_documents

    seen: dict[str, Any] = {}
    real_build = shared_documents.build_pdf

    def spy(**kwargs: Any) -> bytes:
        seen.update(kwargs)
        return real_build(**kwargs)

    monkeypatch.setattr(shared_documents, "build_pdf", spy)
    return seen
