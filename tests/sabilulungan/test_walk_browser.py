"""One hibah and one bansos walked through the pages in headless Chromium, each person at their
own desk: the applicant files the proposal and its RAB on the apply page and uploads the documents
on the file's page; the officials move it to the accepted LPJ, with the documents each step asks
for; the refusals (shown on the page, the file unmoved) when one is missing, when the RAB does not
add up, and when the LPJ leaves money unspent that has not been returned to the Kas Daerah."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest

from sabilulungan.config import CHECKLIST_ITEMS, LPJ_DOCUMENTS
from shared.testing import add_account, bearer, client_for

from .test_pages_browser import PDF, _login

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
REFUND_RECEIPT = CHECKLIST_ITEMS["refund_receipt"]

# The apply page's fields, by the label a citizen reads; the RAB as (description, amount) rows.
HIBAH = {
    "Jenis bantuan": "hibah",
    "Tahun anggaran": str(YEAR),
    "Judul usulan": "Peralatan sanggar seni",
    "Tujuan penggunaan dana": "Gamelan dan pelatih untuk latihan anak-anak",
    "Jumlah yang diusulkan (rupiah, tanpa sen)": "12.000.000",
    "Pemohon adalah": "organization",
    "Nama pemohon": "Sanggar Seni Sauyunan",
    "Nomor badan hukum / SK Kemenkumham (wajib untuk hibah)": "AHU-0012345.AH.01.04.2019",
    "NPWP": "01.234.567.8-901.000",
    "Alamat": "Jl. Braga No. 1, Bandung",
    "Kode wilayah desa/kelurahan": "32.73.01.1001",
    "Nomor telepon": "0224201111",
    "Nomor rekening bank": "1234567890123",
    "Nama ketua": "Ketua Sanggar",
    "NIK ketua": "3273010101900001",
    "Nama sekretaris": "Sekretaris Sanggar",
    "NIK sekretaris": "3273014505850002",
}
HIBAH_RAB = [("Gamelan", "9.000.000"), ("Honor pelatih", "3.000.000")]
BANSOS = {
    "Jenis bantuan": "bansos",
    "Tahun anggaran": str(YEAR),
    "Judul usulan": "Modal usaha warung",
    "Tujuan penggunaan dana": "Modal barang dagangan keluarga rentan",
    "Tujuan bansos (wajib untuk bansos)": "pemberdayaan_sosial",
    "Risiko sosial yang dihadapi penerima (wajib untuk bansos)": "kemiskinan",
    "Jumlah yang diusulkan (rupiah, tanpa sen)": "3.000.000",
    "Pemohon adalah": "individual",
    "Nama pemohon": "Ibu Enok",
    "NIK (wajib untuk perorangan)": "3273015203800003",
    "Alamat": "Jl. Kenanga No. 3, Bandung",
    "Kode wilayah desa/kelurahan": "32.73.01.1001",
    "Nomor telepon": "081234567891",
    "Nomor rekening bank": "9876543210",
}
BANSOS_RAB = [("Barang dagangan", "3.000.000")]


async def _fill(page: Any, fields: dict[str, str]) -> None:
    for label, value in fields.items():
        field = page.get_by_label(label, exact=True)
        if await field.evaluate("e => e.tagName") == "SELECT":
            await field.select_option(value)
        else:
            await field.fill(value)


async def _apply(page: Any, fields: dict[str, str], rab: list[tuple[str, str]]) -> int:
    """File the proposal on the apply page (the applicant is logged in there); its id."""
    await _fill(page, fields)
    for i, (description, amount) in enumerate(rab, start=1):
        await _fill(page, {f"Uraian {i}": description, f"Jumlah {i} (Rp)": amount})
    await page.get_by_role("button", name="Kirim usulan").click()
    await page.wait_for_url(re.compile(r"/usulan/\d+"))
    assert "Usulan diterima" in await page.get_by_role("status").first.inner_text()
    return int(re.search(r"/usulan/(\d+)", page.url).group(1))  # type: ignore[union-attr]


class Desk:
    """The browser, logged in as one person at a time, on one file's page."""

    def __init__(self, page: Any, live: Any, pid: int, upload: Path, who: str) -> None:
        self.page, self.url = page, live.url
        self.pid, self.upload = pid, upload
        self.who: str | None = who

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
        tests/shared/test_pages_browser.py): the test process's own app may log in too (budgets),
        and its password hasher may upgrade the hash the live server set; an upgraded hash raises
        the account's epoch, ending this page session within the 2 s revocation refresh."""
        await self.page.context.clear_cookies()
        await self.page.goto(self.url + "/")
        self.who = None

    async def status(self) -> str:
        text: str = await self.page.locator("#status").inner_text()
        return text

    async def main(self) -> str:
        text: str = await self.page.locator("main").inner_text()
        return text

    async def missing(self) -> list[str]:
        """The page's list of what the file still needs for its next step."""
        items: list[str] = await self.page.locator("#dokumen-kurang li").all_inner_texts()
        return items

    async def upload_items(self, labels: list[str]) -> None:
        for label in labels:
            await self.page.get_by_label("Jenis dokumen").select_option(label=label)
            await self.page.get_by_label("Berkas (PDF, JPG atau PNG)").set_input_files(
                str(self.upload)
            )
            await self.page.get_by_role("button", name="Unggah dokumen").click()
            await self.page.wait_for_load_state()
            assert "Berkas diunggah." in await self.main(), label

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


