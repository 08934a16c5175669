"""The back-office pages: imports with templates and Indonesian row errors, and the refusals that
keep each screen to the people it is for."""

from __future__ import annotations

import datetime as dt
import io
import re

import httpx
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from erk.models import Account, Attendance, Delegation, Unit
from shared.testing import add_account, client_for

from .conftest import CHIEF, DEPUTY, HEAD, STAFF, STAFF2, Erk

TODAY = dt.date(2025, 3, 12)


def csrf(page: httpx.Response) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found, page.text
    return found.group(1)


async def _as_hr(erk: Erk, browser: httpx.AsyncClient) -> None:
    r = await browser.post("/login", data={"username": "bkpsdm", "password": "password-123"})
    assert r.status_code == 303, r.text


async def _as_employee(erk: Erk, browser: httpx.AsyncClient, nip: str) -> None:
    """Signed in with the temporary password, then past the forced password change."""
    await erk.login(nip)
    r = await browser.post("/login", data={"username": nip, "password": "sandi-awal-123"})
    assert r.status_code == 303, r.text
    r = await browser.post(
        "/ganti-sandi",
        data={
            "csrf_token": csrf(await browser.get("/ganti-sandi")),
            "sandi_lama": "sandi-awal-123",
            "sandi_baru": "rahasia-99",
            "sandi_ulang": "rahasia-99",
        },
    )
    assert r.status_code == 303, r.text


async def _account(erk: Erk, username: str) -> Account:
    async with erk.app.state.db.sessionmaker() as session:
        account = await session.scalar(select(Account).where(Account.username == username))
        assert account is not None
        return account


async def test_accounts_screen_grants_roles_and_passwords_only_below_the_actor(erk: Erk) -> None:
    await erk.tree()
    erk.at(TODAY)
    await add_account(erk.app, "root", ["admin"], name="Admin sistem")
    async with client_for(erk.app) as hr:
        await _as_hr(erk, hr)
        listed = await hr.get("/akun", params={"q": STAFF})
        assert listed.status_code == 200, listed.text
        assert f'id="akun-{STAFF}"' in listed.text
        assert f'href="/akun/{STAFF}"' in listed.text  # the list leads to the account's own page
        assert 'name="peran"' not in listed.text  # no form per account: the list stays light
        page = await hr.get(f"/akun/{STAFF}")
        assert page.status_code == 200, page.text
        # The roles offered are those below HR's own: no "Admin sistem", no "BKPSDM".
        assert 'value="unit_admin"' in page.text
        assert 'value="admin"' not in page.text
        assert 'value="hr_admin"' not in page.text
        assert 'id="akun-root"' not in (await hr.get("/akun")).text
        # An account with as many rights as HR's, or none at all, has no page for HR.
        for hidden in ("root", "bkpsdm", "tidak-ada"):
            r = await hr.get(f"/akun/{hidden}")
            assert r.status_code == 404
            assert 'name="peran"' not in r.text
        token = csrf(page)
        r = await hr.post(
            f"/akun/{STAFF}/peran",
            data={"csrf_token": token, "peran": ["employee", "unit_admin"], "unit": "BIDANG"},
        )
        assert r.status_code == 200, r.text
        assert f"Peran akun {STAFF} disimpan" in r.text
        assert sorted((await _account(erk, STAFF)).roles) == ["employee", "unit_admin"]
        # Refused: a role as high as HR's own; an account that outranks HR; HR's own account.
        r = await hr.post(f"/akun/{STAFF2}/peran", data={"csrf_token": token, "peran": ["admin"]})
        assert r.status_code == 403
        assert "Peran itu tidak dapat Anda berikan" in r.text
        assert (await _account(erk, STAFF2)).roles == ["employee"]
        root_hash = (await _account(erk, "root")).password_hash
        r = await hr.post("/akun/root/sandi", data={"csrf_token": token})
        assert r.status_code == 403
        assert "hak lebih rendah" in r.text
        assert (await _account(erk, "root")).password_hash == root_hash
        r = await hr.post("/akun/root/peran", data={"csrf_token": token, "peran": ["employee"]})
        assert r.status_code == 403
        assert (await _account(erk, "root")).roles == ["admin"]
        r = await hr.post("/akun/bkpsdm/peran", data={"csrf_token": token, "peran": ["auditor"]})
        assert r.status_code == 403
        # A temporary password, shown once, that must be changed at the first login.
        r = await hr.post(f"/akun/{STAFF2}/sandi", data={"csrf_token": token})
        assert r.status_code == 200, r.text
        found = re.search(rf"Kata sandi sementara untuk {STAFF2}: (\w+)", r.text)
        assert found, r.text
    async with client_for(erk.app) as staff2:
        r = await staff2.post("/login", data={"username": STAFF2, "password": found.group(1)})
        assert r.status_code == 303, r.text
        assert (await staff2.get("/aktivitas")).headers["location"].endswith("/ganti-sandi")
    # Neither an employee nor a unit admin opens the screen.
    await erk.grant(CHIEF, ["unit_admin"], unit="BIDANG")
    for nip in (STAFF2, CHIEF):
        async with client_for(erk.app) as other:
            await _as_employee(erk, other, nip)
            r = await other.get("/akun")
            assert r.status_code == 403
            assert "Halaman ini untuk BKPSDM." in r.text


