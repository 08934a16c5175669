"""Demo accounts and data for the embedded mode and for trying the service."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from shared.app import ServiceSpec
from shared.cli import create_account

DEMO_PASSWORD = "demo-hayu-2026"
DEMO_ACCOUNTS: list[tuple[str, list[str], str, str | None]] = [
    ("pemilik", ["business_owner"], "Siti Rahmawati", None),
    ("petugas", ["officer"], "Budi Santoso", None),
    ("pemeriksa", ["inspector"], "Dewi Lestari", None),
    ("kepala", ["approver"], "Agus Setiawan", None),
    ("auditor", ["auditor"], "Rina Marlina", None),
    ("admin", ["admin"], "Admin HAYU", None),
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
