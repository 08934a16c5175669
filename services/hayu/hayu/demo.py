"""Demo accounts and data for the embedded mode and for trying the service.

The KBLI and kode wilayah rows below are a small hand-picked subset so the demo runs with nothing
else installed; a regency imports the official lists with `python -m hayu import-kbli` and
`import-wilayah` (see the README for where they come from).

This module is also HAYU's seeding surface: the rules a volume seeder (`bench/`) needs are
re-exported here (`decide_filing`, `valid_until`, `SELF_REPORT`), so it imports no private module.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from hayu import common, documents, filings, sla, transitions
from hayu.common import SELF_REPORT as SELF_REPORT
from hayu.common import valid_until as valid_until
from hayu.config import HayuConfig
from hayu.decisions import decide_filing as decide_filing
from hayu.dependencies import spec_context
from hayu.models import Application, KbliCode, Region
from hayu.schemas import ApplicationCreate, TransitionCreate
from hayu.workflow import INSPECTION_PHOTO
from shared.app import ServiceSpec
from shared.auth import Principal
from shared.cli import seed_demo_accounts
from shared.validators import kbli_category

DEMO_PASSWORD = "demo-hayu-2026"
DEMO_ACCOUNTS: list[tuple[str, list[str], str, str | None]] = [
    ("pemilik", ["business_owner"], "Siti Rahmawati", None),
    ("pemilik2", ["business_owner"], "Dedi Kurniawan", None),
    ("petugas", ["officer"], "Budi Santoso", None),
    ("pemeriksa", ["inspector"], "Dewi Lestari", None),
    ("kepala", ["approver"], "Agus Setiawan", None),
    ("auditor", ["auditor"], "Rina Marlina", None),
    ("admin", ["admin"], "Admin HAYU", None),
]

DEMO_KBLI: tuple[tuple[str, str], ...] = (
    ("10710", "INDUSTRI PRODUK ROTI DAN KUE"),
    ("10792", "INDUSTRI KUE BASAH"),
    ("14111", "INDUSTRI PAKAIAN JADI (KONVEKSI) DARI TEKSTIL"),
    ("18111", "INDUSTRI PENCETAKAN UMUM"),
    ("45201", "REPARASI MOBIL"),
    ("47111", "PERDAGANGAN ECERAN YANG UTAMANYA MAKANAN, MINUMAN ATAU TEMBAKAU DI MINIMARKET"),
    ("47211", "PERDAGANGAN ECERAN PADI DAN PALAWIJA"),
    ("47241", "PERDAGANGAN ECERAN BERAS"),
    ("47711", "PERDAGANGAN ECERAN PAKAIAN"),
    ("55130", "PONDOK WISATA"),
    ("56101", "RESTORAN"),
    ("56102", "RUMAH/WARUNG MAKAN"),
    ("56103", "KEDAI MAKANAN"),
    ("62019", "AKTIVITAS PEMROGRAMAN KOMPUTER LAINNYA"),
    ("73100", "PERIKLANAN"),
    ("96111", "AKTIVITAS PANGKAS RAMBUT"),
)
DEMO_REGIONS: tuple[tuple[str, str, str], ...] = (
    ("32", "Jawa Barat", "provinsi"),
    ("32.73", "Kota Bandung", "kabkota"),
    ("32.73.01", "Sukasari", "kecamatan"),
    ("32.73.02", "Coblong", "kecamatan"),
    ("32.73.03", "Babakan Ciparay", "kecamatan"),
    ("32.73.04", "Bojongloa Kaler", "kecamatan"),
    ("32.73.05", "Andir", "kecamatan"),
)

# Files still open are recent: past the whole SLA (`hayu.sla`) they would be deemed approved;
# "Kedai Kopi Senja" is the one meant to show that.
# (days ago, permit type, business name, owner, NIK, capital, KBLI, actions as "a v p i":
#  a accept, v verify_documents, q request_revision, s schedule_inspection, r record_inspection,
#  p approve, x reject, i issue, k revoke)
SITI = ("Siti Rahmawati", "3273014506900001")
DEDI = ("Dedi Kurniawan", "3273021203850002")
DEMO_FILINGS: list[tuple[int, str, str, tuple[str, str], int, str, str]] = [
    (24, "REG-UMK", "Warung Nasi Bu Siti", SITI, 25_000_000, "56102", ""),
    (23, "SS", "Toko Beras Barokah", DEDI, 350_000_000, "47241", ""),
    (22, "SS", "Butik Kembang", SITI, 120_000_000, "47711", "k"),
    (4, "SS", "Grosir Pangan Makmur", DEDI, 800_000_000, "47211", ""),
    (4, "SS", "Distro Sandang Jaya", DEDI, 650_000_000, "47711", "a"),
    (19, "SS", "Bengkel Mobil Sinar", DEDI, 900_000_000, "45201", "a q"),
    (5, "REKLAME", "Papan Reklame Toko Beras", DEDI, 350_000_000, "73100", "a s"),
    (7, "REKLAME", "Konveksi Kembang", SITI, 2_500_000_000, "14111", "a s r"),
    (6, "SS", "Restoran Sunda Rasa", SITI, 1_200_000_000, "56101", "a v p"),
    (15, "SS", "Percetakan Mandiri", DEDI, 700_000_000, "18111", "a v p i"),
    (14, "SS", "Pondok Wisata Lembang", SITI, 1_500_000_000, "55130", "a v x"),
    (13, "REKLAME", "Roti Kita", DEDI, 3_000_000_000, "10710", "a s r p i k"),
    (12, "SS", "Kedai Kopi Senja", SITI, 600_000_000, "56103", "a v"),
    (2, "SS", "Salon Cantik Ayu", SITI, 550_000_000, "96111", "a v"),
]

ACTIONS: dict[str, tuple[str, str]] = {
    "a": ("accept", "petugas"),
    "v": ("verify_documents", "petugas"),
    "q": ("request_revision", "petugas"),
    "s": ("schedule_inspection", "petugas"),
    "r": ("record_inspection", "pemeriksa"),
    "p": ("approve", "kepala"),
    "x": ("reject", "kepala"),
    "i": ("issue", "kepala"),
    "k": ("revoke", "kepala"),
}
PAYLOADS: dict[str, dict[str, Any]] = {
    "request_revision": {"note": "Akta pendirian belum ditandatangani notaris."},
    "schedule_inspection": {"inspection_date": None},
    "record_inspection": {
        "inspection_result": "lulus",
        "findings": "Lokasi sesuai denah; alat pemadam api tersedia.",
    },
    "reject": {"note": "Lokasi berada di zona lindung menurut RTRW."},
    "revoke": {"note": "Hasil audit: usaha tidak lagi beroperasi di alamat terdaftar."},
}
PDF = b"%PDF-1.4\n% berkas contoh HAYU\n%%EOF\n"


async def seed(session: AsyncSession, spec: ServiceSpec) -> list[tuple[str, str, list[str]]]:
    logins, principals = await seed_demo_accounts(
        session, spec.models, DEMO_ACCOUNTS, DEMO_PASSWORD
    )
    if await session.scalar(select(func.count()).select_from(Application)):
        return logins  # seeded before: accounts refreshed, data left alone
    if not await session.scalar(select(func.count()).select_from(KbliCode)):
        await session.execute(
            insert(KbliCode),
            [{"code": c, "title": t, "category": kbli_category(c)} for c, t in DEMO_KBLI],
        )
    if not await session.scalar(select(func.count()).select_from(Region)):
        await session.execute(
            insert(Region), [{"code": c, "name": n, "level": lvl} for c, n, lvl in DEMO_REGIONS]
        )
    await _filings(session, spec, principals)
    return logins


async def _filings(
    session: AsyncSession, spec: ServiceSpec, principals: dict[str, Principal]
) -> None:
    config = spec.config
    assert isinstance(config, HayuConfig)
    base = spec_context(spec)
    owners = {"Siti Rahmawati": "pemilik", "Dedi Kurniawan": "pemilik2"}
    now = base.now
    for index, (days_ago, code, name, (owner, nik), capital, kbli, codes) in enumerate(
        DEMO_FILINGS
    ):
        owner_principal = principals[owners[owner]]
        moment = now - dt.timedelta(days=days_ago)
        ctx = base.at(moment)
        steps = [ACTIONS[c] for c in codes.split()]
        created = await filings.file_application(
            session,
            ctx,
            owner_principal,
            ApplicationCreate.model_validate(
                {
                    "permit_type_code": code,
                    "business": {
                        "name": name,
                        "owner": {"nik": nik, "name": owner, "phone": "081234567890"},
                        "kbli_codes": [kbli],
                        "address": f"Jl. Contoh No. {index + 1}, Sukasari",
                        "region_code": "32.73.01",
                        "capital_idr": capital,
                        "workforce": 2 + index,
                    },
                }
            ),
        )
        if created.kind == common.PERMIT:
            permit_type = config.hayu.permit_type(code)
            assert permit_type is not None
            for document in permit_type.required_documents:
                if steps and steps[-1][0] == "request_revision" and document.code == "akta":
                    continue
                await documents.upload_document(
                    session,
                    ctx,
                    owner_principal,
                    created.id,
                    checklist_item=document.code,
                    filename=f"{document.code}.pdf",
                    content=PDF,
                )
        for step, (action, actor) in enumerate(steps):
            moment = min(moment + dt.timedelta(days=1 + step % 2), now)
            ctx = base.at(moment)
            payload = dict(PAYLOADS.get(action, {}))
            if action == "record_inspection":
                await documents.upload_document(
                    session,
                    ctx,
                    principals[actor],
                    created.id,
                    checklist_item=INSPECTION_PHOTO,
                    filename="foto-lokasi.pdf",
                    content=PDF,
                )
            if action == "schedule_inspection":
                payload["inspection_date"] = ctx.calendar.local_date(moment) + dt.timedelta(days=2)
            await transitions.apply_transition(
                session,
                ctx,
                principals[actor],
                created.id,
                TransitionCreate.model_validate({"action": action, **payload}),
            )
    await sla.run_deemed_approvals(session, base)
