"""Generated PDFs carry a QR whose signed URL opens the verification page."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlalchemy import update

from sabilulungan import issued
from sabilulungan.dependencies import context_of
from sabilulungan.models import IssuedDocument, Proposal, StageEntry
from shared.testing import assert_problem

from .conftest import NOW


async def _approved_hibah(world: Any) -> dict[str, Any]:
    await world.budget("hibah", 100_000_000)
    created = await world.submit(world.hibah())
    await world.to_approval(created["id"], 30_000_000)
    await world.ok(created["id"], "head", "approve", decree_number="400/KEP.5/2027")
    return dict(created)


async def test_nphd_qr_leads_to_the_verification_page(
    world: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from shared import documents as shared_documents

    drawn: dict[str, Any] = {}
    real_build = shared_documents.build_pdf

    def spy(**kwargs: Any) -> bytes:
        drawn.update(kwargs)
        return real_build(**kwargs)

    # documents.py imports build_pdf from shared.documents when it draws the first PDF.
    monkeypatch.setattr(shared_documents, "build_pdf", spy)
    created = await _approved_hibah(world)
    pid = created["id"]
    r = await world.client.get(f"/api/v1/proposals/{pid}/nphd.pdf", headers=world.h("applicant"))
    assert_problem(r, 409, "document-not-available")
    await world.ok(pid, "head", "sign_agreement", agreement_number="NPHD/5/2027")
    pdf = await world.client.get(f"/api/v1/proposals/{pid}/nphd.pdf", headers=world.h("applicant"))
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-")
    assert pdf.content.rstrip().endswith(b"%%EOF")
    other = await world.client.get(
        f"/api/v1/proposals/{pid}/nphd.pdf", headers=world.h("applicant2")
    )
    assert_problem(other, 404)

    source = tmp_path / "nphd.pdf"
    source.write_bytes(pdf.content)
    if shutil.which("pdftoppm"):  # the PDF opens: it renders to an image
        subprocess.run(
            ["pdftoppm", "-png", "-r", "40", str(source), str(tmp_path / "p")],
            check=True,
            timeout=60,
        )
        assert sorted(tmp_path.glob("p*.png"))[0].stat().st_size > 3_000

    doc = await world.row(IssuedDocument, doc_type="nphd")
    qr = issued.verify_url(context_of(world.app.state), "http://test", doc)
    assert drawn["qr_data"] == qr  # the QR printed in the PDF is this signed verification link
    parts = urlsplit(qr)
    page = await world.client.get(f"{parts.path}?{parts.query}", headers={"accept": "text/html"})
    assert page.status_code == 200
    assert "asli dan tercatat" in page.text
    assert "Tanda tangan digital QR sah" in page.text
    assert "Rp30.000.000" in page.text
    api = (await world.client.get(f"/api/v1/public/verify/{doc.number}?{parts.query}")).json()
    assert api["signature_valid"] is True
    assert api["recipient_name"] == "Yayasan Harapan Bangsa"
    forged = (await world.client.get(f"/api/v1/public/verify/{doc.number}?t=abc.def")).json()
    assert forged["signature_valid"] is False
    unknown = await world.client.get("/verify/NPHD-NOPE", headers={"accept": "text/html"})
    assert unknown.status_code == 404
    assert_problem(
        await world.client.get("/api/v1/public/verify/NPHD-NOPE"), 404, "document-not-found"
    )


async def test_bansos_has_no_nphd(world: Any) -> None:
    await world.budget("bansos", 10_000_000)
    pid = (await world.submit(world.bansos()))["id"]
    await world.to_approval(pid, 5_000_000)
    await world.ok(pid, "head", "approve", decree_number="1/2027")
    r = await world.act(pid, "head", "sign_agreement", agreement_number="NPHD/1")
    assert_problem(r, 409, "document-not-available")


async def test_decree_annex_lists_every_recipient_and_verifies(world: Any) -> None:
    await _approved_hibah(world)
    body = {"decree_number": "400/KEP.5/2027", "fiscal_year": world.year}
    r = await world.client.post("/api/v1/decrees/annex", json=body, headers=world.h("head"))
    assert r.status_code == 201, r.text
    annex = r.json()
    assert annex["amount_idr"] == 30_000_000
    again = await world.client.post("/api/v1/decrees/annex", json=body, headers=world.h("head"))
    assert again.json()["number"] == annex["number"]
    pdf = await world.client.get(
        f"/api/v1/documents/{annex['number']}.pdf", headers=world.h("auditor")
    )
    assert pdf.status_code == 200
    assert pdf.content.startswith(b"%PDF-")
    parts = urlsplit(annex["verify_url"])
    page = await world.client.get(f"{parts.path}?{parts.query}", headers={"accept": "text/html"})
    assert "Lampiran Keputusan" in page.text
    none = {"decree_number": "999/NOPE", "fiscal_year": world.year}
    r = await world.client.post("/api/v1/decrees/annex", json=none, headers=world.h("head"))
    assert_problem(r, 409, "document-not-available")
    r = await world.client.post("/api/v1/decrees/annex", json=body, headers=world.h("applicant"))
    assert_problem(r, 403)


async def test_overdue_stages_show_in_the_timeline_and_lead_the_queue(world: Any) -> None:
    old = (await world.submit(world.bansos(title="Lama")))["id"]
    new = (await world.submit(world.bansos(title="Baru")))["id"]
    past = dt.datetime.now(dt.UTC) - dt.timedelta(days=40)
    async with world.app.state.db.sessionmaker.begin() as session:
        await session.execute(update(Proposal).where(Proposal.id == old).values(status_since=past))
        await session.execute(
            update(StageEntry).where(StageEntry.proposal_id == old).values(entered_at=past)
        )
    code = (await world.row(Proposal, id=old)).tracking_code
    track = (await world.client.get(f"/api/v1/public/track/{code}")).json()
    assert track["timeline"][0]["overdue"] is True
    assert track["timeline"][0]["working_days"] > 5
    queue = await world.client.get("/antrian", headers={**world.h("clerk"), "accept": "text/html"})
    assert queue.text.index("Lama") < queue.text.index("Baru")
    assert "Terlambat" in queue.text
    listed = (await world.client.get("/api/v1/proposals", headers=world.h("clerk"))).json()
    overdue = {p["id"]: p["overdue"] for p in listed["items"]}
    assert overdue == {old: True, new: False}


async def test_overdue_lpj_flags_the_next_proposal(world: Any) -> None:
    world.at(NOW.replace(year=world.year - 1))
    await world.budget("bansos", 50_000_000, year=world.year - 1)
    first = (await world.submit(world.bansos(fiscal_year=world.year - 1)))["id"]
    await world.to_approval(first, 5_000_000)
    await world.ok(first, "head", "approve", decree_number="1/2026")
    await world.ok(first, "finance", "disburse", amount_idr=5_000_000)
    world.at(NOW)
    async with world.app.state.db.sessionmaker.begin() as session:
        await session.execute(
            update(Proposal)
            .where(Proposal.id == first)
            .values(lpj_due_date=NOW.date() - dt.timedelta(days=1))
        )
    second = (await world.submit(world.bansos()))["id"]
    flags = (
        await world.client.get(f"/api/v1/proposals/{second}/flags", headers=world.h("clerk"))
    ).json()["flags"]
    assert "overdue_report" in {f["code"] for f in flags}


async def test_every_decision_records_the_rule_version(world_factory: Any) -> None:
    today = dt.date.today()
    toml = f"""