def _spending(spent: list[str]) -> dict[str, str]:
    return {f"spent_line_{i}": amount for i, amount in enumerate(spent)}


async def _walk(
    desk: Desk, owner: str, amount: str, rab: list[tuple[str, str]], spent: list[str]
) -> None:
    """From the filed proposal to the LPJ under review; `spent` is the LPJ's figure per RAB line."""
    hibah = len(rab) > 1  # the hibah in this walk has a two-line RAB
    # The applicant puts every required document on file but one, from the page's own list.
    await desk.as_(owner)
    required = await desk.missing()
    assert len(required) >= 5
    await desk.upload_items(required[:-1])
    # "Berkas lengkap" is refused while one is missing, and the page says which.
    await desk.as_("tatausaha")
    assert await desk.missing() == required[-1:]
    await desk.act("verify_completeness")
    assert "Dokumen persyaratan belum lengkap" in await desk.main()
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
    refused = await desk.main()
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
    await desk.act("submit_report", **_spending(spent))
    assert "Dokumen persyaratan belum lengkap" in await desk.main()
    assert "Dicairkan" in await desk.status()
    lpj = await desk.missing()
    assert lpj == [CHECKLIST_ITEMS[item] for item in LPJ_DOCUMENTS]
    await desk.upload_items(lpj)
    await desk.act("submit_report", **_spending(spent))
    assert "Pemeriksaan LPJ" in await desk.status()
    await desk.as_("opd2")  # not the evaluator who recommended: a different person reviews
    rows = await desk.page.locator("#rab tbody tr").all_inner_texts()  # the LPJ per RAB line
    assert "Realisasi LPJ" in await desk.page.locator("#rab").inner_text()
    assert len(rows) == len(rab) == len(spent)
    for row, (description, planned), used in zip(rows, rab, spent, strict=True):
        cells = re.split(r"\s*\t\s*", row.strip())
        assert cells == [description, f"Rp{planned}", f"Rp{used}"], row


async def _accept(desk: Desk) -> None:
    await desk.as_("opd2")
    await desk.act("accept_report")
    assert await desk.status() == "Selesai"


