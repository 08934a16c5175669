"""Employees imported from the personnel system's CSV: every row checked, all or nothing."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from erk import grades, schemas
from erk.access import write_scope
from erk.accounts import ensure_accounts
from erk.dependencies import Context
from erk.imports import TEMPLATES, read_table, reject_import
from erk.models import Employee, Unit
from erk.people import PAY_INPUTS, employee_snapshot, may_set_pay, pay_inputs_given
from erk.tax import PTKP_STATUSES
from erk.writes import audit_many, chunks
from shared.auth import Principal
from shared.money import parse_rupiah
from shared.validators import validate_nip

_TRUE = {"", "1", "true", "ya", "y", "aktif", "yes"}


_FALSE = {"0", "false", "tidak", "t", "n", "no", "nonaktif"}


def _pay_and_dates(row: dict[str, str], problems: list[str]) -> dict[str, Any]:
    """The optional columns: employment_status, ptkp_status, salary_gross_idr, joined_on,
    left_on (blank = the default; a column the file lacks is filled in by the caller)."""
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
    return {
        "employment_status": status,
        "ptkp_status": ptkp,
        "salary_gross_idr": salary,
        "joined_on": dates["joined_on"],
        "left_on": dates["left_on"],
    }


# The columns a file must have; every other column of the template may be left out: for an
# employee already registered the stored value stays (a missing column never wipes or resets
# anything); for a new one the model's default applies.
_REQUIRED = ("nip", "name", "unit_code", "job_class")
_OPTIONAL = tuple(c for c in TEMPLATES["pegawai"] if c not in _REQUIRED)

# What the month's amount is computed from (and whether there is one): only HR (BKPSDM) changes
# these for an employee already registered; a unit admin's new employee is registered without the
# pay inputs of a registration (`people.PAY_INPUTS`), awaiting HR.
_PAY_INPUTS = (
    *PAY_INPUTS,
    "joined_on",
    "left_on",
    "active",  # an inactive employee is left out of the month's recap
)
_PAY_REFUSALS = {
    "tpp_base_idr": "only HR (BKPSDM) sets the TPP base",
    "salary_gross_idr": "only HR (BKPSDM) sets the salary",
}
_STORED = tuple(dict.fromkeys((*_OPTIONAL, *_PAY_INPUTS)))


@dataclass
class _EmployeeFile:
    """What checking one row of an employee import needs to know."""

    actor: Principal
    today: dt.date
    scope: str | None
    sets_pay: bool
    units: dict[str, tuple[int, str]]
    current_of: dict[str, dict[str, Any]]  # nip -> unit path ("path") and the stored fields
    columns: frozenset[str]
    seen: set[str] = field(default_factory=set)

    def _nip(self, row: dict[str, str], problems: list[str]) -> str:
        nip = row.get("nip", "")
        try:
            nip = validate_nip(nip, today=self.today)
        except ValueError as exc:
            problems.append(str(exc))
        if nip in self.seen:
            problems.append("NIP appears twice in the file")
        self.seen.add(nip)
        return nip

    def _unit(self, row: dict[str, str], nip: str, problems: list[str]) -> tuple[int, str] | None:
        unit = self.units.get(row.get("unit_code", ""))
        if unit is None:
            problems.append(f"unknown unit_code {row.get('unit_code', '')!r}")
        elif self.scope is not None and not unit[1].startswith(self.scope):
            problems.append("unit is outside the unit you administer")
        if nip == self.actor.username:
            problems.append("nobody changes their own employee record")
        now = self.current_of.get(nip)
        if now is not None and self.scope is not None and not now["path"].startswith(self.scope):
            problems.append("the employee is currently in a unit outside the unit you administer")
        return unit

    def _job_class_and_base(
        self, row: dict[str, str], problems: list[str]
    ) -> tuple[int | None, int]:
        """The job class (none: left blank by someone other than HR, awaiting HR) and base."""
        job_class: int | None = None
        try:
            if row.get("job_class", "") or self.sets_pay:
                job_class = int(row.get("job_class", ""))
                if not 1 <= job_class <= 17:
                    raise ValueError
        except ValueError:
            job_class = 0
            problems.append("job_class must be a whole number from 1 to 17")
        try:
            base = parse_rupiah(row.get("tpp_base_idr", "") or "0")
            if self.sets_pay and "tpp_base_idr" in self.columns and not row.get("tpp_base_idr"):
                raise ValueError
            if base < 0:
                raise ValueError
        except ValueError:
            base = 0
            problems.append("tpp_base_idr must be a whole, non-negative rupiah amount")
        return job_class, base

    def _pay_inputs_kept(
        self, nip: str, row: dict[str, str], values: dict[str, Any], problems: list[str]
    ) -> None:
        """A unit admin changes no pay input: the stored ones of a registered employee stay; a
        new employee's pay input cells are left blank (it awaits HR, paid nothing meanwhile)."""
        if self.sets_pay:
            return
        known = self.current_of.get(nip)
        if known is None:
            given = pay_inputs_given(
                values | {k: row.get(k) or None for k in ("employment_status", "ptkp_status")}
            )
            problems += [_PAY_REFUSALS.get(k, f"only HR (BKPSDM) sets {k}") for k in given]
            return
        for key in _PAY_INPUTS:
            if values[key] != known[key]:
                problems.append(_PAY_REFUSALS.get(key, f"only HR (BKPSDM) changes {key}"))

    def _supervisor(self, row: dict[str, str], nip: str, problems: list[str]) -> str | None:
        supervisor = row.get("supervisor_nip", "") or None
        if supervisor is not None:
            try:
                supervisor = validate_nip(supervisor, today=self.today)
            except ValueError as exc:
                problems.append(f"supervisor_nip: {exc}")
            if supervisor == nip:
                problems.append("an employee cannot supervise themself")
        known = self.current_of.get(nip)
        if supervisor == self.actor.username and (
            known is None or known["supervisor_nip"] != supervisor
        ):
            problems.append("nobody makes themself a supervisor by import")
        return supervisor

    def _kept(self, nip: str, values: dict[str, Any]) -> dict[str, Any]:
        """The values with every column the file lacks taken from the stored employee."""
        known = self.current_of.get(nip)
        if known is None:
            return values
        return values | {k: known[k] for k in _OPTIONAL if k not in self.columns}

    def check(self, number: int, row: dict[str, str]) -> tuple[list[str], dict[str, Any]]:
        """The row's problems, and its values when there are none."""
        problems: list[str] = []
        nip = self._nip(row, problems)
        name = row.get("name", "")
        if not 2 <= len(name) <= 200:
            problems.append("name must have 2 to 200 characters")
        unit = self._unit(row, nip, problems)
        job_class, base = self._job_class_and_base(row, problems)
        active_text = row.get("active", "").lower()
        if active_text not in _TRUE | _FALSE:
            problems.append("active must be 1/0, true/false or ya/tidak")
        values = self._kept(
            nip,
            {
                "position": row.get("position", "")[:200],
                "job_class": job_class,
                "rank": row.get("rank", "")[:8],
                "supervisor_nip": row.get("supervisor_nip", "") or None,
                "tpp_base_idr": base,
                "active": active_text not in _FALSE,
                **_pay_and_dates(row, problems),
            },
        )
        if "supervisor_nip" in self.columns:
            values["supervisor_nip"] = self._supervisor(row, nip, problems)
        joined, left = values["joined_on"], values["left_on"]
        if joined and left and left < joined:
            problems.append("left_on is before joined_on")
        self._pay_inputs_kept(nip, row, values, problems)
        if problems or unit is None:
            return problems, {"nip": nip}
        return problems, values | {
            "row": number,
            "nip": nip,
            "name": name,
            "unit_id": unit[0],
            "unit_code": row["unit_code"],
        }


