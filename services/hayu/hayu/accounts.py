"""Business owner accounts."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hayu import errors
from hayu.models import (
    Account,
    AuditEvent,
)
from hayu.schemas import (
    AccountRead,
    RegisterCreate,
)
from shared import audit
from shared.auth import hash_password_async


async def register_owner(session: AsyncSession, data: RegisterCreate) -> AccountRead:
    taken = await session.scalar(select(Account.id).where(Account.username == data.username))
    if taken is not None:
        raise errors.UsernameTakenError(f"The username '{data.username}' is already taken")
    account = Account(
        username=data.username,
        password_hash=await hash_password_async(data.password),
        full_name=data.full_name,
        roles=["business_owner"],
        unit=None,
        active=True,
        must_change_password=False,
        failed_logins=0,
    )
    session.add(account)
    await session.flush()
    await audit.record_event(
        session,
        AuditEvent,
        actor=data.username,
        role="business_owner",
        action="account.registered",
        entity_type="account",
        entity_id=account.id,
        after={"username": data.username, "roles": ["business_owner"]},
    )
    return AccountRead(
        id=account.id, username=account.username, full_name=account.full_name, roles=account.roles
    )