async def test_units_screen_adds_units_for_hr_only(erk: Erk) -> None:
    await erk.tree()
    erk.at(TODAY)
    async with client_for(erk.app) as hr:
        await _as_hr(erk, hr)
        page = await hr.get("/unit")
        token = csrf(page)
        r = await hr.post(
            "/unit",
            data={"csrf_token": token, "kode": "SEKRET", "nama": "Sekretariat", "induk": "DINAS"},
        )
        assert r.status_code == 200, r.text
        assert "Unit SEKRET ditambahkan" in r.text
        r = await hr.post("/unit", data={"csrf_token": token, "kode": "SEKRET", "nama": "Lagi"})
        assert r.status_code == 409
        assert "Kode unit itu sudah dipakai." in r.text
        r = await hr.post("/unit", data={"csrf_token": token, "kode": "bad code!", "nama": "X"})
        assert r.status_code == 422
        assert 'value="bad code!"' in r.text  # the form is kept
    async with erk.app.state.db.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Unit)) == 4
    async with client_for(erk.app) as staff:
        await _as_employee(erk, staff, STAFF)
        r = await staff.post(
            "/unit",
            data={"csrf_token": csrf(await staff.get("/aktivitas")), "kode": "X1", "nama": "Unit"},
        )
        assert r.status_code == 403
    async with erk.app.state.db.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Unit)) == 4


async def test_delegations_screen_follows_the_supervisor_chain(erk: Erk) -> None:
    await erk.tree()
    erk.at(TODAY)
    form = {"atasan": CHIEF, "pelaksana": DEPUTY, "mulai": "2025-03-12", "sampai": "2025-03-20"}
    # A colleague of the chief's staff cannot appoint an acting official for the chief.
    async with client_for(erk.app) as staff2:
        await _as_employee(erk, staff2, STAFF2)
        page = await staff2.get("/pelaksana-tugas")
        assert page.status_code == 200
        r = await staff2.post("/pelaksana-tugas", data={"csrf_token": csrf(page), **form})
        assert r.status_code == 403
        assert "Pelaksana tugas ditunjuk oleh atasan dari atasan itu atau BKPSDM." in r.text
        assert f'value="{DEPUTY}"' in r.text  # the form is kept
    async with erk.app.state.db.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Delegation)) == 0
    # The chief's own superior can; the acting official then sees whom they act for.
    async with client_for(erk.app) as head:
        await _as_employee(erk, head, HEAD)
        page = await head.get("/pelaksana-tugas")
        r = await head.post("/pelaksana-tugas", data={"csrf_token": csrf(page), **form})
        assert r.status_code == 200, r.text
        assert f"{DEPUTY} ditunjuk sebagai pelaksana tugas {CHIEF}" in r.text
    async with client_for(erk.app) as deputy:
        await _as_employee(erk, deputy, DEPUTY)
        r = await deputy.get("/pelaksana-tugas")
        assert f"({DEPUTY}) bertindak untuk" in r.text


