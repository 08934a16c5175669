"""The pages, driven as a browser without JavaScript would: forms, cookies and CSRF tokens."""

from __future__ import annotations

import datetime as dt
import re

import httpx
from sqlalchemy import update

from erk.models import Account
from shared.testing import assert_problem, client_for

from .conftest import CHIEF, DEPUTY, STAFF, STAFF2, Erk

TODAY = dt.date(2025, 3, 12)


def csrf(page: httpx.Response) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found, page.text
    return found.group(1)


async def _login(browser: httpx.AsyncClient, nip: str, password: str) -> None:
    r = await browser.post("/login", data={"username": nip, "password": password, "next": "/"})
    assert r.status_code == 303, r.text


async def test_first_login_forces_a_password_change(erk: Erk) -> None:
    await erk.tree()
    erk.at(TODAY)
    await erk.login(STAFF)  # an admin reset sets a temporary password
    async with client_for(erk.app) as browser:
        await _login(browser, STAFF, "sandi-awal-123")
        r = await browser.get("/aktivitas")
        assert r.status_code == 303
        assert r.headers["location"].endswith("/ganti-sandi")
        form = await browser.get("/ganti-sandi")
        assert "Ganti kata sandi" in form.text
        r = await browser.post(
            "/ganti-sandi",
            data={
                "csrf_token": csrf(form),
                "sandi_lama": "salah-sekali",
                "sandi_baru": "sandi-pribadi-9",
                "sandi_ulang": "sandi-pribadi-9",
            },
        )
        assert r.status_code == 422
        r = await browser.post(
            "/ganti-sandi",
            data={
                "csrf_token": csrf(form),
                "sandi_lama": "sandi-awal-123",
                "sandi_baru": "sandi-pribadi-9",
                "sandi_ulang": "sandi-pribadi-9",
            },
        )
        assert r.status_code == 303
        r = await browser.get("/aktivitas")
        assert r.status_code == 200
        assert "Catat aktivitas" in r.text


async def test_entry_form_inbox_month_and_recap(erk: Erk) -> None:
    await erk.tree()
    erk.at(TODAY)
    # Yesterday's entry is offered again one tap away.
    assert (await erk.log(STAFF, TODAY - dt.timedelta(days=1), 90, "Rapat staf")).status_code == 201
    for nip in (STAFF, CHIEF):
        await erk.login(nip)
        async with erk.app.state.db.sessionmaker.begin() as session:
            await session.execute(
                update(Account).where(Account.username == nip).values(must_change_password=False)
            )
    async with client_for(erk.app) as browser:
        await _login(browser, STAFF, "sandi-awal-123")
        page = await browser.get("/aktivitas")
        assert page.status_code == 200
        assert "Rapat staf" in page.text
        assert "Salin" in page.text
        token = csrf(page)
        r = await browser.post(
            "/aktivitas",
            data={
                "csrf_token": token,
                "tanggal": TODAY.isoformat(),
                "uraian": "Menyusun telaah staf",
                "menit": "120",
            },
        )
        assert r.status_code == 200, r.text
        assert "Aktivitas tersimpan" in r.text
        r = await browser.post(
            "/aktivitas",
            data={
                "csrf_token": token,
                "tanggal": TODAY.isoformat(),
                "uraian": "Notulen rapat",
                "menit": "30",
            },
            files={"bukti": ("notulen.pdf", b"%PDF-1.4\n%%EOF\n", "application/pdf")},
        )
        assert r.status_code == 200, r.text
        assert "(bukti)" in r.text
        r = await browser.post(
            "/aktivitas",
            data={
                "csrf_token": token,
                "tanggal": TODAY.isoformat(),
                "uraian": "Foto palsu",
                "menit": "30",
            },
            files={"bukti": ("foto.png", b"bukan gambar", "image/png")},
        )
        assert r.status_code == 415
        assert "PDF, JPEG, atau PNG" in r.text
        assert "Foto palsu" not in r.text.split("<h2>Aktivitas")[1]
        r = await browser.post(
            "/aktivitas",
            data={
                "csrf_token": token,
                "tanggal": TODAY.isoformat(),
                "uraian": "Lagi",
                "menit": "400",
            },
        )
        assert r.status_code == 422
        assert "melebihi batas harian" in r.text
        r = await browser.post(
            "/aktivitas",
            data={"tanggal": TODAY.isoformat(), "uraian": "Tanpa token", "menit": "10"},
        )
        assert r.status_code == 403
        month = await browser.get("/bulan-saya", params={"bulan": "2025-03"})
        assert month.status_code == 200
        assert "Mengapa jumlahnya demikian" in month.text
        assert "tone-menunggu" in month.text
        assert (await browser.get("/rekap")).status_code == 403

    async with client_for(erk.app) as browser:
        await _login(browser, CHIEF, "sandi-awal-123")
        inbox = await browser.get("/verifikasi")
        assert inbox.status_code == 200
        ids = re.findall(r'name="aktivitas" value="(\d+)"', inbox.text)
        assert len(ids) == 3
        r = await browser.post(
            "/verifikasi",
            data={"csrf_token": csrf(inbox), "aktivitas": ids, "keputusan": "approved"},
        )
        assert r.status_code == 200, r.text
        assert "3 aktivitas disetujui" in r.text
        assert "Tidak ada aktivitas" in r.text

    async with client_for(erk.app) as admin:
        await admin.post("/login", data={"username": "bkpsdm", "password": "password-123"})
        r = await admin.get("/rekap", params={"bulan": "2025-03"})
        assert r.status_code == 200
        assert "Kinerja per unit" in r.text
        assert "BIDANG" in r.text
        imports = await admin.get("/impor")
        r = await admin.post(
            "/impor/kehadiran",
            data={"csrf_token": csrf(imports)},
            files={"berkas": ("a.csv", b"nip,date,status\n123,2025-03-01,hadir\n", "text/csv")},
        )
        assert r.status_code == 422
        assert "tidak ada data yang diimpor" in r.text