[[sabilulungan.rule_sets]]
version = "perbup-2020"
effective_from = 2020-01-01
[[sabilulungan.rule_sets]]
version = "perbup-baru"
effective_from = {today}
lpj_due_month = 2
lpj_due_day = 15
max_tranches = 1
"""
    async with world_factory(toml) as world:
        await world.budget("bansos", 50_000_000)
        pid = (await world.submit(world.bansos()))["id"]
        await world.to_approval(pid, 5_000_000)
        await world.ok(pid, "head", "approve", decree_number="1/2027")
        body = await world.ok(pid, "finance", "disburse", amount_idr=5_000_000)
        assert body["lpj_due_date"] == f"{world.year + 1}-02-15"
        r = await world.act(pid, "finance", "disburse", amount_idr=1_000_000)
        assert_problem(r, 409, "too-many-tranches")
        async with world.app.state.db.sessionmaker() as session:
            from sqlalchemy import select

            versions = set((await session.execute(select(StageEntry.rule_version))).scalars())
        assert versions == {"perbup-baru"}


async def test_uploaded_documents_are_listed_and_read_with_an_audit_event(world: Any) -> None:
    from sabilulungan.models import AuditEvent

    pid = (await world.submit(world.bansos()))["id"]
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    r = await world.client.post(
        f"/api/v1/proposals/{pid}/documents",
        data={"item": "ktp_chair"},
        files={"file": ("ktp.png", png, "image/png")},
        headers=world.h("applicant"),
    )
    assert r.status_code == 201
    doc_id = r.json()["id"]
    listed = await world.client.get(f"/api/v1/proposals/{pid}/documents", headers=world.h("clerk"))
    assert [d["checklist_item"] for d in listed.json()] == ["ktp_chair"]
    got = await world.client.get(
        f"/api/v1/proposals/{pid}/documents/{doc_id}", headers=world.h("clerk")
    )
    assert got.status_code == 200
    assert got.content == png
    assert got.headers["content-type"] == "image/png"
    async with world.app.state.db.sessionmaker() as session:
        from sqlalchemy import select

        actors = list(
            (
                await session.execute(
                    select(AuditEvent.actor).where(AuditEvent.action == "document.read")
                )
            ).scalars()
        )
    assert actors == ["clerk"]
    other = await world.client.get(
        f"/api/v1/proposals/{pid}/documents/{doc_id}", headers=world.h("applicant2")
    )
    assert_problem(other, 404)


async def test_nphd_has_the_pasal_13_content_and_the_rule_sets_deadline(
    world_factory: Any, drawn: dict[str, Any]
) -> None:
    toml = """
