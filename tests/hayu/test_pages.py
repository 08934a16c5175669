"""The Bahasa Indonesia pages, driven over HTTP with the cookie session and CSRF tokens."""

from __future__ import annotations

import re

from hayu_factories import NIK, PDF, actors, counts, filing
from sqlalchemy import func, select

from hayu.models import ApplicationDocument
from shared.testing import add_account, client_for

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


async def _login(client, username, password="password-123"):
    response = await client.post("/login", data={"username": username, "password": password})
    assert response.status_code == 303, response.text


def _csrf(html: str) -> str:
    match = CSRF.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1)


FORM = {
    "permit_type_code": "SS",
    "name": "Warung Sari Rasa",
    "owner_name": "Siti Rahmawati",
    "nik": NIK,
    "phone": "081234567890",
    "kbli_codes": "47111, 56102",
    "address": "Jl. Merdeka No. 10",
    "region_code": "32.73.01",
    "capital_idr": "499.999.999",
    "workforce": "3",
}


async def test_filing_form_says_before_submitting_what_will_happen_then_registers(make_app):
    app = await make_app("hayu")
    await add_account(app, "siti", ["business_owner"])
    async with client_for(app) as client:
        assert (await client.get("/lapor")).status_code == 303  # log in first
        await _login(client, "siti")
        page = await client.get("/lapor")
        assert page.status_code == 200
        assert '<label for="capital_idr">' in page.text
        token = _csrf(page.text)

        check = await client.post("/lapor/periksa", data={**FORM, "csrf_token": token})
        assert check.status_code == 200, check.text
        assert "Langsung terdaftar" in check.text
        assert "di bawah batas Rp500.000.000" in check.text
        assert await counts(app) == (0, 0, 0)  # nothing stored by the check

        above = await client.post(
            "/lapor/periksa", data={**FORM, "capital_idr": "500000000", "csrf_token": token}
        )
        assert "Perlu mengajukan izin" in above.text
        assert "Standar waktu: 6 hari kerja" in above.text
        assert "NPWP usaha" in above.text

        bad = await client.post("/lapor/periksa", data={**FORM, "nik": "123", "csrf_token": token})
        assert bad.status_code == 422
        assert "NIK" in bad.text

        forged = await client.post("/lapor", data={**FORM, "csrf_token": "x"})
        assert forged.status_code == 403
        assert await counts(app) == (0, 0, 0)

        done = await client.post("/lapor", data={**FORM, "csrf_token": token})
        assert done.status_code == 303
        detail = await client.get(done.headers["location"])
        assert "Terdaftar" in detail.text
        assert "Unduh sertifikat" in detail.text
        assert NIK not in detail.text  # masked even for the owner
        assert "************0001" in detail.text


async def test_track_page_draws_the_timeline_without_personal_data(make_app):
    app = await make_app("hayu")
    async with client_for(app) as client:
        who = await actors(app, client)
        created = (
            await client.post(
                "/api/v1/applications",
                json=filing("REKLAME", capital_idr=9_000_000),
                headers=who.business_owner,
            )
        ).json()
        await client.post(
            f"/api/v1/applications/{created['id']}/transitions",
            json={"action": "accept"},
            headers=who.officer,
        )
        page = await client.get("/lacak", params={"kode": created["tracking_code"].lower()})
        assert page.status_code == 200
        assert 'class="timeline"' in page.text
        assert "Berkas diterima" in page.text
        assert "Verifikasi dokumen" in page.text
        assert "Petugas verifikasi DPMPTSP" in page.text
        assert NIK not in page.text
        assert "Siti" not in page.text
        missing = await client.get("/lacak", params={"kode": "HY-0000-0000-000"})
        assert missing.status_code == 404


async def test_verify_page_is_green_active_red_revoked_and_not_found(make_app):
    app = await make_app("hayu")
    async with client_for(app) as client:
        who = await actors(app, client)
        created = (
            await client.post(
                "/api/v1/applications",
                json=filing("SS", capital_idr=5),
                headers=who.business_owner,
            )
        ).json()
        number = created["registration_number"]
        page = await client.get(f"/verify/{number}")
        assert 'class="verdict active"' in page.text
        assert "AKTIF" in page.text
        assert "S*** R********" in page.text
        assert NIK not in page.text
        response = await client.post(
            f"/api/v1/applications/{created['id']}/transitions",
            json={"action": "revoke", "note": "Audit: alamat fiktif"},
            headers=who.approver,
        )
        assert response.json()["status"] == "revoked"
        page = await client.get(f"/verify/{number}")
        assert 'class="verdict revoked"' in page.text
        assert "DICABUT" in page.text
        assert (await client.get("/verify/NOPE-1")).status_code == 404
        lookup = await client.get("/periksa", params={"nomor": number})
        assert lookup.status_code == 303


