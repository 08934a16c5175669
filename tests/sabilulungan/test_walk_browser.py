"""One hibah and one bansos walked through the pages in headless Chromium, each official at their
own desk, from the filed proposal to the accepted LPJ, with the documents each step asks for; and
the refusal (shown on the page, the file unmoved) when one is missing."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from sabilulungan.config import LPJ_DOCUMENTS
from shared.testing import add_account, bearer, client_for

from .test_pages_browser import PDF, _login, _organization

pytestmark = pytest.mark.browser

# Paid files belong to the year they are paid in: the live service runs on the real clock.
YEAR = dt.date.today().year
PEOPLE = {
    "pemohon": ["applicant"],
    "warga": ["applicant"],
    "tatausaha": ["clerk"],
    "koordinator": ["coordinator"],
    "opd": ["opd_evaluator"],
    "opd2": ["opd_evaluator"],
    "tapd": ["tapd"],
    "kepala": ["head"],
    "keuangan": ["finance"],
}


class Desk:
    """The browser, logged in as one person at a time, on one file's page."""

    def __init__(self, page: Any, live: Any, pid: int, upload: Path) -> None:
        self.page, self.url, self.app = page, live.url, live.app
        self.pid, self.upload = pid, upload
        self.who: str | None = None

    async def required(self) -> list[str]:
        """What the file's category still needs (read through the API as Tata Usaha)."""
        async with client_for(self.app) as client:
            r = await client.get(
                f"/api/v1/proposals/{self.pid}", headers=await bearer(client, "tatausaha")
            )
        assert r.status_code == 200, r.text
        items: list[str] = r.json()["missing_documents"]
        return items

    async def as_(self, who: str) -> None:
        if self.who != who:
            if self.who is not None:
                await self.logout()
            await _login(self.page, self.url, who, f"/usulan/{self.pid}")
            self.who = who
        else:
            await self.page.goto(f"{self.url}/usulan/{self.pid}")

    async def logout(self) -> None:
        """Hand the browser to the next person. Not through "Keluar" (tested in
        tests/shared/test_pages_browser.py): `required()` logs in through the test process's own
        app, whose password hasher may upgrade the hash the live server set, and an upgraded hash
        raises the account's epoch, ending this page session within the 2 s revocation refresh."""
        await self.page.context.clear_cookies()
        await self.page.goto(self.url + "/")

    async def status(self) -> str:
        text: str = await self.page.locator("#status").inner_text()
        return text

    async def upload_items(self, items: list[str]) -> None:
        for item in items:
            await self.page.get_by_label("Jenis dokumen").select_option(item)
            await self.page.get_by_label("Berkas (PDF, JPG atau PNG)").set_input_files(
                str(self.upload)
            )
            await self.page.get_by_role("button", name="Unggah dokumen").click()
            await self.page.wait_for_load_state()
            assert "Berkas diunggah." in await self.page.locator("main").inner_text(), item

    async def act(self, action: str, *, tick: bool = True, **fields: str) -> None:
        """Open the action's form, fill it (every evaluation item ticked unless `tick` is false)
        and press its button."""
        form = self.page.locator("details.action").filter(
            has=self.page.locator(f'input[name="action"][value="{action}"]')
        )
        if await form.get_attribute("open") is None:
            await form.locator("summary").click()
        for name, value in fields.items():
            field = form.locator(f'[name="{name}"]')
            if await field.evaluate("e => e.tagName") == "SELECT":
                await field.select_option(value)
            else:
                await field.fill(value)
        for box in await form.locator("input.check").all():
            await (box.check() if tick else box.uncheck())
        await form.locator('button[type="submit"]').click()
        await self.page.wait_for_load_state()


