"""Receipts, refusal letters, start pages, queue search/filters, decree numbers and the auditor's
audit-event browser (issue 16: "Receipts and letters", "Staff screens")."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from sabilulungan.models import AuditEvent, Proposal
from shared.testing import client_for

HTML = {"accept": "text/html"}


async def _login(client: Any, username: str, next_path: str = "") -> Any:
    data = {"username": username, "password": "password-123", "next": next_path}
    r = await client.post("/login", data=data)
    assert r.status_code == 303, r.text
    return r


async def test_receipt_page_and_pdf_for_the_owner_only(world: Any) -> None:
    pid = (await world.submit(world.bansos()))["id"]
    await world.docs(pid, ["proposal_letter"])
    async with client_for(world.app, headers=HTML) as owner:
        await _login(owner, "applicant")
        detail = await owner.get(f"/usulan/{pid}?baru=1")
        assert f'href="/usulan/{pid}/tanda-terima"' in detail.text
        assert 'id="receipt-button"' in detail.text  # right after submitting
        page = await owner.get(f"/usulan/{pid}/tanda-terima")
        assert page.status_code == 200
        code = re.search(r'id="receipt-code">([^<]+)<', page.text).group(1)  # type: ignore[union-attr]
        assert code.startswith("SB")
        assert "Pemeriksaan kelengkapan" in page.text
        assert 'id="receipt-holder">Tata Usaha<' in page.text  # the desk, as a label
        due = re.search(r'id="receipt-due">([^<]+)<', page.text).group(1)  # type: ignore[union-attr]
        assert re.match(r"\d{1,2} \w+ \d{4}", due), due
        assert "berkas.pdf" in page.text  # what was received, by name
        assert 'media="print"' in page.text  # the shared print stylesheet
        # No personal data on the receipt.
        for secret in (world.person_nik, world.person_bank, world.person_address):
            assert secret not in page.text
        pdf = await owner.get(f"/usulan/{pid}/tanda-terima.pdf")
        assert pdf.status_code == 200
        assert pdf.headers["content-type"] == "application/pdf"
        assert pdf.content.startswith(b"%PDF-")
    async with client_for(world.app, headers=HTML) as other:
        await _login(other, "applicant2")
        for path in (f"/usulan/{pid}/tanda-terima", f"/usulan/{pid}/tanda-terima.pdf"):
            refused = await other.get(path)
            assert refused.status_code == 404
            assert code not in refused.text
    async with client_for(world.app, headers=HTML) as clerk:
        await _login(clerk, "clerk")
        assert (await clerk.get(f"/usulan/{pid}/tanda-terima")).status_code == 200
    async with client_for(world.app, headers=HTML) as anonymous:
        r = await anonymous.get(f"/usulan/{pid}/tanda-terima.pdf")
        assert r.status_code == 303
        assert "/login" in r.headers["location"]


async def test_rejected_file_shows_reason_and_objection_route_on_top(world: Any) -> None:
    pid = (await world.submit(world.bansos()))["id"]
    reason = "Tujuan bantuan tidak termasuk program tahun ini"
    await world.ok(pid, "clerk", "reject", note=reason)
    async with client_for(world.app, headers=HTML) as owner:
        await _login(owner, "applicant")
        page = await owner.get(f"/usulan/{pid}")
        text = page.text
        assert 'id="penolakan"' in text
        assert text.index('id="penolakan"') < text.index("<h1>")  # at the top
        assert reason in text
        assert "keberatan" in text
        assert "UU 30/2014" in text
        assert "Pasal 77" in text
        assert "21 hari kerja" in text
        # 2 March + 21 working days (Nyepi 19 March; Idul Fitri 2027 holidays in the calendar).
        assert re.search(r"paling lambat <strong>\d{1,2} \w+ \d{4}</strong>", text)
        letter = await owner.get(f"/usulan/{pid}/surat-penolakan.pdf")
        assert letter.status_code == 200
        assert letter.content.startswith(b"%PDF-")
    async with client_for(world.app, headers=HTML) as other:
        await _login(other, "applicant2")
        assert (await other.get(f"/usulan/{pid}/surat-penolakan.pdf")).status_code == 404


async def test_no_refusal_banner_or_letter_for_a_file_not_rejected(world: Any) -> None:
    pid = (await world.submit(world.bansos()))["id"]
    async with client_for(world.app, headers=HTML) as owner:
        await _login(owner, "applicant")
        assert 'id="penolakan"' not in (await owner.get(f"/usulan/{pid}")).text
        assert (await owner.get(f"/usulan/{pid}/surat-penolakan.pdf")).status_code == 404


async def test_objection_rule_is_configuration(world_factory: Any) -> None:
    toml = """