async def test_targets_are_proposed_and_approved_in_the_pages(erk: Erk) -> None:
    await erk.tree()
    erk.at(TODAY)
    for nip in (STAFF, CHIEF):
        await erk.login(nip)
        async with erk.app.state.db.sessionmaker.begin() as session:
            await session.execute(
                update(Account).where(Account.username == nip).values(must_change_password=False)
            )
    async with client_for(erk.app) as browser:
        await _login(browser, STAFF, "sandi-awal-123")
        page = await browser.get("/sasaran")
        r = await browser.post(
            "/sasaran",
            data={
                "csrf_token": csrf(page),
                "tahun": "2025",
                "judul": "Laporan bulanan",
                "jumlah": "12",
            },
        )
        assert r.status_code == 200, r.text
        assert "Diusulkan" in r.text
        r = await browser.post(
            "/sasaran", data={"csrf_token": csrf(page), "tahun": "dua ribu", "judul": "x"}
        )
        assert r.status_code == 422
    async with client_for(erk.app) as browser:
        await _login(browser, CHIEF, "sandi-awal-123")
        inbox = await browser.get("/verifikasi")
        found = re.search(r'action="/sasaran/(\d+)/setujui"', inbox.text)
        assert found, inbox.text
        r = await browser.post(
            f"/sasaran/{found.group(1)}/setujui", data={"csrf_token": csrf(inbox)}
        )
        assert r.status_code == 200
        assert "Sasaran kinerja disetujui" in r.text
    async with client_for(erk.app) as browser:
        await _login(browser, STAFF, "sandi-awal-123")
        entry = await browser.get("/aktivitas")
        assert "2025: Laporan bulanan" in entry.text
        assert "belum disetujui" not in entry.text


async def _ready_for_pages(erk: Erk, *nips: str) -> None:
    for nip in nips:
        await erk.login(nip)
        async with erk.app.state.db.sessionmaker.begin() as session:
            await session.execute(
                update(Account).where(Account.username == nip).values(must_change_password=False)
            )


