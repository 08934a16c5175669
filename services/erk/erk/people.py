"""Master data: units, employees and their accounts (CSV import too), delegations, passwords."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.concurrency import run_in_threadpool

from erk import errors, schemas
from erk.access import READ_ALL_ROLES, check_scope, ensure_may_read, get_employee, write_scope
from erk.dependencies import Context
from erk.imports import read_csv, reject_import
from erk.models import Account, AuditEvent, Delegation, Employee, PayAdjustment, Unit
from erk.tax import PTKP_STATUSES
from erk.writes import audit_many, chunks
from shared.audit import record_event
from shared.auth import Principal, hash_password_async, password_hasher
from shared.money import parse_rupiah
from shared.validators import validate_nip

UNUSABLE_PASSWORD = "!"  # not an argon2 hash: no password verifies until one is set


async def create_unit(session: AsyncSession, data: schemas.UnitCreate, *, actor: Principal) -> Unit:
    if await session.scalar(select(Unit.id).where(Unit.code == data.code)) is not None:
        raise errors.DuplicateUnitError(f"A unit with code {data.code} already exists")
    parent: Unit | None = None
    if data.parent_code is not None:
        parent = await session.scalar(select(Unit).where(Unit.code == data.parent_code))
        if parent is None:
            raise errors.UnitNotFoundError(f"No parent unit with code {data.parent_code}")
    unit = Unit(
        code=data.code,
        name=data.name,
        parent_id=parent.id if parent else None,
        path=f"{parent.path if parent else '/'}{data.code}/",
    )
    session.add(unit)
    await session.flush()
    await record_event(
        session,
        AuditEvent,
        actor=actor,
        action="unit.created",
        entity_type="unit",
        entity_id=unit.id,
        after={"code": unit.code, "name": unit.name, "path": unit.path},
    )
    return unit


async def list_units(session: AsyncSession) -> list[Unit]:
    return list((await session.scalars(select(Unit).order_by(Unit.path))).all())


def _employee_read(employee: Employee, unit_code: str) -> schemas.EmployeeRead:
    return schemas.EmployeeRead(
        nip=employee.nip,
        name=employee.name,
        unit_code=unit_code,
        position=employee.position,
        job_class=employee.job_class,
        rank=employee.rank,
        supervisor_nip=employee.supervisor_nip,
        tpp_base_idr=employee.tpp_base_idr,
        active=employee.active,
        employment_status=employee.employment_status,
        ptkp_status=employee.ptkp_status,
        salary_gross_idr=employee.salary_gross_idr,
        joined_on=employee.joined_on,
        left_on=employee.left_on,
    )


def _employee_snapshot(values: dict[str, Any]) -> dict[str, Any]:
    keys = (
        "unit_code",
        "position",
        "job_class",
        "rank",
        "supervisor_nip",
        "tpp_base_idr",
        "active",
        "employment_status",
        "ptkp_status",
        "salary_gross_idr",
        "joined_on",
        "left_on",
    )
    return {
        k: v.isoformat() if isinstance(v, dt.date) else v for k, v in values.items() if k in keys
    }


async def _ensure_accounts(
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


def may_set_pay(actor: Principal) -> bool:
    """Pay inputs (the TPP base) are HR's: a unit admin maintains people, not their pay."""
    return actor.has_any("hr_admin", "admin")


async def create_employee(
    session: AsyncSession, data: schemas.EmployeeCreate, *, actor: Principal, ctx: Context
) -> schemas.EmployeeRead:
    scope = await write_scope(session, actor)
    unit = await session.scalar(select(Unit).where(Unit.code == data.unit_code))
    if unit is None:
        raise errors.UnitNotFoundError(f"No unit with code {data.unit_code}")
    check_scope(unit.path, scope, f"Unit {unit.code}")
    if (data.tpp_base_idr or data.salary_gross_idr) and not may_set_pay(actor):
        raise errors.PayInputForbiddenError("Only HR (BKPSDM) sets the TPP base")
    if data.nip == actor.username:
        raise errors.OwnRecordError("Nobody registers or changes their own employee record")
    if await session.scalar(select(Employee.id).where(Employee.nip == data.nip)) is not None:
        raise errors.DuplicateEmployeeError("An employee with this NIP is already registered")
    if data.supervisor_nip is not None:
        if data.supervisor_nip == data.nip:
            raise errors.InvalidDelegationError("An employee cannot supervise themself")
        found = await session.scalar(select(Employee.id).where(Employee.nip == data.supervisor_nip))
        if found is None:
            raise errors.EmployeeNotFoundError("The supervisor NIP is not a registered employee")
    employee = Employee(
        nip=data.nip,
        name=data.name,
        unit_id=unit.id,
        position=data.position,
        job_class=data.job_class,
        rank=data.rank,
        supervisor_nip=data.supervisor_nip,
        tpp_base_idr=data.tpp_base_idr,
        active=data.active,
        employment_status=data.employment_status.value,
        ptkp_status=data.ptkp_status,
        salary_gross_idr=data.salary_gross_idr,
        joined_on=data.joined_on,
        left_on=data.left_on,
    )
    session.add(employee)
    await session.flush()
    values = data.model_dump()
    await record_event(
        session,
        AuditEvent,
        actor=actor,
        action="employee.created",
        entity_type="employee",
        entity_id=data.nip,
        after=_employee_snapshot(values),
    )
    await _ensure_accounts(session, [(data.nip, data.name, unit.code)], actor=actor, now=ctx.now)
    return _employee_read(employee, unit.code)