async def test_import_templates_download_as_csv_and_xlsx(erk: Erk) -> None:
    await erk.tree()
    erk.at(TODAY)
    async with client_for(erk.app) as hr:
        await _as_hr(erk, hr)
        page = await hr.get("/impor")
        assert "/impor/templat/kehadiran.xlsx" in page.text
        # One form per import (one macro in imports.html), each with its CSRF token; the title
        # is the page's name only (the Rencana Aksi form once leaked into <title> and the nav).
        assert "<title>Impor data" in page.text
        title = page.text.split("<title>", 1)[1].split("</title>", 1)[0]
        assert "<" not in title
        for slug in ("pegawai", "kehadiran", "rencana-aksi"):
            assert page.text.count(f'action="/impor/{slug}"') == 1, slug
        assert page.text.count('name="csrf_token" value="') >= 3
        assert 'name="csrf_token" value=""' not in page.text
        r = await hr.get("/impor/templat/kehadiran.csv")
        assert r.status_code == 200, r.text
        assert r.text.splitlines()[0] == ("nip,date,status,minutes_late,minutes_early,missed_apel")
        r = await hr.get("/impor/templat/pegawai.xlsx")
        assert r.status_code == 200
        sheet = load_workbook(io.BytesIO(r.content)).active
        assert sheet is not None
        header = next(sheet.iter_rows(values_only=True))
        assert header[:5] == ("nip", "name", "unit_code", "job_class", "tpp_base_idr")
        assert (await hr.get("/impor/templat/gaji.csv")).status_code == 404
    # An employee gets neither the page nor the templates.
    await erk.login(STAFF)
    async with client_for(erk.app) as staff:
        r = await staff.post("/login", data={"username": STAFF, "password": "sandi-awal-123"})
        await staff.post(
            "/ganti-sandi",
            data={
                "csrf_token": csrf(await staff.get("/ganti-sandi")),
                "sandi_lama": "sandi-awal-123",
                "sandi_baru": "rahasia-99",
                "sandi_ulang": "rahasia-99",
            },
        )
        r = await staff.get("/impor/templat/kehadiran.csv")
        assert r.status_code == 403
        assert "Halaman ini untuk admin." in r.text


async def test_import_row_errors_and_status_words_are_indonesian(erk: Erk) -> None:
    await erk.tree()
    erk.at(TODAY)
    rows = (
        "nip,date,status,minutes_late\n"
        f"{STAFF},2025-03-10,hadir,5\n"
        f"{STAFF2},2025-03-09,sakit,0\n"  # a Sunday
        f"{STAFF2},2025-03-10,libur,0\n"
        f"{STAFF},2025/03/11,dinas luar,0\n"
    )
    async with client_for(erk.app) as hr:
        await _as_hr(erk, hr)
        page = await hr.get("/impor")
        r = await hr.post(
            "/impor/kehadiran",
            data={"csrf_token": csrf(page)},
            files={"berkas": ("absen.csv", rows.encode(), "text/csv")},
        )
        assert r.status_code == 422
        assert "tanggal itu bukan hari kerja" in r.text
        assert "status tidak dikenal" in r.text
        assert "date harus ditulis TTTT-BB-HH" in r.text
        for english in ("not a working day", "status must be", "must be written"):
            assert english not in r.text
        async with erk.app.state.db.sessionmaker() as session:
            assert await session.scalar(select(func.count()).select_from(Attendance)) == 0
        # The same words in an xlsx workbook are accepted: "hadir", "dinas luar".
        book = Workbook()
        sheet = book.active
        assert sheet is not None
        sheet.append(["nip", "date", "status", "minutes_late"])
        sheet.append([STAFF, dt.date(2025, 3, 10), "hadir", 5])
        sheet.append([STAFF2, "2025-03-11", "Dinas Luar", None])
        buffer = io.BytesIO()
        book.save(buffer)
        xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        r = await hr.post(
            "/impor/kehadiran",
            data={"csrf_token": csrf(page)},
            files={"berkas": ("absen.xlsx", buffer.getvalue(), xlsx)},
        )
        assert r.status_code == 200, r.text
        assert "2 baris diimpor" in r.text
        async with erk.app.state.db.sessionmaker() as session:
            statuses = await session.scalars(select(Attendance.status).order_by(Attendance.day))
            assert list(statuses) == ["present", "duty_travel"]
        # A damaged workbook is a clear refusal, not a 500.
        r = await hr.post(
            "/impor/kehadiran",
            data={"csrf_token": csrf(page)},
            files={"berkas": ("rusak.xlsx", b"PK\x03\x04rusak", xlsx)},
        )
        assert r.status_code == 422
        assert "tidak dapat dibaca sebagai xlsx" in r.text
        # Rencana Aksi from e-Kinerja through the same page; a bad periode in Indonesian.
        plans = f"nip,periode,rencana_aksi\n{STAFF},2025-Q1,Menyusun laporan triwulan\n"
        r = await hr.post(
            "/impor/rencana-aksi",
            data={"csrf_token": csrf(page)},
            files={"berkas": ("ra.csv", plans.encode(), "text/csv")},
        )
        assert r.status_code == 200, r.text
        assert "1 baris diimpor" in r.text
        r = await hr.post(
            "/impor/rencana-aksi",
            data={"csrf_token": csrf(page)},
            files={"berkas": ("ra.csv", plans.replace("Q1", "5").encode(), "text/csv")},
        )
        assert r.status_code == 422
        assert "periode harus ditulis tahun-triwulan" in r.text
