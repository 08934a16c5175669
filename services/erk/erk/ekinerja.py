"""BKN e-Kinerja bridge: enter once in e-RK, report twice.

Since 2026 every civil servant also records daily progress in BKN's e-Kinerja (Peraturan BKN
2/2026 as reported; entries filed under quarterly periods). BKN offers no public write API, so the
bridge is a port with adapters: e-RK keeps each employee's Rencana Aksi (imported from the file
e-Kinerja exports), an activity links to one, and the verified activities of a month leave e-RK
in exactly the columns of e-Kinerja's daily-progress form (`EKINERJA_COLUMNS`), as CSV or xlsx.
An API adapter can implement `ProgressSink` the day BKN publishes one.

e-RK records minutes, not clock times: start and end are laid out from the regency's start of the
working day (`ekinerja_day_start`, Perpres 21/2023: 07:30) in the order the activities were
entered, one after the other.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from erk import errors, schemas, workflow
from erk.access import employees_by_nip, ensure_may_read, get_employee, write_scope
from erk.activities import own_open_activity
from erk.dependencies import Context
from erk.imports import read_table, reject_import
from erk.models import ActionPlan, Activity, AuditEvent
from erk.periods import next_month, parse_period
from erk.writes import audit_many
from shared.audit import record_event
from shared.auth import Principal

EKINERJA_COLUMNS = (
    "Tanggal",
    "Jam Mulai",
    "Jam Selesai",
    "Rencana Aksi",
    "Kegiatan",
    "Realisasi",
    "Satuan",
    "Link Bukti",
)


def quarter_of(day: dt.date) -> str:
    return f"{day.year:04d}-Q{(day.month - 1) // 3 + 1}"


@dataclass(frozen=True)
class ProgressRow:
    """One line of e-Kinerja's daily-progress form."""

    day: dt.date
    start: dt.time
    end: dt.time
    action_plan: str
    activity: str
    quantity: int | None
    unit: str
    evidence_link: str

    def values(self) -> list[str]:
        return [
            self.day.strftime("%d/%m/%Y"),
            self.start.strftime("%H:%M"),
            self.end.strftime("%H:%M"),
            self.action_plan,
            self.activity,
            "" if self.quantity is None else str(self.quantity),
            self.unit,
            self.evidence_link,
        ]


class ProgressSink(Protocol):
    """Where a month's progress goes: a file today, BKN's API when there is one."""

    media_type: str
    extension: str

    def write(self, rows: Sequence[ProgressRow]) -> bytes: ...


class CsvSink:
    media_type = "text/csv; charset=utf-8"
    extension = "csv"

    def write(self, rows: Sequence[ProgressRow]) -> bytes:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(EKINERJA_COLUMNS)
        for row in rows:
            writer.writerow(row.values())
        return out.getvalue().encode("utf-8")


class XlsxSink:
    media_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    extension = "xlsx"

    def write(self, rows: Sequence[ProgressRow]) -> bytes:
        from openpyxl import Workbook

        book = Workbook()
        sheet = book.active
        sheet.title = "Progres Harian"
        sheet.append(list(EKINERJA_COLUMNS))
        for row in rows:
            sheet.append(row.values())
        buffer = io.BytesIO()
        book.save(buffer)
        return buffer.getvalue()


SINKS: dict[str, ProgressSink] = {"csv": CsvSink(), "xlsx": XlsxSink()}


def _lay_out(day_start: dt.time, minutes: Sequence[int]) -> list[tuple[dt.time, dt.time]]:
    clock = dt.datetime.combine(dt.date(2000, 1, 1), day_start)
    slots = []
    for length in minutes:
        end = clock + dt.timedelta(minutes=length)
        slots.append((clock.time(), end.time()))
        clock = end
    return slots


async def progress_rows(
    session: AsyncSession,
    nip: str,
    period: str,
    *,
    actor: Principal,
    ctx: Context,
    evidence_base: str,
) -> list[ProgressRow]:
    """The approved activities of one employee and month as e-Kinerja progress lines."""
    employee, unit = await get_employee(session, nip)
    await ensure_may_read(session, actor, employee, unit, today=ctx.today)
    first = parse_period(period)
    found = (
        await session.execute(
            select(Activity, ActionPlan.title)
            .outerjoin(ActionPlan, ActionPlan.id == Activity.action_plan_id)
            .where(
                Activity.employee_id == employee.id,
                Activity.activity_date >= first,
                Activity.activity_date < next_month(first),
                Activity.status == workflow.COUNTED.value,
            )
            .order_by(Activity.activity_date, Activity.id)
        )
    ).all()
    day_start = ctx.erk.ekinerja_day_start
    rows: list[ProgressRow] = []
    by_day: dict[dt.date, list[Any]] = {}
    for activity, plan in found:
        by_day.setdefault(activity.activity_date, []).append((activity, plan))
    for day, items in by_day.items():
        slots = _lay_out(day_start, [a.minutes for a, _ in items])
        for (activity, plan), (start, end) in zip(items, slots, strict=True):
            rows.append(
                ProgressRow(
                    day=day,
                    start=start,
                    end=end,
                    action_plan=plan or "",
                    activity=activity.description,
                    quantity=activity.output_quantity,
                    unit=activity.output_unit or "",
                    evidence_link=(
                        f"{evidence_base}/api/v1/activities/{activity.id}/evidence"
                        if activity.evidence_sha256
                        else ""
                    ),
                )
            )
    return rows


