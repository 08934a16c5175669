"""The command line every service offers as `python -m <service>`.

migrate, downgrade, create-account, set-password, seed-demo, audit-seal and audit-verify
(`--against FILE_OR_URL` compares the log with checkpoints held outside); a service
adds its own commands (imports, exports) through `extra`.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from shared import audit, audit_integrity, audit_seal, migrations
from shared.app import CommonModels, ServiceSpec
from shared.audit_proofs import SignedCheckpoint
from shared.audit_verifier import UnreadableError, load_checkpoints
from shared.auth import Principal, hash_password
from shared.db import Database
from shared.signing import Signer

Seeder = Callable[[AsyncSession, ServiceSpec], Awaitable[list[tuple[str, str, list[str]]]]]


@dataclass(frozen=True)
class ExtraCommand:
    name: str
    help: str
    configure: Callable[[argparse.ArgumentParser], None]
    run: Callable[[ServiceSpec, argparse.Namespace], Awaitable[int]]


DemoAccount = tuple[str, Sequence[str], str, str | None]  # username, roles, name, unit
Login = tuple[str, str, list[str]]  # username, password, roles: what seed-demo prints


async def seed_demo_accounts(
    session: AsyncSession,
    models: CommonModels,
    accounts: Sequence[DemoAccount],
    password: str,
) -> tuple[list[Login], dict[str, Principal]]:
    """Create or refresh a service's demo accounts, all with `password` (seeding twice does not
    duplicate); returns the logins to print and each account as a principal to act as."""
    logins: list[Login] = []
    principals: dict[str, Principal] = {}
    for username, roles, name, unit in accounts:
        account = await create_account(
            session, models, username, password, roles, name=name, unit=unit, actor="seed-demo"
        )
        principals[username] = Principal(
            account_id=account.id,
            username=username,
            roles=frozenset(roles),
            name=name,
            unit=unit,
        )
        logins.append((username, password, list(roles)))
    return logins, principals


def signer_of(spec: ServiceSpec) -> Signer:
    import base64

    return Signer.from_seed_b64(
        base64.urlsafe_b64encode(spec.settings.signing_seed_bytes()).decode()
    )


def database_of(spec: ServiceSpec) -> Database:
    return Database.create(spec.settings.resolved_database_url(), schema=spec.name, pool_size=2)


async def create_account(
    session: AsyncSession,
    models: CommonModels,
    username: str,
    password: str,
    roles: Sequence[str],
    *,
    name: str = "",
    unit: str | None = None,
    actor: str = "cli",
) -> Any:
    """Create or update an account (idempotent: seeding twice does not duplicate)."""
    model = models.account
    account = (
        await session.execute(select(model).where(model.username == username))
    ).scalar_one_or_none()
    before = None
    if account is None:
        account = model()
        account.username = username
        session.add(account)
    else:
        before = {"roles": list(account.roles), "unit": account.unit, "name": account.full_name}
    account.password_hash = hash_password(password)
    account.roles = sorted(set(roles))
    account.full_name = name or account.full_name or username
    account.unit = unit if unit is not None else account.unit
    account.active = True
    account.failed_logins = 0
    account.locked_until = None
    await session.flush()
    await audit.record_event(
        session,
        models.audit_event,
        actor=actor,
        role="admin",
        action="account.created" if before is None else "account.updated",
        entity_type="account",
        entity_id=account.id,
        before=before,
        after={"username": username, "roles": account.roles, "unit": account.unit},
    )
    return account


async def _set_password(spec: ServiceSpec, username: str, password: str) -> int:
    db = database_of(spec)
    try:
        async with db.sessionmaker.begin() as session:
            model = spec.models.account
            account = (
                await session.execute(select(model).where(model.username == username))
            ).scalar_one_or_none()
            if account is None:
                print(f"no account named {username}", file=sys.stderr)
                return 1
            account.password_hash = hash_password(password)
            account.failed_logins = 0
            account.locked_until = None
            await audit.record_event(
                session,
                spec.models.audit_event,
                actor="cli",
                role="admin",
                action="account.password_set",
                entity_type="account",
                entity_id=account.id,
            )
    finally:
        await db.dispose()
    print(f"password set for {username}")
    return 0


async def _create_account_cmd(spec: ServiceSpec, args: argparse.Namespace) -> int:
    if len(args.password) < 8:
        print("the password must have at least 8 characters", file=sys.stderr)
        return 2
    db = database_of(spec)
    try:
        async with db.sessionmaker.begin() as session:
            await create_account(
                session,
                spec.models,
                args.username,
                args.password,
                args.role,
                name=args.name or "",
                unit=args.unit,
            )
    finally:
        await db.dispose()
    print(f"account {args.username} ready with roles {', '.join(sorted(set(args.role)))}")
    return 0


DEMO_REFUSED = (
    "seed-demo refuses to run in production: it creates accounts with the published demo "
    "passwords. Create real accounts with create-account instead."
)


class DemoInProductionError(RuntimeError):
    """seed-demo was asked to run on a production deployment."""


async def seed_demo(
    spec: ServiceSpec, seeder: Seeder | None, *, quiet: bool = False
) -> list[tuple[str, str, list[str]]]:
    """Load the demo data and seal its audit events; returns the demo logins."""
    if spec.settings.environment == "production":
        raise DemoInProductionError(DEMO_REFUSED)
    if seeder is None:
        if not quiet:
            print("this service has no demo data")
        return []
    db = database_of(spec)
    try:
        async with db.sessionmaker.begin() as session:
            logins = await seeder(session, spec)
        async with db.sessionmaker.begin() as session:
            await _seal_pending(session, spec)
    finally:
        await db.dispose()
    if not quiet:
        print(f"demo data seeded for {spec.name}; logins:")
        for username, password, roles in logins:
            print(f"  {username} / {password}  ({', '.join(roles)})")
    return logins


async def _seal_pending(session: AsyncSession, spec: ServiceSpec) -> int:
    return await audit_seal.seal_pending(
        session,
        spec.models.audit_event,
        spec.models.audit_checkpoint,
        signer=signer_of(spec),
        service=spec.name,
        schema=spec.name,
    )


async def _seal(spec: ServiceSpec) -> int:
    db = database_of(spec)
    try:
        async with db.sessionmaker.begin() as session:
            sealed = await _seal_pending(session, spec)
    finally:
        await db.dispose()
    print(f"sealed {sealed} audit events")
    return 0


async def verify(
    spec: ServiceSpec, outside: Sequence[SignedCheckpoint] = ()
) -> audit_integrity.VerifyResult:
    db = database_of(spec)
    try:
        async with db.sessionmaker() as session:
            return await audit_integrity.verify_chain(
                session,
                spec.models.audit_event,
                spec.models.audit_checkpoint,
                public_key=signer_of(spec).public_key_b64(),
                service=spec.name,
                outside=outside,
            )
    finally:
        await db.dispose()


async def _verify_cmd(spec: ServiceSpec, against: Sequence[str] = ()) -> int:
    outside: list[SignedCheckpoint] = []
    for source in against:
        try:
            outside += await load_checkpoints(source)
        except UnreadableError as exc:
            print(f"cannot read the checkpoints held outside: {exc}", file=sys.stderr)
            return 2
    result = await verify(spec, outside)
    if result.ok:
        held = f", consistent with {len(outside)} checkpoints held outside" if against else ""
        print(f"audit chain intact: {result.checked} sealed events verified{held}")
        return 0
    print(
        f"audit chain BROKEN at position {result.first_broken_position}: {result.reason} "
        f"({result.checked} events verified before it)",
        file=sys.stderr,
    )
    return 1


async def _ok(work: Awaitable[object]) -> int:
    await work
    return 0


def run_cli(
    spec_factory: Callable[[], ServiceSpec],
    *,
    seeder: Seeder | None = None,
    extra: Sequence[ExtraCommand] = (),
    argv: Sequence[str] | None = None,
) -> int:
    parser = argparse.ArgumentParser(prog=None)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("migrate", help="upgrade the database schema to the latest migration")
    p.add_argument("--revision", default="head")
    p = sub.add_parser("downgrade", help="downgrade the schema (base removes everything)")
    p.add_argument("revision")
    p = sub.add_parser("create-account", help="create or update an account with roles")
    p.add_argument("username")
    p.add_argument("--password", required=True)
    p.add_argument("--role", action="append", required=True)
    p.add_argument("--name")
    p.add_argument("--unit")
    p = sub.add_parser("set-password", help="set an account's password")
    p.add_argument("username")
    p.add_argument("--password", required=True)
    sub.add_parser("seed-demo", help="load demo accounts and data")
    sub.add_parser("audit-seal", help="seal pending audit events now")
    p = sub.add_parser(
        "audit-verify", help="recompute the audit chain and tree; non-zero exit when broken"
    )
    p.add_argument(
        "--against",
        action="append",
        default=[],
        metavar="FILE_OR_URL",
        help="checkpoints held outside: a JSON file saved earlier, its URL, or the base URL of "
        "a copy of the service (a witness); detects a rewritten or rolled-back log",
    )
    for command in extra:
        command.configure(sub.add_parser(command.name, help=command.help))
    args = parser.parse_args(argv)
    spec = spec_factory()
    url = spec.settings.resolved_migration_url()
    if args.command == "seed-demo" and spec.settings.environment == "production":
        print(f"{spec.name}: {DEMO_REFUSED}", file=sys.stderr)
        return 2
    if args.command == "migrate":
        migrations.upgrade(spec.migrations_dir, url, args.revision)
        migrations.restrict_audit_grants(url, spec.name)
        print(f"{spec.name}: migrated to {args.revision}")
        return 0
    if args.command == "downgrade":
        migrations.downgrade(spec.migrations_dir, url, args.revision)
        print(f"{spec.name}: downgraded to {args.revision}")
        return 0
    runners: dict[str, Callable[[], Coroutine[Any, Any, int]]] = {
        "create-account": lambda: _create_account_cmd(spec, args),
        "set-password": lambda: _set_password(spec, args.username, args.password),
        "seed-demo": lambda: _ok(seed_demo(spec, seeder)),
        "audit-seal": lambda: _seal(spec),
        "audit-verify": lambda: _verify_cmd(spec, args.against),
    }
    for command in extra:
        runners[command.name] = lambda c=command: c.run(spec, args)  # type: ignore[misc]
    return asyncio.run(runners[args.command]())