async def _refund(desk: Desk, owner: str, unspent: str, too_much: str) -> None:
    """The LPJ reported less than was paid: "Terima LPJ" waits until the applicant's deposit slip
    is on file and finance has recorded the refund."""
    assert desk.who == "opd2"
    saldo = await desk.page.locator("#lpj-saldo").inner_text()
    assert f"sisa wajib setor Rp{unspent} · sudah disetor Rp0" in saldo, saldo
    await desk.act("accept_report")
    refused = await desk.main()
    assert f"Sisa dana Rp{unspent} belum disetor kembali ke Kas Daerah" in refused, refused
    assert "Pemeriksaan LPJ" in await desk.status()
    # Finance cannot record the refund before the deposit slip is on file.
    await desk.as_("keuangan")
    await desk.act("refund", amount_idr=unspent)
    assert "Dokumen persyaratan belum lengkap" in await desk.main()
    assert "sudah disetor Rp0" in await desk.page.locator("#lpj-saldo").inner_text()
    # The applicant's page asks for the deposit slip, and she uploads it there.
    await desk.as_(owner)
    assert await desk.missing() == [REFUND_RECEIPT]
    await desk.upload_items([REFUND_RECEIPT])
    # More than the unspent balance is refused; the balance itself is recorded.
    await desk.as_("keuangan")
    await desk.act("refund", amount_idr=too_much)
    refused = await desk.main()
    assert f"melebihi sisa dana yang masih dapat disetor ke Kas Daerah (Rp{unspent})" in refused
    assert "sudah disetor Rp0" in await desk.page.locator("#lpj-saldo").inner_text()
    await desk.act("refund", amount_idr=unspent)
    assert "Tindakan tersimpan." in await desk.main()
    assert f"sudah disetor Rp{unspent}" in await desk.page.locator("#lpj-saldo").inner_text()
    assert "Pemeriksaan LPJ" in await desk.status()


async def test_hibah_and_bansos_walk_to_a_closed_lpj_with_their_documents(
    live_service: Any, page: Any, tmp_path: Path
) -> None:
    live = await live_service("sabilulungan")
    upload = tmp_path / "berkas.pdf"
    upload.write_bytes(PDF)
    for username, roles in PEOPLE.items():
        unit = "DINSOS" if username.startswith("opd") else None
        await add_account(live.app, username, roles, name=username, unit=unit)
    # Setup only: the ceilings are set through the API (TAPD has no page for them).
    async with client_for(live.app) as client:
        tapd = await bearer(client, "tapd")
        for kind in ("hibah", "bansos"):
            r = await client.post(
                "/api/v1/budgets",
                json={"fiscal_year": YEAR, "kind": kind, "ceiling_idr": 80_000_000},
                headers=tapd,
            )
            assert r.status_code == 201, r.text

    # The hibah: a RAB that does not add up is refused on the page, the form kept.
    await _login(page, live.url, "pemohon", "/ajukan")
    await _fill(page, HIBAH)
    await _fill(page, {"Uraian 1": "Gamelan", "Jumlah 1 (Rp)": "9.000.000"})
    await _fill(page, {"Uraian 2": "Honor pelatih", "Jumlah 2 (Rp)": "2.000.000"})
    await page.get_by_role("button", name="Kirim usulan").click()
    await page.wait_for_load_state()
    errors = await page.locator("#kesalahan").inner_text()
    assert "Jumlah rincian anggaran (Rp11.000.000) tidak sama" in errors, errors
    assert page.url == f"{live.url}/ajukan"
    assert await page.get_by_label("NIK ketua").input_value() == "3273010101900001"
    hibah = Desk(page, live, await _apply(page, HIBAH, HIBAH_RAB), upload, "pemohon")
    # The hibah spends 11 of the 12 million paid: 1 million goes back to the Kas Daerah.
    await _walk(hibah, "pemohon", "12.000.000", HIBAH_RAB, ["9.000.000", "2.000.000"])
    await _refund(hibah, "pemohon", "1.000.000", "1.500.000")
    await _accept(hibah)
    await hibah.logout()

    await _login(page, live.url, "warga", "/ajukan")
    bansos = Desk(page, live, await _apply(page, BANSOS, BANSOS_RAB), upload, "warga")
    await _walk(bansos, "warga", "3.000.000", BANSOS_RAB, ["3.000.000"])
    await _accept(bansos)

    await page.goto(f"{live.url}/transparansi?tahun={YEAR}")
    table = page.locator("table.ledger")
    text = await table.inner_text()
    assert "Sanggar Seni Sauyunan" in text
    assert "Ibu Enok" in text  # named in a Keputusan
    assert text.count("Selesai") == 2
    refunded = {
        name: await table.locator("tbody tr", has_text=name)
        .locator('td[data-label="Dikembalikan"]')
        .inner_text()
        for name in ("Sanggar Seni Sauyunan", "Ibu Enok")
    }
    assert refunded == {"Sanggar Seni Sauyunan": "Rp1.000.000", "Ibu Enok": "Rp0"}
    totals = await page.locator("main").inner_text()
    assert re.search(r"Dikembalikan ke Kas Daerah\s+Rp1\.000\.000", totals), totals
