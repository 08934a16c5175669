"""Business owner accounts."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from hayu.models import Account, AuditEvent
from hayu.schemas import AccountRead, RegisterCreate
from shared.registration import register_account


async def register_owner(session: AsyncSession, data: RegisterCreate) -> AccountRead:
    account = await register_account(
        session,
        Account,
        AuditEvent,
        username=data.username,
        password=data.password,
        full_name=data.full_name,
        role="business_owner",
    )
    return AccountRead.model_validate(account, from_attributes=True)