async def _employee_file(
    session: AsyncSession,
    rows: list[dict[str, str]],
    actor: Principal,
    ctx: Context,
    scope: str | None,
) -> _EmployeeFile:
    units = {
        r.code: (r.id, r.path)
        for r in (await session.execute(select(Unit.code, Unit.id, Unit.path))).all()
    }
    current_of: dict[str, dict[str, Any]] = {}
    stored = [getattr(Employee, key) for key in _STORED]
    for chunk in chunks(sorted({r.get("nip", "") for r in rows}), 500):
        placed = await session.execute(
            select(Employee.nip, Unit.path, *stored)
            .join(Unit, Unit.id == Employee.unit_id)
            .where(Employee.nip.in_(chunk))
        )
        current_of.update({r.nip: dict(r._mapping) for r in placed})
    return _EmployeeFile(
        actor=actor,
        today=ctx.today,
        scope=scope,
        sets_pay=may_set_pay(actor),
        units=units,
        current_of=current_of,
        columns=frozenset(rows[0]),
    )


async def _unknown_supervisors(
    session: AsyncSession, parsed: list[dict[str, Any]]
) -> list[schemas.ImportRowError]:
    nips = {p["nip"] for p in parsed}
    supervisors = sorted({p["supervisor_nip"] for p in parsed if p["supervisor_nip"]} - nips)
    known: set[str] = set()
    for chunk in chunks(supervisors, 500):
        known.update(await session.scalars(select(Employee.nip).where(Employee.nip.in_(chunk))))
    return [
        schemas.ImportRowError(
            row=p["row"],
            nip=p["nip"],
            errors=["supervisor_nip is neither registered nor in the file"],
        )
        for p in parsed
        if p["supervisor_nip"] and p["supervisor_nip"] not in known | nips
    ]


