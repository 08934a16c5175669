"""Applicant accounts: self-registration."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from sabilulungan.models import Account, AuditEvent
from sabilulungan.schemas import RegisterCreate
from shared.registration import register_account


async def register_applicant(session: AsyncSession, data: RegisterCreate) -> Account:
    return await register_account(
        session,
        Account,
        AuditEvent,
        username=data.username,
        password=data.password,
        full_name=data.full_name,
        role="applicant",
    )
