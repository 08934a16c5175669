"""The pages work without JavaScript: apply, upload, track, work queue, transparency, verify."""

from __future__ import annotations

import re
from typing import Any

from sabilulungan.models import Document, Proposal
from shared.testing import assert_problem, client_for

from .conftest import EVALUATION

HTML = {"accept": "text/html"}
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _csrf(page: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, "form without csrf token"
    return match.group(1)


async def _login(client: Any, username: str) -> None:
    r = await client.post("/login", data={"username": username, "password": "password-123"})
    assert r.status_code == 303, r.text


async def test_applicant_applies_uploads_and_tracks_through_pages(world: Any) -> None:
    await world.budget("bansos", 100_000_000)
    async with client_for(world.app, headers=HTML) as browser:
        r = await browser.get("/ajukan")
        assert r.status_code == 303
        assert "/login" in r.headers["location"]
        await _login(browser, "applicant")
        form_page = await browser.get("/ajukan")
        assert form_page.status_code == 200
        assert 'label for="requested_amount_idr"' in form_page.text
        fields = {
            "csrf_token": _csrf(form_page.text),
            "kind": "bansos",
            "fiscal_year": str(world.year),
            "title": "Bantuan kursi roda",
            "purpose": "Kursi roda untuk warga lansia",
            "purpose_code": "rehabilitasi_sosial",
            "social_risk": "disabilitas",
            "requested_amount_idr": "3.000.000",
            "line_description_0": "Kursi roda",
            "line_amount_0": "3.000.000",
            "applicant_type": "individual",
            "applicant_name": "Pak Darto",
            "nik": "3273010101900001",
            "address": "Jl. Kenanga No. 3",
            "region_code": "32.73.01.1001",
            "phone": "081234567890",
        }
        wrong = await browser.post("/ajukan", data={**fields, "line_amount_0": "2.000.000"})
        assert wrong.status_code == 422
        assert "3000000" in wrong.text or "3.000.000" in wrong.text  # the form keeps its values
        assert await world.count(Proposal) == 0
        created = await browser.post("/ajukan", data=fields)
        assert created.status_code == 303, created.text
        detail = await browser.get(created.headers["location"])
        assert detail.status_code == 200
        code = re.search(r'id="tracking-code">([^<]+)<', detail.text).group(1)  # type: ignore[union-attr]
        pid = int(created.headers["location"].split("/")[-1].split("?")[0])
        upload = await browser.post(
            f"/usulan/{pid}/dokumen",
            data={"csrf_token": _csrf(detail.text), "item": "proposal_letter"},
            files={"file": ("surat.pdf", PDF, "application/pdf")},
        )
        assert upload.status_code == 200
        assert await world.count(Document) == 1
        no_csrf = await browser.post(f"/usulan/{pid}/aksi", data={"action": "withdraw"})
        assert no_csrf.status_code == 403
        assert (await world.row(Proposal, id=pid)).status == "submitted"

    async with client_for(world.app, headers=HTML) as officer:
        await _login(officer, "clerk")
        queue = await officer.get("/antrian")
        assert queue.status_code == 200
        assert code in queue.text
        page = await officer.get(f"/usulan/{pid}")
        assert "Berkas lengkap" in page.text
        # The page lists what is missing before the button is pressed, and the button refuses.
        assert "Dokumen yang masih kurang" in page.text
        assert "KTP pemohon" in page.text
        refused = await officer.post(
            f"/usulan/{pid}/aksi",
            data={"csrf_token": _csrf(page.text), "action": "verify_completeness"},
        )
        assert refused.status_code == 422
        assert "Dokumen persyaratan belum lengkap" in refused.text
        assert (await world.row(Proposal, id=pid)).status == "submitted"
        await world.complete(pid, "clerk")
        done = await officer.post(
            f"/usulan/{pid}/aksi",
            data={"csrf_token": _csrf(page.text), "action": "verify_completeness"},
        )
        assert done.status_code == 303
        assert (await world.row(Proposal, id=pid)).status == "awaiting_assignment"

    async with client_for(world.app, headers=HTML) as public:
        r = await public.get(f"/lacak?kode={code}")
        assert r.status_code == 303
        track = await public.get(r.headers["location"])
        assert track.status_code == 200
        assert "Penunjukan OPD" in track.text
        assert "Tim Pertimbangan" in track.text
        missing = await public.get("/lacak/SB-0000-0000-000")
        assert missing.status_code == 404
        page = await public.get(f"/transparansi?tahun={world.year}")
        assert "Rp100.000.000" in page.text
        # An individual applicant is not named, nor the need, before a decree names them.
        assert "Pak Darto" not in page.text
        assert "Kursi roda" not in page.text
        assert "Kenanga" not in page.text


async def test_the_routing_page_offers_exactly_the_configured_units(world_factory: Any) -> None:
    toml = """
[sabilulungan.opd_units]
DINSOS = "Dinas Sosial"
DISPERKIM = "Dinas Perumahan dan Kawasan Permukiman"
"""
    async with world_factory(toml) as world:
        pid = (await world.submit(world.bansos()))["id"]
        await world.complete(pid)
        await world.ok(pid, "clerk", "verify_completeness")
        async with client_for(world.app, headers=HTML) as coordinator:
            await _login(coordinator, "coordinator")
            page = await coordinator.get(f"/usulan/{pid}")
        assert page.status_code == 200
        assert 'value="assign_opd"' in page.text
        selects = re.findall(r'<select[^>]*\bname="opd_code"[^>]*>(.*?)</select>', page.text, re.S)
        assert len(selects) == 1, page.text
        options = re.findall(r'<option value="([^"]*)"[^>]*>([^<]*)</option>', selects[0])
        assert options == [
            ("DINSOS", "Dinas Sosial (DINSOS)"),
            ("DISPERKIM", "Dinas Perumahan dan Kawasan Permukiman (DISPERKIM)"),
        ]


async def test_document_upload_rules(world_factory: Any) -> None:
    async with world_factory(upload_max_bytes=2048) as world:
        pid = (await world.submit(world.bansos()))["id"]
        url = f"/api/v1/proposals/{pid}/documents"

        async def send(who: str, item: str, content: bytes) -> Any:
            return await world.client.post(
                url, data={"item": item}, files={"file": ("x.pdf", content)}, headers=world.h(who)
            )

        ok = await send("applicant", "rab", PDF)
        assert ok.status_code == 201, ok.text
        assert ok.json()["content_type"] == "application/pdf"
        assert (await send("applicant", "rab", b"MZ\x90\x00 not a pdf")).status_code == 415
        # One problem type for "too large" in every service (shared.problems.PayloadTooLargeError).
        assert_problem(await send("applicant", "rab", PDF + b"0" * 4096), 413, "payload-too-large")
        assert (await send("applicant", "selfie", PDF)).status_code == 422
        assert (await send("applicant2", "rab", PDF)).status_code == 404
        assert await world.count(Document) == 1


async def test_opd_records_the_berita_acara_checklist_from_the_page(world: Any) -> None:
    pid = (await world.submit(world.bansos()))["id"]
    await world.complete(pid, "clerk")
    await world.ok(pid, "clerk", "verify_completeness")
    await world.ok(pid, "coordinator", "assign_opd", opd_code="DINSOS")
    async with client_for(world.app, headers=HTML) as officer:
        await _login(officer, "opd")
        page = await officer.get(f"/usulan/{pid}")
        assert 'label for="check_organisation_real"' in page.text
        base = {
            "csrf_token": _csrf(page.text),
            "action": "recommend",
            "amount_idr": "4.500.000",
            "check_present": "1",
        }
        # One item ticked is not an evaluation: refused, nothing stored.
        r = await officer.post(
            f"/usulan/{pid}/aksi", data={**base, "check_organisation_real": "ya"}
        )
        assert r.status_code == 422
        assert "berita acara" in r.text
        assert (await world.row(Proposal, id=pid)).recommended_amount_idr is None
        every = {f"check_{key}": "ya" for key in EVALUATION}
        r = await officer.post(f"/usulan/{pid}/aksi", data={**base, **every})
        assert r.status_code == 303, r.text
    stored = await world.row(Proposal, id=pid)
    assert stored.recommended_amount_idr == 4_500_000
    assert stored.evaluation_checklist["organisation_real"] is True
    assert stored.evaluation_checklist["ktp_verified"] is True
    r = await world.act(pid, "clerk", "return_for_revision", note="Ulangi")
    assert_problem(r, 403, "not-stage-holder")  # the clerk's desk is behind the file
    await world.ok(pid, "tapd", "consider", amount_idr=4_000_000)
    await world.ok(pid, "head", "return_to_tapd", note="Periksa ulang")
    await world.ok(pid, "tapd", "return_for_revision", note="Ulangi")
    await world.ok(pid, "applicant", "resubmit")
    await world.ok(pid, "clerk", "verify_completeness")
    await world.ok(pid, "coordinator", "assign_opd", opd_code="DINSOS")
    r = await world.act(pid, "opd", "recommend", amount_idr=1, checklist={"bribe_paid": True})
    assert r.status_code == 422
    assert r.json()["type"].endswith("/unknown-checklist-item")


async def test_register_page_then_decree_annex_from_the_queue(world: Any) -> None:
    async with client_for(world.app, headers=HTML) as browser:
        form = await browser.get("/daftar")
        assert 'label for="password"' in form.text
        data = {"username": "ibu.ani", "password": "rahasia-sekali-9", "full_name": "Ibu Ani"}
        r = await browser.post("/daftar", data=data)
        assert r.status_code == 200  # a confirmation, not an empty login page (issue 16)
        assert "Pendaftaran berhasil" in r.text
        again = await browser.post("/daftar", data=data)
        assert again.status_code == 409
        assert "sudah dipakai" in again.text
    await world.budget("bansos", 10_000_000)
    pid = (await world.submit(world.bansos()))["id"]
    await world.to_approval(pid, 5_000_000)
    await world.ok(pid, "head", "approve", decree_number="400/KEP.3/2027")
    async with client_for(world.app, headers=HTML) as head:
        await _login(head, "head")
        queue = await head.get("/antrian")
        fields = {"csrf_token": _csrf(queue.text), "fiscal_year": str(world.year)}
        missing = await head.post("/keputusan/lampiran", data={**fields, "decree_number": "X/1"})
        assert missing.status_code == 409, missing.text[:3000]
        r = await head.post(
            "/keputusan/lampiran", data={**fields, "decree_number": "400/KEP.3/2027"}
        )
        assert r.status_code == 303
        pdf = await head.get(r.headers["location"])
        assert pdf.content.startswith(b"%PDF-")
    async with client_for(world.app, headers=HTML) as clerk:
        await _login(clerk, "clerk")
        queue = await clerk.get("/antrian")
        assert "Terbitkan lampiran" not in queue.text