async def test_officer_queue_lists_overdue_first_with_action_forms(make_app):
    app = await make_app("hayu")
    await add_account(app, "petugas", ["officer"])
    async with client_for(app) as client:
        who = await actors(app, client)
        for name in ("Usaha A", "Usaha B"):
            await client.post(
                "/api/v1/applications",
                json=filing("SS", name=name, capital_idr=600_000_000),
                headers=who.business_owner,
            )
        await _login(client, "petugas")
        page = await client.get("/antrean")
        assert page.status_code == 200
        assert page.text.index("Usaha A") < page.text.index("Usaha B")
        assert "Terima berkas dan mulai verifikasi" in page.text
        token = _csrf(page.text)
        done = await client.post(
            "/berkas/1/aksi", data={"action": "accept", "back": "antrean", "csrf_token": token}
        )
        assert done.status_code == 303
        detail = await client.get("/berkas/1")
        assert "Verifikasi dokumen" in detail.text
        wrong = await client.post("/berkas/1/aksi", data={"action": "accept", "csrf_token": token})
        assert wrong.status_code == 409


async def test_owner_uploads_documents_from_the_page(make_app):
    app = await make_app("hayu")
    await add_account(app, "siti", ["business_owner"])
    async with client_for(app) as client:
        await _login(client, "siti")
        token = _csrf((await client.get("/lapor")).text)
        done = await client.post(
            "/lapor", data={**FORM, "capital_idr": "900000000", "csrf_token": token}
        )
        location = done.headers["location"]
        page = await client.get(location)
        assert "Dokumen persyaratan" in page.text
        response = await client.post(
            f"{location}/dokumen",
            data={"checklist_item": "ktp", "csrf_token": token},
            files={"file": ("ktp.pdf", PDF, "application/pdf")},
        )
        assert response.status_code == 303
        assert "sudah diunggah" in (await client.get(location)).text
        refused = await client.post(
            f"{location}/dokumen",
            data={"checklist_item": "ktp", "csrf_token": token},
            files={"file": ("ktp.exe", b"MZ\x90\x00", "application/pdf")},
        )
        assert refused.status_code == 415
        assert "Hanya berkas PDF" in refused.text


async def test_statistics_and_home_pages_render(make_app):
    app = await make_app("hayu")
    async with client_for(app) as client:
        page = await client.get("/statistik")
        assert page.status_code == 200
        assert "Izin Penyelenggaraan Reklame" in page.text
        assert 'class="chart"' in page.text
        home = await client.get("/")
        assert "Rp500.000.000" in home.text
        register = await client.get("/daftar")
        assert '<label for="username">' in register.text


async def test_refused_upload_comes_back_in_indonesian_and_writes_nothing(make_app):
    app = await make_app("hayu")
    async with client_for(app) as client:
        who = await actors(app, client)
        created = await client.post(
            "/api/v1/applications",
            json=filing("SS", capital_idr=600_000_000),
            headers=who.business_owner,
        )
        app_id = created.json()["id"]
        login = await client.post(
            "/login", data={"username": "u-business_owner", "password": "password-123"}
        )
        assert login.status_code == 303
        page = await client.get(f"/berkas/{app_id}")
        token = CSRF.search(page.text)
        assert token
        refused = await client.post(
            f"/berkas/{app_id}/dokumen",
            data={"checklist_item": "ijazah", "csrf_token": token.group(1)},
            files={"file": ("x.pdf", PDF)},
        )
    assert refused.status_code == 422
    assert "Jenis dokumen ini tidak termasuk persyaratan izin ini." in refused.text
    async with app.state.db.sessionmaker() as session:
        stored = await session.scalar(select(func.count()).select_from(ApplicationDocument))
    assert stored == 0
