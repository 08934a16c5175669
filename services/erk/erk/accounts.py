"""Employee accounts: created with the employee, password resets by rank, password changes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

from sqlalchemy import ColumnElement, and_, case, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.concurrency import run_in_threadpool

from erk import errors
from erk.models import Account, AuditEvent, Unit
from erk.writes import audit_many, chunks
from shared.audit import record_event
from shared.auth import Principal, hash_password_async, password_hasher

UNUSABLE_PASSWORD = "!"  # not an argon2 hash: no password verifies until one is set


async def ensure_accounts(
    session: AsyncSession,
    people: Sequence[tuple[str, str, str]],
    *,
    actor: Principal,
    now: dt.datetime,
) -> None:
    """An employee account (username = NIP) for each (nip, name, unit code) that has none.

    The account has no usable password until `set-password` or an admin reset sets one, and its
    first web login forces a password change.
    """
    if not people:
        return
    nips = [nip for nip, _, _ in people]
    existing: dict[str, list[str]] = {}
    for chunk in chunks(nips, 500):
        rows = await session.execute(
            select(Account.username, Account.roles).where(Account.username.in_(chunk))
        )
        existing.update({r.username: list(r.roles or []) for r in rows})
    new = [
        {
            "username": nip,
            "password_hash": UNUSABLE_PASSWORD,
            "full_name": name,
            "roles": ["employee"],
            "unit": unit_code,
            "active": True,
            "must_change_password": True,
            "failed_logins": 0,
            "created_at": now,
        }
        for nip, name, unit_code in people
        if nip not in existing
    ]
    if new:
        await session.execute(insert(Account), new)
    for nip, roles in existing.items():
        if "employee" not in roles:
            await session.execute(
                update(Account)
                .where(Account.username == nip)
                .values(roles=sorted({*roles, "employee"}))
            )
    await audit_many(
        session,
        actor,
        now=now,
        action="account.created",
        entity_type="account",
        items=[(str(row["username"]), None, {"roles": ["employee"]}) for row in new],
    )


ROLE_RANK = {"employee": 0, "unit_admin": 1, "auditor": 1, "hr_admin": 2, "admin": 3}


def role_rank(roles: Iterable[str]) -> int:
    """The highest rank among `roles` (an unknown role ranks as the highest: never outranked)."""
    return max((ROLE_RANK.get(r, len(ROLE_RANK)) for r in roles), default=0)


async def reset_password(
    session: AsyncSession, nip: str, password: str, *, actor: Principal
) -> None:
    """An admin sets a temporary password; the employee must change it at the next login."""
    account = await session.scalar(select(Account).where(Account.username == nip))
    if account is None:
        raise errors.EmployeeNotFoundError("No account with this NIP")
    if role_rank(account.roles or []) >= role_rank(actor.roles):
        raise errors.AccountOutrankedError(
            "A password can be reset only for accounts with fewer rights than yours"
        )
    account.password_hash = await hash_password_async(password)
    account.must_change_password = True
    account.failed_logins = 0
    account.locked_until = None
    await session.flush()
    await record_event(
        session,
        AuditEvent,
        actor=actor,
        action="account.password_reset",
        entity_type="account",
        entity_id=nip,
    )


GRANTABLE_ROLES = ("employee", "unit_admin", "auditor", "hr_admin", "admin")


def grantable_by(actor: Principal) -> list[str]:
    """The roles the actor may grant: those with fewer rights than the actor's own."""
    rank = role_rank(actor.roles)
    return [r for r in GRANTABLE_ROLES if role_rank([r]) < rank]


def manages(actor: Principal, account: Account) -> bool:
    """Whether the actor may manage the account: another's, with fewer rights than the actor's."""
    return account.username != actor.username and role_rank(account.roles or []) < role_rank(
        actor.roles
    )


def _role_rank_sql(dialect: str) -> ColumnElement[int]:
    """`role_rank` of `Account.roles` in SQL: the highest rank among the JSON array's roles (from
    `ROLE_RANK`, an unknown role ranking highest), 0 for none."""
    elements = (
        func.jsonb_array_elements_text(Account.roles)
        if dialect == "postgresql"
        else func.json_each(Account.roles)
    ).table_valued("value")
    rank = case(
        *((elements.c.value == role, rank) for role, rank in ROLE_RANK.items()),
        else_=len(ROLE_RANK),
    )
    return func.coalesce(select(func.max(rank)).select_from(elements).scalar_subquery(), 0)


