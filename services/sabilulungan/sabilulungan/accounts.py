"""Applicant accounts: self-registration."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from sabilulungan.models import Account, AuditEvent
from sabilulungan.schemas import RegisterCreate
from shared.registration import register_account


async def register_applicant(
    session: AsyncSession, data: RegisterCreate, app_state: Any
) -> Account:
    """With an e-mail the notifier sends the verification link (shared.contact)."""
    return await register_account(
        session,
        Account,
        AuditEvent,
        username=data.username,
        password=data.password,
        full_name=data.full_name,
        role="applicant",
        email=data.email,
        phone=data.phone,
        cipher=app_state.cipher,
        email_required=app_state.settings.email_required,
    )
