"""Applicant accounts: self-registration."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from sabilulungan import errors
from sabilulungan.models import Account, AuditEvent
from sabilulungan.schemas import RegisterCreate
from shared.audit import record_event
from shared.auth import hash_password_async


async def register_applicant(session: AsyncSession, data: RegisterCreate) -> Account:
    taken = await session.scalar(select(Account.id).where(Account.username == data.username))
    if taken is not None:
        raise errors.UsernameTakenError(f"The username '{data.username}' is already registered")
    account = Account(
        username=data.username,
        password_hash=await hash_password_async(data.password),
        full_name=data.full_name,
        roles=["applicant"],
        active=True,
        must_change_password=False,
        failed_logins=0,
    )
    session.add(account)
    await session.flush()
    await record_event(
        session,
        AuditEvent,
        actor=data.username,
        role="applicant",
        action="account.registered",
        entity_type="account",
        entity_id=account.id,
        after={"username": data.username, "roles": ["applicant"]},
    )
    return account