def manages_sql(actor: Principal, dialect: str) -> ColumnElement[bool]:
    """`manages` as a condition on `Account`, for lists the database filters and pages."""
    return and_(
        Account.username != actor.username, _role_rank_sql(dialect) < role_rank(actor.roles)
    )


async def accounts_below(
    session: AsyncSession,
    actor: Principal,
    *,
    search: str = "",
    after: str | None = None,
    limit: int = 50,
) -> tuple[list[Account], int]:
    """A page of the accounts the actor may manage, by username: those matching `search` (in the
    username or name, any case) after the username `after`; and how many more follow the page."""
    condition = manages_sql(actor, session.get_bind().dialect.name)
    if search:
        needle = search.lower()
        condition = and_(
            condition,
            or_(
                func.lower(Account.username).contains(needle, autoescape=True),
                func.lower(Account.full_name).contains(needle, autoescape=True),
            ),
        )
    listed = select(Account).where(condition)
    if after is not None:
        listed = listed.where(Account.username > after)
    page = list(await session.scalars(listed.order_by(Account.username).limit(limit + 1)))
    if len(page) <= limit:
        return page, 0
    page = page[:limit]
    more = await session.scalar(
        select(func.count())
        .select_from(Account)
        .where(condition, Account.username > page[-1].username)
    )
    return page, int(more or 0)


async def account_below(session: AsyncSession, actor: Principal, username: str) -> Account | None:
    """The account named `username` if the actor may manage it."""
    found = await session.scalar(select(Account).where(Account.username == username))
    return found if found is not None and manages(actor, found) else None


async def set_roles(
    session: AsyncSession,
    username: str,
    roles: Iterable[str],
    unit: str | None,
    *,
    actor: Principal,
) -> Account:
    """HR (or an admin) sets an account's roles: only on accounts with fewer rights than the actor,
    only roles below the actor's own, never on their own account; a unit admin needs its unit."""
    chosen = sorted(set(roles))
    if username == actor.username:
        raise errors.OwnRecordError("Nobody changes the roles of their own account")
    if not chosen or any(r not in GRANTABLE_ROLES for r in chosen):
        raise errors.RoleNotGrantableError("Choose one or more known roles")
    if not set(chosen) <= set(grantable_by(actor)):
        raise errors.RoleNotGrantableError("Only roles with fewer rights than yours can be granted")
    account = await session.scalar(select(Account).where(Account.username == username))
    if account is None:
        raise errors.EmployeeNotFoundError("No account with this username")
    if role_rank(account.roles or []) >= role_rank(actor.roles):
        raise errors.AccountOutrankedError(
            "Roles can be changed only for accounts with fewer rights than yours"
        )
    unit_id = await session.scalar(select(Unit.id).where(Unit.code == unit)) if unit else None
    if "unit_admin" in chosen and unit_id is None:
        raise errors.UnitNotFoundError("A unit admin needs the code of an existing unit")
    before = {"roles": list(account.roles or []), "unit": account.unit}
    account.roles = chosen
    account.unit = unit or account.unit
    await session.flush()
    await record_event(
        session,
        AuditEvent,
        actor=actor,
        action="account.roles_changed",
        entity_type="account",
        entity_id=username,
        before=before,
        after={"roles": chosen, "unit": account.unit},
    )
    return account


def _password_ok(password_hash: str, password: str) -> bool:
    from argon2.exceptions import InvalidHashError, VerificationError

    try:
        return password_hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


async def must_change_password(session: AsyncSession, username: str) -> bool:
    flag = await session.scalar(
        select(Account.must_change_password).where(Account.username == username)
    )
    return bool(flag)


async def change_password(
    session: AsyncSession, principal: Principal, current: str, new: str
) -> None:
    account = await session.scalar(select(Account).where(Account.username == principal.username))
    if account is None or not await run_in_threadpool(_password_ok, account.password_hash, current):
        raise errors.PasswordChangeError("The current password is not correct")
    if len(new) < 8 or new == current:
        raise errors.PasswordChangeError(
            "The new password needs at least 8 characters and must differ from the current one"
        )
    account.password_hash = await hash_password_async(new)
    account.must_change_password = False
    await session.flush()
    await record_event(
        session,
        AuditEvent,
        actor=principal,
        action="account.password_changed",
        entity_type="account",
        entity_id=principal.username,
    )