async def _walk(desk: Desk, owner: str, kind: str, amount: str) -> None:
    hibah = kind == "hibah"
    # The applicant puts every required document on file but one.
    await desk.as_("tatausaha")
    missing = await desk.page.locator("#dokumen-kurang li").all_inner_texts()
    assert len(missing) >= 5
    required = await desk.required()
    assert len(required) == len(missing)
    await desk.as_(owner)
    await desk.upload_items(required[:-1])
    # "Berkas lengkap" is refused while one is missing, and the page says which.
    await desk.as_("tatausaha")
    still = await desk.page.locator("#dokumen-kurang li").all_inner_texts()
    assert len(still) == 1
    await desk.act("verify_completeness")
    main = await desk.page.locator("main").inner_text()
    assert "Dokumen persyaratan belum lengkap" in main
    assert await desk.status() == "Pemeriksaan kelengkapan (Tata Usaha)"
    await desk.upload_items(required[-1:])  # Tata Usaha adds the last one
    await desk.act("verify_completeness")
    assert "Penunjukan OPD" in await desk.status()
    await desk.as_("koordinator")
    await desk.act("assign_opd", opd_code="DINSOS")
    assert "Evaluasi OPD" in await desk.status()
    await desk.as_("opd")
    # A recommendation with the evaluation checklist left empty is refused; the file stays.
    await desk.act("recommend", tick=False, amount_idr=amount)
    assert "Evaluasi OPD" in await desk.status()
    refused = await desk.page.locator("main").inner_text()
    assert "Semua butir berita acara evaluasi wajib dijawab" in refused, refused
    await desk.act("recommend", amount_idr=amount)
    await desk.as_("tapd")
    await desk.act("consider", amount_idr=amount)
    assert "Keputusan kepala daerah" in await desk.status()
    await desk.as_("kepala")
    await desk.act("approve", decree_number=f"400/KEP.{desk.pid}/{YEAR}")
    if hibah:
        await desk.as_("keuangan")
        assert 'value="disburse"' not in await desk.page.content()  # no "Cairkan" before NPHD
        await desk.as_("kepala")
        await desk.act("sign_agreement", agreement_number=f"NPHD/{desk.pid}/{YEAR}")
        assert "NPHD ditandatangani" in await desk.status()
    await desk.as_("keuangan")
    await desk.act("disburse", amount_idr=amount)
    assert "Dicairkan" in await desk.status()
    # "Serahkan LPJ" is refused without its evidence; with it, the LPJ goes to the OPD.
    await desk.as_(owner)
    await desk.act("submit_report", spent_line_0=amount)
    assert "Dokumen persyaratan belum lengkap" in await desk.page.locator("main").inner_text()
    assert "Dicairkan" in await desk.status()
    await desk.upload_items(LPJ_DOCUMENTS)
    await desk.act("submit_report", spent_line_0=amount)
    assert "Pemeriksaan LPJ" in await desk.status()
    await desk.as_("opd2")  # not the evaluator who recommended: a different person reviews
    rab = await desk.page.locator("#rab").inner_text()  # the LPJ per RAB line, for the review
    assert "Realisasi LPJ" in rab
    assert rab.count(f"Rp{amount}") + rab.count(f"Rp {amount}") >= 2, rab
    await desk.act("accept_report")
    assert await desk.status() == "Selesai"


async def test_hibah_and_bansos_walk_to_a_closed_lpj_with_their_documents(
    live_service: Any, page: Any, tmp_path: Path
) -> None:
    live = await live_service("sabilulungan")
    upload = tmp_path / "berkas.pdf"
    upload.write_bytes(PDF)
    async with client_for(live.app) as client:
        for username, roles in PEOPLE.items():
            unit = "DINSOS" if username.startswith("opd") else None
            await add_account(live.app, username, roles, name=username, unit=unit)
        tapd = await bearer(client, "tapd")
        for kind in ("hibah", "bansos"):
            r = await client.post(
                "/api/v1/budgets",
                json={"fiscal_year": YEAR, "kind": kind, "ceiling_idr": 80_000_000},
                headers=tapd,
            )
            assert r.status_code == 201, r.text
        hibah = {
            "kind": "hibah",
            "fiscal_year": YEAR,
            "title": "Peralatan sanggar seni",
            "purpose": "Gamelan untuk latihan anak-anak",
            "requested_amount_idr": 12_000_000,
            "budget_lines": [{"description": "Gamelan", "amount_idr": 12_000_000}],
            "applicant": _organization("Sanggar Seni Sauyunan"),
        }
        bansos = {
            "kind": "bansos",
            "fiscal_year": YEAR,
            "title": "Modal usaha warung",
            "purpose": "Modal barang dagangan keluarga rentan",
            "purpose_code": "pemberdayaan_sosial",
            "social_risk": "kemiskinan",
            "requested_amount_idr": 3_000_000,
            "budget_lines": [{"description": "Barang dagangan", "amount_idr": 3_000_000}],
            "applicant": {
                "type": "individual",
                "name": "Ibu Enok",
                "nik": "3273015203800003",
                "address": "Jl. Kenanga No. 3, Bandung",
                "region_code": "32.73.01.1001",
                "phone": "081234567891",
                "bank_account": "9876543210",
            },
        }
        ids = {}
        for who, body in (("pemohon", hibah), ("warga", bansos)):
            r = await client.post("/api/v1/proposals", json=body, headers=await bearer(client, who))
            assert r.status_code == 201, r.text
            ids[body["kind"]] = r.json()["id"]
    desk = Desk(page, live, ids["hibah"], upload)
    await _walk(desk, "pemohon", "hibah", "12.000.000")
    await desk.logout()
    desk = Desk(page, live, ids["bansos"], upload)
    await _walk(desk, "warga", "bansos", "3.000.000")
    await page.goto(f"{live.url}/transparansi?tahun={YEAR}")
    table = await page.locator("table").inner_text()
    assert "Sanggar Seni Sauyunan" in table
    assert "Ibu Enok" in table  # named in a Keputusan
    assert table.count("Selesai") == 2