async def import_action_plans(
    session: AsyncSession, content: bytes, *, actor: Principal, ctx: Context
) -> schemas.ImportReport:
    """Rencana Aksi from e-Kinerja's export (nip, periode, rencana_aksi[, kode]): all or none.
    Employees import their own; unit admins and HR those of their scope."""
    rows = read_table(content, ("nip", "periode", "rencana_aksi"))
    nips = sorted({r.get("nip", "") for r in rows})
    people = await employees_by_nip(session, nips)
    scope: str | None = ""
    if any(nip != actor.username for nip in nips):
        scope = await write_scope(session, actor)
    report: list[schemas.ImportRowError] = []
    parsed: dict[tuple[int, str, str], dict[str, Any]] = {}
    for number, row in enumerate(rows, start=2):
        problems = []
        nip = row.get("nip", "")
        person = people.get(nip)
        if person is None:
            problems.append("NIP is not a registered employee")
        elif nip != actor.username and scope is not None and not person[1].startswith(scope):
            problems.append("employee is outside the unit you administer")
        period = row.get("periode", "").upper()
        if not schemas.QUARTER.fullmatch(period):
            problems.append("periode must be written YYYY-Qn, e.g. 2026-Q1")
        title = row.get("rencana_aksi", "")
        if not 3 <= len(title) <= 500:
            problems.append("rencana_aksi must have 3 to 500 characters")
        if problems:
            report.append(schemas.ImportRowError(row=number, nip=nip or None, errors=problems))
            continue
        assert person is not None
        parsed[(person[0], period, title)] = {
            "employee_id": person[0],
            "period": period,
            "title": title,
            "code": row.get("kode", "")[:40],
            "created_at": ctx.now,
        }
    if report:
        raise reject_import(report)
    existing: set[tuple[int, str, str]] = set()
    for employee_id in {k[0] for k in parsed}:
        found_plans = await session.execute(
            select(ActionPlan.period, ActionPlan.title).where(ActionPlan.employee_id == employee_id)
        )
        existing.update((employee_id, p.period, p.title) for p in found_plans)
    new = [values for key, values in parsed.items() if key not in existing]
    if new:
        await session.execute(insert(ActionPlan), new)
    await audit_many(
        session,
        actor,
        now=ctx.now,
        action="action_plan.imported",
        entity_type="action_plan",
        items=[(f"{v['employee_id']}:{v['period']}", None, {"title": v["title"]}) for v in new],
    )
    return schemas.ImportReport(
        imported=len(parsed), created=len(new), updated=len(parsed) - len(new)
    )


async def list_action_plans(
    session: AsyncSession, nip: str, *, actor: Principal, ctx: Context
) -> list[ActionPlan]:
    employee, unit = await get_employee(session, nip)
    await ensure_may_read(session, actor, employee, unit, today=ctx.today)
    stmt = (
        select(ActionPlan)
        .where(ActionPlan.employee_id == employee.id)
        .order_by(ActionPlan.period.desc(), ActionPlan.id)
    )
    return list((await session.scalars(stmt)).all())


async def link_activity(
    session: AsyncSession, activity_id: int, plan_id: int | None, *, actor: Principal, ctx: Context
) -> None:
    """The employee links their own activity to one of their Rencana Aksi of its quarter, while
    the activity is still theirs to change: not approved, in a month that is open."""
    activity = await own_open_activity(session, activity_id, actor=actor, ctx=ctx, action="link")
    if plan_id is not None:
        plan = await session.get(ActionPlan, plan_id)
        if (
            plan is None
            or plan.employee_id != activity.employee_id
            or plan.period != quarter_of(activity.activity_date)
        ):
            raise errors.ActionPlanNotFoundError(
                f"Rencana Aksi {plan_id} is not yours for {quarter_of(activity.activity_date)}"
            )
    before = {"action_plan_id": activity.action_plan_id}
    await session.execute(
        update(Activity).where(Activity.id == activity_id).values(action_plan_id=plan_id)
    )
    await record_event(
        session,
        AuditEvent,
        actor=actor,
        action=workflow.ACTIONS["link"].event,
        entity_type="activity",
        entity_id=activity_id,
        before=before,
        after={"action_plan_id": plan_id},
    )
