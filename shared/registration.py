"""Self-registration: a citizen opens an account with one role (applicant, business owner).

One check that the username is free, the account row and its audit event, in the caller's
transaction. Staff accounts are made by an administrator (`shared.cli.create_account`).
"""

from __future__ import annotations

from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.audit import AuditEventMixin, record_event
from shared.auth import AccountMixin, hash_password_async
from shared.contact import ContactError, normalize_email, normalize_phone, set_contact
from shared.crypto import FieldCipher
from shared.problems import ConflictError

A = TypeVar("A", bound=AccountMixin)


class UsernameTakenError(ConflictError):
    title = "Username already taken"
    type = "username-taken"


async def register_account(
    session: AsyncSession,
    account_model: type[A],
    event_model: type[AuditEventMixin],
    *,
    username: str,
    password: str,
    full_name: str,
    role: str,
    email: str | None = None,
    phone: str | None = None,
    cipher: FieldCipher | None = None,
    email_required: bool = False,
) -> A:
    """A new active account holding `role` only; `UsernameTakenError` (409) if the name is used.

    With an e-mail (required when `email_required`) and/or phone, both are stored encrypted with
    `cipher` (see `shared.contact`); the audit event `account.registered` then leads the notifier
    to send the verification link. The event names neither.
    """
    email, phone = normalize_email(email), normalize_phone(phone)
    if email_required and email is None:
        raise ContactError("An e-mail address is required to register", field="email")
    taken = await session.scalar(select(account_model.id).where(account_model.username == username))
    if taken is not None:
        raise UsernameTakenError(f"The username '{username}' is already taken")
    account = account_model()
    account.username = username
    account.password_hash = await hash_password_async(password)
    account.full_name = full_name
    account.roles = [role]
    account.unit = None
    account.active = True
    account.must_change_password = False
    account.failed_logins = 0
    if (email or phone) and cipher is not None:
        set_contact(account, cipher, email=email, phone=phone)
    session.add(account)
    await session.flush()
    await record_event(
        session,
        event_model,
        actor=username,
        role=role,
        action="account.registered",
        entity_type="account",
        entity_id=account.id,
        after={"username": username, "roles": [role]},
    )
    return account