async def read_employee(
    session: AsyncSession, nip: str, *, principal: Principal, ctx: Context
) -> schemas.EmployeeRead:
    employee, unit = await get_employee(session, nip)
    await ensure_may_read(session, principal, employee, unit, today=ctx.today)
    read = _employee_read(employee, unit.code)
    if principal.username != nip and not principal.has_any(*READ_ALL_ROLES, "unit_admin"):
        # Supervisors verify work; what someone is paid is not theirs to see (UU 27/2022).
        read.tpp_base_idr = None
        read.salary_gross_idr = None
        read.ptkp_status = None
    return read


EMPLOYEE_COLUMNS = (
    "nip",
    "name",
    "unit_code",
    "position",
    "job_class",
    "rank",
    "supervisor_nip",
    "tpp_base_idr",
    "active",
)


_TRUE = {"", "1", "true", "ya", "y", "aktif", "yes"}


_FALSE = {"0", "false", "tidak", "t", "n", "no", "nonaktif"}


def _pay_and_dates(row: dict[str, str], problems: list[str]) -> dict[str, Any]:
    """The optional columns: employment_status, ptkp_status, salary_gross_idr, joined_on,
    left_on (blank = the default)."""
    status = row.get("employment_status", "").lower() or "pns"
    if status not in {s.value for s in schemas.EmploymentStatus}:
        problems.append("employment_status must be pns, cpns or pppk")
    ptkp = row.get("ptkp_status", "").upper() or "TK/0"
    if ptkp not in PTKP_STATUSES:
        problems.append(f"ptkp_status must be one of {', '.join(PTKP_STATUSES)}")
    try:
        salary = parse_rupiah(row.get("salary_gross_idr", "") or "0")
        if salary < 0:
            raise ValueError
    except ValueError:
        salary = 0
        problems.append("salary_gross_idr must be a whole, non-negative rupiah amount")
    dates: dict[str, dt.date | None] = {}
    for column in ("joined_on", "left_on"):
        try:
            text = row.get(column, "")
            dates[column] = dt.date.fromisoformat(text) if text else None
        except ValueError:
            dates[column] = None
            problems.append(f"{column} must be written YYYY-MM-DD")
    joined, left = dates["joined_on"], dates["left_on"]
    if joined and left and left < joined:
        problems.append("left_on is before joined_on")
    return {
        "employment_status": status,
        "ptkp_status": ptkp,
        "salary_gross_idr": salary,
        "joined_on": joined,
        "left_on": left,
    }