async def test_verification_page_ticks_nothing_filters_and_shows_the_work(erk: Erk) -> None:
    await erk.tree()
    erk.at(TODAY)
    await _ready_for_pages(erk, STAFF, STAFF2, CHIEF, DEPUTY)
    long_text = "Menyusun " + "laporan-panjang-" * 20
    r = await erk.client.post(
        "/api/v1/activities",
        json={
            "date": "2025-03-10",
            "description": long_text,
            "minutes": 60,
            "output_quantity": 3,
            "output_unit": "dokumen",
        },
        headers=await erk.login(STAFF),
    )
    assert r.status_code == 201, r.text
    assert (await erk.log(STAFF, dt.date(2025, 3, 11), 60)).status_code == 201
    assert (await erk.log(STAFF2, dt.date(2025, 3, 11), 60)).status_code == 201
    async with client_for(erk.app) as browser:
        await _login(browser, CHIEF, "sandi-awal-123")
        inbox = await browser.get("/verifikasi")
        assert len(re.findall(r'name="aktivitas"', inbox.text)) == 3
        assert " checked" not in inbox.text  # one click cannot approve everything
        assert long_text in inbox.text
        assert "3 dokumen" in inbox.text
        everything = await browser.get("/verifikasi", params={"pilih": "semua"})
        assert everything.text.count(" checked") == 3
        one = await browser.get("/verifikasi", params={"pegawai": STAFF, "tanggal": "2025-03-11"})
        assert len(re.findall(r'name="aktivitas"', one.text)) == 1
        # Nothing ticked and submitted: refused, nothing approved.
        r = await browser.post(
            "/verifikasi", data={"csrf_token": csrf(inbox), "keputusan": "approved"}
        )
        assert r.status_code == 422
    # A delegate is told whom they act for.
    r = await erk.client.post(
        "/api/v1/delegations",
        json={
            "supervisor_nip": CHIEF,
            "delegate_nip": DEPUTY,
            "start_date": "2025-03-01",
            "end_date": "2025-03-31",
        },
        headers=erk.hr,
    )
    assert r.status_code == 201, r.text
    async with client_for(erk.app) as browser:
        await _login(browser, DEPUTY, "sandi-awal-123")
        inbox = await browser.get("/verifikasi")
        assert 'id="bertindak"' in inbox.text
        assert "Pegawai 002" in inbox.text  # CHIEF's generated name ends with its NIP's digits
        assert len(re.findall(r'name="aktivitas"', inbox.text)) == 3


async def test_an_employee_corrects_a_rejected_entry_deletes_a_pending_one_and_copies_a_day(
    erk: Erk,
) -> None:
    await erk.tree()
    erk.at(TODAY)
    await _ready_for_pages(erk, STAFF, CHIEF)
    staff = await erk.login(STAFF)
    rejected = (await erk.log(STAFF, dt.date(2025, 3, 11), 60, "Rapat")).json()["id"]
    pending = (await erk.log(STAFF, dt.date(2025, 3, 11), 30, "Membalas surat")).json()["id"]
    r = await erk.client.post(
        f"/api/v1/activities/{rejected}/verify",
        json={"decision": "rejected", "note": "Uraian kurang jelas"},
        headers=await erk.login(CHIEF),
    )
    assert r.status_code == 200, r.text
    async with client_for(erk.app) as browser:
        await _login(browser, STAFF, "sandi-awal-123")
        page = await browser.get("/aktivitas", params={"tanggal": "2025-03-11"})
        assert "Perbaiki" in page.text
        assert f'action="/aktivitas/{rejected}/ubah"' in page.text
        r = await browser.post(
            f"/aktivitas/{rejected}/ubah",
            data={
                "csrf_token": csrf(page),
                "uraian": "Rapat koordinasi penyusunan anggaran bidang",
                "menit": "90",
            },
        )
        assert r.status_code == 200, r.text
        assert "menunggu verifikasi lagi" in r.text
        r = await browser.post(f"/aktivitas/{pending}/hapus", data={"csrf_token": csrf(page)})
        assert r.status_code == 200, r.text
        assert "Aktivitas dihapus" in r.text
        # "Same as yesterday": the 11th's entries copied to the 12th at once.
        page = await browser.get("/aktivitas", params={"tanggal": "2025-03-12"})
        r = await browser.post(
            "/aktivitas/salin-semua",
            data={"csrf_token": csrf(page), "dari": "2025-03-11", "ke": "2025-03-12"},
        )
        assert r.status_code == 200, r.text
        assert "1 aktivitas disalin" in r.text
    listed = (await erk.client.get("/api/v1/activities", headers=staff)).json()["items"]
    assert sorted((a["date"], a["minutes"], a["status"]) for a in listed) == [
        ("2025-03-11", 90, "submitted"),
        ("2025-03-12", 90, "submitted"),
    ]
    # Approved entries cannot be deleted, and nobody deletes another's.
    r = await erk.client.delete(f"/api/v1/activities/{rejected}", headers=await erk.login(CHIEF))
    assert_problem(r, 403, "not-your-activity")
