"""Receipts, refusal letters, start pages, queue search/filters and the auditor's audit-event
browser on HAYU's pages (issue 16: "Receipts and letters", "Staff screens")."""

from __future__ import annotations

import re

from hayu_factories import NIK, PHONE, actors, filing, upload_checklist

from shared.testing import add_account, client_for

HTML = {"accept": "text/html"}


def _h(headers: dict[str, str]) -> dict[str, str]:
    return {**headers, **HTML}


async def _apply(client, who, code="SS", **business):
    r = await client.post(
        "/api/v1/applications", json=filing(code, **business), headers=who.business_owner
    )
    assert r.status_code == 201, r.text
    return r.json()


async def _act(client, headers, app_id, action, **payload):
    r = await client.post(
        f"/api/v1/applications/{app_id}/transitions",
        json={"action": action, **payload},
        headers=headers,
    )
    assert r.status_code == 200, r.text


async def test_permit_receipt_names_documents_desk_and_sla_due_date(make_app):
    app = await make_app("hayu")
    async with client_for(app) as client:
        who = await actors(app, client)
        created = await _apply(client, who, "SS", capital_idr=600_000_000)
        app_id = created["id"]
        await upload_checklist(client, who.business_owner, app_id, ["ktp"])
        page = await client.get(f"/berkas/{app_id}", headers=_h(who.business_owner))
        assert f'href="/berkas/{app_id}/tanda-terima"' in page.text
        receipt = await client.get(f"/berkas/{app_id}/tanda-terima", headers=_h(who.business_owner))
        assert receipt.status_code == 200
        assert f'id="receipt-code">{created["tracking_code"]}<' in receipt.text
        assert 'id="receipt-holder">Petugas verifikasi DPMPTSP<' in receipt.text
        assert re.search(r'id="receipt-due">\d{1,2} \w+ \d{4}', receipt.text)
        assert "berkas.pdf" in receipt.text
        assert 'media="print"' in receipt.text
        for secret in (NIK, PHONE, "Jl. Merdeka"):
            assert secret not in receipt.text
        pdf = await client.get(f"/berkas/{app_id}/tanda-terima.pdf", headers=who.business_owner)
        assert pdf.status_code == 200
        assert pdf.content.startswith(b"%PDF-")
        # Another business owner: refused, the code not shown.
        for path in (f"/berkas/{app_id}/tanda-terima", f"/berkas/{app_id}/tanda-terima.pdf"):
            other = await client.get(path, headers=_h(who.other_owner))
            assert other.status_code in (403, 404)
            assert created["tracking_code"] not in other.text
        officer = await client.get(f"/berkas/{app_id}/tanda-terima", headers=_h(who.officer))
        assert officer.status_code == 200


async def test_self_report_receipt_has_no_due_date(make_app):
    app = await make_app("hayu")
    async with client_for(app) as client:
        who = await actors(app, client)
        created = await _apply(client, who, "SS", capital_idr=100_000_000)
        r = await client.get(
            f"/berkas/{created['id']}/tanda-terima", headers=_h(who.business_owner)
        )
        assert r.status_code == 200
        assert 'id="receipt-due">—<' in r.text


async def test_rejected_application_shows_reason_and_objection_route_on_top(make_app):
    app = await make_app("hayu")
    async with client_for(app) as client:
        who = await actors(app, client)
        created = await _apply(client, who, "SS", capital_idr=600_000_000)
        app_id = created["id"]
        await _act(client, who.officer, app_id, "accept")
        reason = "Lokasi usaha berada di jalur hijau"
        await _act(client, who.approver, app_id, "reject", note=reason)
        page = await client.get(f"/berkas/{app_id}", headers=_h(who.business_owner))
        text = page.text
        assert text.index('id="penolakan"') < text.index("<h1>")
        assert reason in text
        assert "Pasal 77" in text
        assert "21 hari kerja" in text
        letter = await client.get(
            f"/berkas/{app_id}/surat-penolakan.pdf", headers=who.business_owner
        )
        assert letter.status_code == 200
        assert letter.content.startswith(b"%PDF-")
        other = await client.get(f"/berkas/{app_id}/surat-penolakan.pdf", headers=who.other_owner)
        assert other.status_code in (403, 404)
        open_one = await _apply(client, who, "SS", capital_idr=600_000_000)
        none = await client.get(
            f"/berkas/{open_one['id']}/surat-penolakan.pdf", headers=_h(who.business_owner)
        )
        assert none.status_code == 404
        assert (
            'id="penolakan"'
            not in (
                await client.get(f"/berkas/{open_one['id']}", headers=_h(who.business_owner))
            ).text
        )


