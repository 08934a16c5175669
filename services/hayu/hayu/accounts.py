"""Business owner accounts."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from hayu.models import Account, AuditEvent
from hayu.schemas import AccountRead, RegisterCreate
from shared.registration import register_account


async def register_owner(
    session: AsyncSession, data: RegisterCreate, app_state: Any
) -> AccountRead:
    """With an e-mail the notifier sends the verification link (shared.contact)."""
    account = await register_account(
        session,
        Account,
        AuditEvent,
        username=data.username,
        password=data.password,
        full_name=data.full_name,
        role="business_owner",
        email=data.email,
        phone=data.phone,
        cipher=app_state.cipher,
        email_required=app_state.settings.email_required,
    )
    return AccountRead.model_validate(account, from_attributes=True)