async def import_employees(
    session: AsyncSession, content: bytes, *, actor: Principal, ctx: Context
) -> schemas.ImportReport:
    """Create or update employees from the personnel system's CSV: all rows or none.

    A unit admin's file may touch only employees who are in the admin's unit subtree now (not
    only the row's unit), never the TPP base, and never the admin's own record.
    """
    scope = await write_scope(session, actor)
    sets_pay = may_set_pay(actor)
    rows = read_csv(content, ("nip", "name", "unit_code", "job_class", "tpp_base_idr"))
    units = {
        r.code: (r.id, r.path)
        for r in (await session.execute(select(Unit.code, Unit.id, Unit.path))).all()
    }
    current_of: dict[str, tuple[str, int, int]] = {}
    for chunk in chunks(sorted({r.get("nip", "") for r in rows}), 500):
        placed = await session.execute(
            select(Employee.nip, Unit.path, Employee.tpp_base_idr, Employee.salary_gross_idr)
            .join(Unit, Unit.id == Employee.unit_id)
            .where(Employee.nip.in_(chunk))
        )
        current_of.update(
            {r.nip: (r.path, int(r.tpp_base_idr), int(r.salary_gross_idr)) for r in placed}
        )
    report: list[schemas.ImportRowError] = []
    parsed: list[dict[str, Any]] = []
    seen: set[str] = set()
    for number, row in enumerate(rows, start=2):
        problems: list[str] = []
        nip = row.get("nip", "")
        try:
            nip = validate_nip(nip, today=ctx.today)
        except ValueError as exc:
            problems.append(str(exc))
        if nip in seen:
            problems.append("NIP appears twice in the file")
        seen.add(nip)
        name = row.get("name", "")
        if not 2 <= len(name) <= 200:
            problems.append("name must have 2 to 200 characters")
        unit = units.get(row.get("unit_code", ""))
        if unit is None:
            problems.append(f"unknown unit_code {row.get('unit_code', '')!r}")
        elif scope is not None and not unit[1].startswith(scope):
            problems.append("unit is outside the unit you administer")
        known_now = current_of.get(nip)
        if nip == actor.username:
            problems.append("nobody changes their own employee record")
        if known_now is not None and scope is not None and not known_now[0].startswith(scope):
            problems.append("the employee is currently in a unit outside the unit you administer")
        try:
            job_class = int(row.get("job_class", ""))
            if not 1 <= job_class <= 17:
                raise ValueError
        except ValueError:
            job_class = 0
            problems.append("job_class must be a whole number from 1 to 17")
        try:
            base = parse_rupiah(row.get("tpp_base_idr", ""))
            if base < 0:
                raise ValueError
        except ValueError:
            base = 0
            problems.append("tpp_base_idr must be a whole, non-negative rupiah amount")
        if not sets_pay and base != (known_now[1] if known_now is not None else 0):
            problems.append("only HR (BKPSDM) sets the TPP base")
        supervisor = row.get("supervisor_nip", "") or None
        if supervisor is not None:
            try:
                supervisor = validate_nip(supervisor, today=ctx.today)
            except ValueError as exc:
                problems.append(f"supervisor_nip: {exc}")
            if supervisor == nip:
                problems.append("an employee cannot supervise themself")
        extra = _pay_and_dates(row, problems)
        if not sets_pay and extra["salary_gross_idr"] != (known_now[2] if known_now else 0):
            problems.append("only HR (BKPSDM) sets the salary")
        active_text = row.get("active", "").lower()
        if active_text not in _TRUE | _FALSE:
            problems.append("active must be 1/0, true/false or ya/tidak")
        if problems:
            report.append(schemas.ImportRowError(row=number, nip=nip or None, errors=problems))
            continue
        assert unit is not None
        parsed.append(
            {
                "row": number,
                "nip": nip,
                "name": name,
                "unit_id": unit[0],
                "unit_code": row["unit_code"],
                "position": row.get("position", "")[:200],
                "job_class": job_class,
                "rank": row.get("rank", "")[:8],
                "supervisor_nip": supervisor,
                "tpp_base_idr": base,
                "active": active_text not in _FALSE,
                **extra,
            }
        )
    nips = [p["nip"] for p in parsed]
    supervisors = sorted({p["supervisor_nip"] for p in parsed if p["supervisor_nip"]} - set(nips))
    known: set[str] = set()
    for chunk in chunks(supervisors, 500):
        known.update(await session.scalars(select(Employee.nip).where(Employee.nip.in_(chunk))))
    for p in parsed:
        if p["supervisor_nip"] and p["supervisor_nip"] not in known | set(nips):
            report.append(
                schemas.ImportRowError(
                    row=p["row"],
                    nip=p["nip"],
                    errors=["supervisor_nip is neither registered nor in the file"],
                )
            )
    if report:
        raise reject_import(sorted(report, key=lambda r: r.row))

    existing: dict[str, Employee] = {}
    for chunk in chunks(nips, 500):
        found = await session.scalars(select(Employee).where(Employee.nip.in_(chunk)))
        existing.update({e.nip: e for e in found})
    now = ctx.now
    fields = (
        "name",
        "unit_id",
        "position",
        "job_class",
        "rank",
        "supervisor_nip",
        "employment_status",
        "ptkp_status",
        "salary_gross_idr",
        "joined_on",
        "left_on",
    )
    new_rows = []
    events: list[tuple[int | str, dict[str, Any] | None, dict[str, Any] | None]] = []
    updated = 0
    for p in parsed:
        after = _employee_snapshot(p)
        current = existing.get(p["nip"])
        if current is None:
            new_rows.append(
                {k: p[k] for k in (*fields, "nip", "tpp_base_idr", "active")}
                | {"created_at": now, "updated_at": now}
            )
            events.append((p["nip"], None, after))
            continue
        before = _employee_snapshot(
            {key: getattr(current, key) for key in (*fields, "tpp_base_idr", "active")}
        )
        for key in (*fields, "tpp_base_idr", "active"):
            setattr(current, key, p[key])
        current.updated_at = now
        updated += 1
        events.append((p["nip"], before, after))
    if new_rows:
        await session.execute(insert(Employee), new_rows)
    await session.flush()
    await audit_many(
        session,
        actor,
        now=ctx.now,
        action="employee.imported",
        entity_type="employee",
        items=events,
    )
    await _ensure_accounts(
        session,
        [(p["nip"], p["name"], p["unit_code"]) for p in parsed],
        actor=actor,
        now=ctx.now,
    )
    return schemas.ImportReport(imported=len(parsed), created=len(new_rows), updated=updated)


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


