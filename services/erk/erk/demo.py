"""Demo accounts and data for the embedded mode and for trying the service."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from shared.app import ServiceSpec
from shared.cli import create_account

DEMO_PASSWORD = "demo-erk-2026"
DEMO_ACCOUNTS: list[tuple[str, list[str], str, str | None]] = [
    ("198503152010011001", ["employee"], "Andi Pratama", "DISKOMINFO"),
    ("197901202005012002", ["employee"], "Sri Wahyuni (atasan)", "DISKOMINFO"),
    ("198807072015031003", ["unit_admin"], "Admin Kepegawaian Diskominfo", "DISKOMINFO"),
    ("197012121995031004", ["hr_admin"], "BKPSDM", None),
    ("auditor", ["auditor"], "Auditor Inspektorat", None),
    ("admin", ["admin"], "Admin e-RK", None),
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
