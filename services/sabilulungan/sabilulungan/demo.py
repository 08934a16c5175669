"""Demo accounts and data for the embedded mode and for trying the service."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from shared.app import ServiceSpec
from shared.cli import create_account

DEMO_PASSWORD = "demo-sabilulungan-2026"
DEMO_ACCOUNTS: list[tuple[str, list[str], str, str | None]] = [
    ("pemohon", ["applicant"], "Yayasan Harapan Bangsa", None),
    ("tatausaha", ["clerk"], "Tata Usaha Kesra", None),
    ("koordinator", ["coordinator"], "Tim Pertimbangan", None),
    ("opd", ["opd_evaluator"], "Evaluator Dinas Sosial", "DINSOS"),
    ("tapd", ["tapd"], "Sekretariat TAPD", None),
    ("kepala", ["head"], "Wali Kota", None),
    ("keuangan", ["finance"], "Bendahara BPKAD", None),
    ("auditor", ["auditor"], "Auditor Inspektorat", None),
    ("admin", ["admin"], "Admin Sabilulungan", None),
]


async def seed(session: AsyncSession, spec: ServiceSpec) -> list[tuple[str, str, list[str]]]:
    logins = []
    for username, roles, name, unit in DEMO_ACCOUNTS:
        await create_account(
            session,
            spec.models,
            username,
            DEMO_PASSWORD,
            roles,
            name=name,
            unit=unit,
            actor="seed-demo",
        )
        logins.append((username, DEMO_PASSWORD, roles))
    return logins