async def create_delegation(
    session: AsyncSession, data: schemas.DelegationCreate, *, actor: Principal
) -> Delegation:
    if data.end_date < data.start_date:
        raise errors.InvalidDelegationError("end_date is before start_date")
    if data.delegate_nip == data.supervisor_nip:
        raise errors.InvalidDelegationError("A supervisor cannot act for themself")
    if data.delegate_nip == actor.username:
        raise errors.SelfDelegationError("Nobody appoints themself as an acting official")
    supervisor, _ = await get_employee(session, data.supervisor_nip)
    await get_employee(session, data.delegate_nip)
    if not actor.has_any("hr_admin", "admin") and not await in_supervisor_chain(
        session, actor.username, supervisor
    ):
        raise errors.NotDelegatorError(
            "Only the supervisor's own superiors or HR (BKPSDM) appoint an acting official"
        )
    delegation = Delegation(
        supervisor_nip=data.supervisor_nip,
        delegate_nip=data.delegate_nip,
        start_date=data.start_date,
        end_date=data.end_date,
        created_by=actor.username,
    )
    session.add(delegation)
    await session.flush()
    await record_event(
        session,
        AuditEvent,
        actor=actor,
        action="delegation.created",
        entity_type="delegation",
        entity_id=delegation.id,
        after={
            "supervisor_nip": data.supervisor_nip,
            "delegate_nip": data.delegate_nip,
            "start_date": data.start_date.isoformat(),
            "end_date": data.end_date.isoformat(),
        },
    )
    return delegation


async def in_supervisor_chain(session: AsyncSession, nip: str, employee: Employee) -> bool:
    """Whether `nip` is above `employee` in the supervisor chain (at most 20 levels)."""
    current = employee.supervisor_nip
    seen: set[str] = set()
    while current is not None and current not in seen and len(seen) < 20:
        if current == nip:
            return True
        seen.add(current)
        current = await session.scalar(
            select(Employee.supervisor_nip).where(Employee.nip == current)
        )
    return False


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


async def create_pay_adjustment(
    session: AsyncSession, data: schemas.PayAdjustmentCreate, *, actor: Principal
) -> schemas.PayAdjustmentRead:
    """HR records a disciplinary sentence or an acting post with its legal basis (pay input)."""
    if not may_set_pay(actor):
        raise errors.PayInputForbiddenError("Only HR (BKPSDM) records pay decisions")
    if data.nip == actor.username:
        raise errors.OwnRecordError("Nobody records a pay decision about themself")
    employee, _ = await get_employee(session, data.nip)
    adjustment = PayAdjustment(
        employee_id=employee.id,
        kind=data.kind.value,
        start_date=data.start_date,
        end_date=data.end_date,
        percent_bp=int(data.percent * 100),
        acting_base_idr=data.acting_base_idr,
        legal_basis=data.legal_basis,
        created_by=actor.username,
    )
    session.add(adjustment)
    await session.flush()
    read = schemas.PayAdjustmentRead(
        id=adjustment.id,
        nip=data.nip,
        kind=data.kind,
        start_date=data.start_date,
        end_date=data.end_date,
        percent=data.percent,
        acting_base_idr=data.acting_base_idr,
        legal_basis=data.legal_basis,
    )
    await record_event(
        session,
        AuditEvent,
        actor=actor,
        action="pay_adjustment.created",
        entity_type="pay_adjustment",
        entity_id=adjustment.id,
        after=read.model_dump(mode="json"),
    )
    return read