async def test_login_lands_on_the_start_page_and_staff_files_are_not_every_file(make_app):
    app = await make_app("hayu")
    await add_account(app, "petugas", ["officer"])
    await add_account(app, "siti", ["business_owner"])
    await add_account(app, "rina", ["auditor"])
    async with client_for(app) as client:
        who = await actors(app, client)
        await _apply(client, who, "SS", name="Usaha Lain", capital_idr=600_000_000)
    async with client_for(app, headers=HTML) as officer:
        r = await officer.post("/login", data={"username": "petugas", "password": "password-123"})
        assert r.headers["location"] == "/mulai"
        assert (await officer.get("/mulai")).headers["location"] == "/antrean"
        # "Berkas saya" listed every file for staff (finding): now it is the officer's queue.
        mine = await officer.get("/berkas")
        assert mine.status_code == 303
        assert mine.headers["location"] == "/antrean"
    async with client_for(app, headers=HTML) as owner:
        await owner.post("/login", data={"username": "siti", "password": "password-123"})
        assert (await owner.get("/mulai")).headers["location"] == "/berkas"
        assert "Usaha Lain" not in (await owner.get("/berkas")).text
    async with client_for(app, headers=HTML) as auditor:
        await auditor.post("/login", data={"username": "rina", "password": "password-123"})
        assert (await auditor.get("/mulai")).headers["location"] == "/audit/peristiwa"


async def test_queue_search_and_filters_with_indonesian_messages(make_app):
    app = await make_app("hayu")
    async with client_for(app) as client:
        who = await actors(app, client)
        a = await _apply(client, who, "SS", name="Toko Maju", capital_idr=600_000_000)
        b = await _apply(client, who, "SS", name="Bengkel Jaya", capital_idr=600_000_000)
        h = _h(who.officer)
        found = (await client.get("/antrean", params={"q": "bengkel"}, headers=h)).text
        assert b["tracking_code"] in found
        assert a["tracking_code"] not in found
        by_code = (await client.get("/antrean", params={"q": a["tracking_code"]}, headers=h)).text
        assert a["tracking_code"] in by_code
        assert b["tracking_code"] not in by_code
        stage = (await client.get("/antrean", params={"tahap": "submitted"}, headers=h)).text
        assert a["tracking_code"] in stage
        for bad in ({"tahap": "tidak-ada"}, {"batas": "kemarin"}):
            r = await client.get("/antrean", params=bad, headers=h)
            assert r.status_code == 422
            assert "Input should be" not in r.text
            assert 'role="alert"' in r.text


async def test_audit_browser_for_auditors_only(make_app):
    app = await make_app("hayu")
    async with client_for(app) as client:
        who = await actors(app, client)
        await _apply(client, who, "SS", capital_idr=600_000_000)
        page = await client.get("/audit/peristiwa", headers=_h(who.auditor))
        assert page.status_code == 200
        assert "badge ok" in page.text
        assert NIK not in page.text
        assert "<code>" in page.text
        bad = await client.get(
            "/audit/peristiwa", params={"sampai": "31-12-2026"}, headers=_h(who.auditor)
        )
        assert bad.status_code == 422
        assert "TTTT-BB-HH" in bad.text
        for role in (who.officer, who.business_owner):
            assert (await client.get("/audit/peristiwa", headers=_h(role))).status_code == 403


async def test_receipt_and_refusal_api(make_app):
    app = await make_app("hayu")
    async with client_for(app) as client:
        who = await actors(app, client)
        created = await _apply(client, who, "SS", capital_idr=600_000_000)
        app_id = created["id"]
        r = await client.get(f"/api/v1/applications/{app_id}/receipt", headers=who.business_owner)
        assert r.status_code == 200
        assert r.json()["tracking_code"] == created["tracking_code"]
        assert r.json()["due_date"]
        assert NIK not in r.text
        other = await client.get(f"/api/v1/applications/{app_id}/receipt", headers=who.other_owner)
        assert other.status_code in (403, 404)
        assert other.headers["content-type"].startswith("application/problem+json")
        none = await client.get(
            f"/api/v1/applications/{app_id}/refusal", headers=who.business_owner
        )
        assert none.status_code == 404
        await _act(client, who.officer, app_id, "accept")
        await _act(client, who.approver, app_id, "reject", note="Jalur hijau")
        got = await client.get(f"/api/v1/applications/{app_id}/refusal", headers=who.business_owner)
        assert got.status_code == 200
        assert got.json()["reason"] == "Jalur hijau"
        assert got.json()["objection_working_days"] == 21
        pdf = await client.get(
            f"/api/v1/applications/{app_id}/refusal.pdf", headers=who.business_owner
        )
        assert pdf.content.startswith(b"%PDF-")