async def _supervisor_loops(
    session: AsyncSession, parsed: list[dict[str, Any]]
) -> list[schemas.ImportRowError]:
    """Rows whose supervisor chain, with the file's rows in force, leads back to the employee."""
    above: dict[str, str | None] = {p["nip"]: p["supervisor_nip"] for p in parsed}
    wanted = {s for s in above.values() if s is not None} - above.keys()
    for _ in range(25):  # the chain is read 20 levels deep elsewhere (`in_supervisor_chain`)
        if not wanted:
            break
        above.update(dict.fromkeys(wanted))
        for chunk in chunks(sorted(wanted), 500):
            found = await session.execute(
                select(Employee.nip, Employee.supervisor_nip).where(Employee.nip.in_(chunk))
            )
            above.update({r.nip: r.supervisor_nip for r in found})
        wanted = {s for s in above.values() if s is not None} - above.keys()
    report = []
    for p in parsed:
        seen: set[str] = set()
        current = p["supervisor_nip"]
        while current is not None and current not in seen and current != p["nip"]:
            seen.add(current)
            current = above.get(current)
        if current is not None and current == p["nip"] and p["supervisor_nip"] != p["nip"]:
            report.append(
                schemas.ImportRowError(
                    row=p["row"],
                    nip=p["nip"],
                    errors=["the supervisor chain would lead back to the employee"],
                )
            )
    return report


_EMPLOYEE_FIELDS = (
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


async def import_employees(
    session: AsyncSession, content: bytes, *, actor: Principal, ctx: Context
) -> schemas.ImportReport:
    """Create or update employees from the personnel system's CSV: all rows or none.

    A unit admin's file may touch only employees who are in the admin's unit subtree now (not
    only the row's unit), never a pay input (`_PAY_INPUTS`), and never the admin's own record.
    Nobody makes themself a supervisor by import, and no row closes a loop in the supervisor
    chain. A column the file lacks keeps the stored value.
    """
    scope = await write_scope(session, actor)
    rows = read_table(content, _REQUIRED)
    checker = await _employee_file(session, rows, actor, ctx, scope)
    report: list[schemas.ImportRowError] = []
    parsed: list[dict[str, Any]] = []
    for number, row in enumerate(rows, start=2):
        problems, values = checker.check(number, row)
        if problems:
            nip = values["nip"] or None
            report.append(schemas.ImportRowError(row=number, nip=nip, errors=problems))
        else:
            parsed.append(values)
    report += await _unknown_supervisors(session, parsed)
    report += await _supervisor_loops(session, parsed)
    if report:
        raise reject_import(sorted(report, key=lambda r: r.row))
    return await _store_employees(session, parsed, actor=actor, ctx=ctx)


async def _store_employees(
    session: AsyncSession, parsed: list[dict[str, Any]], *, actor: Principal, ctx: Context
) -> schemas.ImportReport:
    existing: dict[str, Employee] = {}
    for chunk in chunks([p["nip"] for p in parsed], 500):
        found = await session.scalars(select(Employee).where(Employee.nip.in_(chunk)))
        existing.update({e.nip: e for e in found})
    now = ctx.now
    kept = (*_EMPLOYEE_FIELDS, "tpp_base_idr", "active")
    new_rows = []
    events: list[tuple[int | str, dict[str, Any] | None, dict[str, Any] | None]] = []
    updated = 0
    regraded: list[grades.Regrade] = []
    for p in parsed:
        after = employee_snapshot(p)
        current = existing.get(p["nip"])
        if current is None:
            new_rows.append(
                {k: p[k] for k in (*kept, "nip")} | {"created_at": now, "updated_at": now}
            )
            events.append((p["nip"], None, after))
            continue
        before = employee_snapshot({key: getattr(current, key) for key in kept})
        if (current.job_class, current.employment_status) != (
            p["job_class"],
            p["employment_status"],
        ):
            regraded.append(
                grades.Regrade(
                    current.id,
                    current.nip,
                    current.job_class,
                    current.employment_status,
                    p["job_class"],
                    p["employment_status"],
                )
            )
        for key in kept:
            setattr(current, key, p[key])
        current.updated_at = now
        updated += 1
        events.append((p["nip"], before, after))
    if new_rows:
        await session.execute(insert(Employee), new_rows)
    await session.flush()
    await grades.record_imported_changes(session, regraded, actor=actor, ctx=ctx)
    await audit_many(
        session,
        actor,
        now=ctx.now,
        action="employee.imported",
        entity_type="employee",
        items=events,
    )
    await ensure_accounts(
        session,
        [(p["nip"], p["name"], p["unit_code"]) for p in parsed],
        actor=actor,
        now=ctx.now,
    )
    return schemas.ImportReport(imported=len(parsed), created=len(new_rows), updated=updated)