[[objection_rules]]
effective_from = 2014-10-17
working_days = 14
addressed_to = "Kepala Dinas Sosial"
basis = "Perbup 9/2026 Pasal 4"
"""
    async with world_factory(toml) as world:
        pid = (await world.submit(world.bansos()))["id"]
        await world.ok(pid, "clerk", "reject", note="Tidak memenuhi syarat")
        async with client_for(world.app, headers=HTML) as owner:
            await _login(owner, "applicant")
            text = (await owner.get(f"/usulan/{pid}")).text
            assert "14 hari kerja" in text
            assert "Perbup 9/2026 Pasal 4" in text
            assert "Kepala Dinas Sosial" in text


async def test_login_lands_on_the_start_page_per_role(world: Any) -> None:
    async with client_for(world.app, headers=HTML) as clerk:
        r = await _login(clerk, "clerk")
        assert r.headers["location"] == "/mulai"
        start = await clerk.get("/mulai")
        assert start.headers["location"] == "/antrian"
        explicit = await _login(clerk, "clerk", "/transparansi")
        assert explicit.headers["location"] == "/transparansi"  # a page asked for wins
    async with client_for(world.app, headers=HTML) as auditor:
        await _login(auditor, "auditor")
        assert (await auditor.get("/mulai")).headers["location"] == "/audit/peristiwa"
    async with client_for(world.app, headers=HTML) as nobody:
        assert "/login" in (await nobody.get("/mulai")).headers["location"]


async def test_clerk_queue_lists_only_stages_the_clerk_holds(world: Any) -> None:
    """Finding: "menunggu tindakan Anda" listed files under evaluation, which the clerk may
    reject but does not hold. Fails on the old work_queue (it kept every state with an action)."""
    waiting = await world.submit(world.bansos(title="Menunggu tata usaha"))
    moved = await world.submit(world.bansos(title="Sudah di OPD"))
    await world.complete(moved["id"], "clerk")
    await world.ok(moved["id"], "clerk", "verify_completeness")
    await world.ok(moved["id"], "coordinator", "assign_opd", opd_code="DINSOS")
    async with client_for(world.app, headers=HTML) as clerk:
        await _login(clerk, "clerk")
        queue = (await clerk.get("/antrian")).text
        assert waiting["tracking_code"] in queue
        assert moved["tracking_code"] not in queue
    r = await world.client.get("/api/v1/proposals", headers=world.h("clerk"))
    assert r.status_code == 200  # the clerk can still find it in the full list


async def test_applicant_list_shows_every_own_file_including_refused(world: Any) -> None:
    pid = (await world.submit(world.bansos(title="Ditolak nanti")))["id"]
    await world.ok(pid, "clerk", "reject", note="Tidak memenuhi syarat")
    code = (await world.row(Proposal, id=pid)).tracking_code
    async with client_for(world.app, headers=HTML) as owner:
        await _login(owner, "applicant")
        assert code in (await owner.get("/antrian")).text
    async with client_for(world.app, headers=HTML) as other:
        await _login(other, "applicant2")
        assert code not in (await other.get("/antrian")).text


async def test_queue_search_filters_and_fiscal_year_column(world: Any) -> None:
    first = await world.submit(world.bansos(title="Kursi roda"))
    second = await world.submit(world.bansos(title="Alat bantu dengar"))
    async with client_for(world.app, headers=HTML) as clerk:
        await _login(clerk, "clerk")
        page = (await clerk.get("/antrian")).text
        assert ">TA</th>" in page
        assert f'data-label="Tahun anggaran">{world.year}<' in page
        by_code = (await clerk.get("/antrian", params={"q": first["tracking_code"]})).text
        assert first["tracking_code"] in by_code
        assert second["tracking_code"] not in by_code
        by_title = (await clerk.get("/antrian", params={"q": "dengar"})).text
        assert second["tracking_code"] in by_title
        assert first["tracking_code"] not in by_title
        other_year = (await clerk.get("/antrian", params={"tahun": str(world.year + 5)})).text
        assert first["tracking_code"] not in other_year
        stage = (await clerk.get("/antrian", params={"tahap": "submitted"})).text
        assert first["tracking_code"] in stage
        for bad in ({"tahun": "abc"}, {"tahap": "nope"}, {"batas": "x"}, {"tahun": "99999"}):
            r = await clerk.get("/antrian", params=bad)
            assert r.status_code == 422, bad
            assert "Input should be" not in r.text
            assert "query." not in r.text
            assert 'role="alert"' in r.text
            if "tahun" in bad:
                assert f'value="{bad["tahun"]}"' in r.text  # the form keeps what was typed
        assert (
            "Tahun anggaran: tulis angka tahun"
            in (await clerk.get("/antrian", params={"tahun": "abc"})).text
        )


async def test_decree_annex_offers_existing_decree_numbers(world: Any) -> None:
    await world.budget("bansos", 10_000_000)
    pid = (await world.submit(world.bansos()))["id"]
    await world.to_approval(pid, 5_000_000)
    await world.ok(pid, "head", "approve", decree_number="400/KEP.7/2027")
    async with client_for(world.app, headers=HTML) as head:
        await _login(head, "head")
        queue = (await head.get("/antrian")).text
        assert 'id="decree_number" name="decree_number" required' not in queue  # no typing
        listed = re.search(r'<ul id="decree-numbers">(.*?)</ul>', queue, re.S)
        assert listed
        assert "400/KEP.7/2027" in listed.group(1)
        assert 'type="hidden" name="decree_number" value="400/KEP.7/2027"' in queue
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', queue).group(1)  # type: ignore[union-attr]
        fields = {"csrf_token": csrf, "decree_number": "400/KEP.7/2027"}
        r = await head.post("/keputusan/lampiran", data={**fields, "fiscal_year": str(world.year)})
        assert r.status_code == 303
        after = (await head.get("/antrian")).text
        assert "unduh lampiran KEP-" in after  # issued once: now a link to the PDF


async def test_audit_browser_filters_pages_and_verifies(world: Any) -> None:
    for i in range(3):
        await world.submit(world.bansos(title=f"Usulan {i}"))
    async with client_for(world.app, headers=HTML) as auditor:
        await _login(auditor, "auditor")
        page = await auditor.get("/audit/peristiwa")
        assert page.status_code == 200
        assert 'id="verify-result"><span class="badge ok">Utuh' in page.text
        assert world.person_nik not in page.text
        assert world.person_bank not in page.text
        actions = set(re.findall(r"<code>([a-z_.]+)</code>", page.text))
        assert actions
        action = sorted(actions)[0]
        filtered = (await auditor.get("/audit/peristiwa", params={"aksi": action})).text
        assert set(re.findall(r"<code>([a-z_.]+)</code>", filtered)) == {action}
        none = (await auditor.get("/audit/peristiwa", params={"pelaku": "tidak-ada"})).text
        assert "Tidak ada peristiwa" in none
        past = await auditor.get(
            "/audit/peristiwa", params={"dari": "2000-01-01", "sampai": "2000-01-02"}
        )
        assert "Tidak ada peristiwa" in past.text
        for bad in ({"dari": "kemarin"}, {"dari": "2027-02-02", "sampai": "2027-01-01"}):
            r = await auditor.get("/audit/peristiwa", params=bad)
            assert r.status_code == 422
            assert "TTTT-BB-HH" in r.text or "harus sebelum" in r.text
        r = await auditor.get("/audit/peristiwa", params={"cursor": "bukan-kursor"})
        assert r.status_code == 422
        assert "tidak sah" in r.text
    async with client_for(world.app, headers=HTML) as clerk:
        await _login(clerk, "clerk")
        assert (await clerk.get("/audit/peristiwa")).status_code == 403
    async with client_for(world.app, headers=HTML) as applicant:
        await _login(applicant, "applicant")
        assert (await applicant.get("/audit/peristiwa")).status_code == 403


async def test_audit_browser_pages_with_a_cursor(world: Any) -> None:
    from shared import audit_browser

    for i in range(3):
        await world.submit(world.bansos(title=f"Usulan {i}"))
    total = await world.count(AuditEvent)
    original = audit_browser.PAGE_SIZE
    audit_browser.PAGE_SIZE = 2
    try:
        async with client_for(world.app, headers=HTML) as auditor:
            await _login(auditor, "auditor")
            seen: list[str] = []
            url: str | None = "/audit/peristiwa"
            while url:
                page = (await auditor.get(url)).text
                seen += re.findall(r'data-label="No.">(\d+)<', page)
                found = re.search(r'href="([^"]+cursor=[^"]+)"', page)
                url = found.group(1).replace("&amp;", "&") if found else None
            assert len(seen) == total == len(set(seen))
            assert seen == sorted(seen, key=int, reverse=True)
    finally:
        audit_browser.PAGE_SIZE = original


async def test_receipt_and_refusal_api(world: Any) -> None:
    pid = (await world.submit(world.bansos()))["id"]
    await world.docs(pid, ["proposal_letter"])
    r = await world.client.get(f"/api/v1/proposals/{pid}/receipt", headers=world.h("applicant"))
    assert r.status_code == 200
    body = r.json()
    assert body["holder_label"] == "Tata Usaha"
    assert body["due_date"]
    assert any("berkas.pdf" in d for d in body["documents"])
    assert world.person_nik not in r.text
    assert world.person_address not in r.text
    pdf = await world.client.get(
        f"/api/v1/proposals/{pid}/receipt.pdf", headers=world.h("applicant")
    )
    assert pdf.content.startswith(b"%PDF-")
    other = await world.client.get(
        f"/api/v1/proposals/{pid}/receipt", headers=world.h("applicant2")
    )
    assert other.status_code == 404
    assert other.headers["content-type"].startswith("application/problem+json")
    not_refused = await world.client.get(
        f"/api/v1/proposals/{pid}/refusal", headers=world.h("applicant")
    )
    assert not_refused.status_code == 404
    assert not_refused.json()["type"].endswith("not-refused")
    await world.ok(pid, "clerk", "reject", note="Di luar program")
    refusal = await world.client.get(
        f"/api/v1/proposals/{pid}/refusal", headers=world.h("applicant")
    )
    assert refusal.status_code == 200
    got = refusal.json()
    assert got["reason"] == "Di luar program"
    assert got["objection_working_days"] == 21
    assert "Pasal 77" in got["basis"]
    # 21 working days of the regency calendar after the decision day (not 21 calendar days).
    decided = dt.date.fromisoformat(got["decided_on"])
    calendar = world.app.state.calendar
    assert got["objection_deadline"] == calendar.add_working_days(decided, 21).isoformat()
    assert (dt.date.fromisoformat(got["objection_deadline"]) - decided).days > 21
    letter = await world.client.get(
        f"/api/v1/proposals/{pid}/refusal.pdf", headers=world.h("applicant")
    )
    assert letter.content.startswith(b"%PDF-")


async def test_the_receipts_tracking_link_behind_a_gateway_holds_the_prefix_once(
    world: Any,
) -> None:
    """Without a configured public URL the link comes from the request; behind a gateway that
    serves the service under `/sabilulungan` (ROOT_PATH) it was
    `/sabilulungan/sabilulungan/lacak/…`, a dead link printed on every receipt."""
    import httpx

    assert not world.app.state.settings.public_url
    pid = (await world.submit(world.bansos()))["id"]
    transport = httpx.ASGITransport(app=world.app, root_path="/sabilulungan")
    async with httpx.AsyncClient(transport=transport, base_url="http://kota.example") as client:
        answer = await client.get(
            f"/sabilulungan/api/v1/proposals/{pid}/receipt", headers=world.h("applicant")
        )
    assert answer.status_code == 200, answer.text
    track_url = answer.json()["track_url"]
    assert track_url.startswith("http://kota.example/sabilulungan/lacak/SB"), track_url