[regency]
name = "Kabupaten Contoh"
kind = "kabupaten"
code = "32.73"

[sabilulungan]
signatory_name = "Drs. Sekda Contoh"

[[sabilulungan.rule_sets]]
version = "perbup-7-2025"
effective_from = 2018-01-01
lpj_due_month = 1
lpj_due_day = 20
basis = "Perbup Contoh 7/2025"
"""
    async with world_factory(toml) as world:
        pid = (await _approved_hibah(world))["id"]
        await world.ok(
            pid, "head", "sign_agreement", agreement_number="NPHD/5/2027",
            tranches=[20_000_000, 10_000_000],
        )  # fmt: skip
        pdf = await world.client.get(
            f"/api/v1/proposals/{pid}/nphd.pdf", headers=world.h("applicant")
        )
        assert pdf.status_code == 200
    rows = dict(drawn["rows"])
    signed_by = [v for k, v in drawn["rows"] if k == "Ditandatangani oleh"]
    assert len(signed_by) == 2  # both parties sign: the regency's official and the recipient's
    assert signed_by[1].endswith(", Ketua/Pimpinan")
    # the schedule names every tranche with its amount, in order
    assert rows["Pencairan"] == (
        "transfer (LS) dalam 2 tahap: tahap 1 Rp20.000.000; tahap 2 Rp10.000.000"
    )
    duties = " ".join(drawn["paragraphs"])
    assert "Hak Pihak Kedua" in duties
    assert "Kewajiban Pihak Kedua: menggunakan dana sesuai RAB" in duties
    assert "menyetor sisa dana yang tidak digunakan ke Kas Daerah" in duties
    assert "laporan pertanggungjawaban (LPJ)" in duties
    assert f"kepada Bupati paling lambat 20 Januari {world.year + 1}" in duties
    text = " ".join([*(f"{k} {v}" for k, v in drawn["rows"]), *drawn["paragraphs"]])
    assert rows["Pihak Pertama (pemberi)"] == "Pemerintah Kabupaten Contoh"
    assert "Drs. Sekda Contoh, atas nama Bupati" in text
    assert rows["Rekening penerima"] == world.org_bank
    assert rows["Batas LPJ"] == f"20 Januari {world.year + 1}"
    assert "10 Januari" not in text
    assert "Perbup Contoh 7/2025" in text
    assert [r[1] for r in drawn["table"][1:]] == ["Material atap", "Upah tukang"]


@pytest.mark.parametrize(("kind", "title"), [("kabupaten", "Bupati"), ("kota", "Wali Kota")])
async def test_decree_annex_names_the_configured_head_of_region(
    world_factory: Any, drawn: dict[str, Any], kind: str, title: str
) -> None:
    toml = f'[regency]\nname = "{kind.title()} Contoh"\nkind = "{kind}"\ncode = "32.73"\n'
    async with world_factory(toml) as world:
        await _approved_hibah(world)
        body = {"decree_number": "400/KEP.5/2027", "fiscal_year": world.year}
        r = await world.client.post("/api/v1/decrees/annex", json=body, headers=world.h("head"))
        assert r.status_code == 201, r.text
        annex = r.json()
        pdf = await world.client.get(
            f"/api/v1/documents/{annex['number']}.pdf", headers=world.h("auditor")
        )
        assert pdf.status_code == 200
        parts = urlsplit(annex["verify_url"])
        page = await world.client.get(
            f"{parts.path}?{parts.query}", headers={"accept": "text/html"}
        )
    assert drawn["title"].startswith(f"LAMPIRAN KEPUTUSAN {title.upper()} ")
    assert f"Lampiran Keputusan {title}" in page.text
    assert "Kepala Daerah" not in page.text
