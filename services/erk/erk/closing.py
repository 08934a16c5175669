"""Closing a month: what stands in the way (deadlines, pending items, attendance) and closing."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import (
    insert,
    literal,
)
from sqlalchemy import select as sa_select
from sqlalchemy.ext.asyncio import AsyncSession

from erk import errors, schemas, workflow
from erk.dependencies import Context
from erk.models import (
    Activity,
    AuditEvent,
    Period,
    Recap,
)
from erk.periods import next_month
from erk.recap import closed_period
from erk.recap_sql import RECAP_COLUMNS, Month, month_of, recap_query, without_jit
from shared.audit import record_event
from shared.auth import Principal


@dataclass
class Readiness:
    """What stands between a month and its closing."""

    month: Month
    entry_cutoff: dt.date  # last day activities of the month may be entered
    verification_deadline: dt.date  # last day supervisors verify them
    deadlines_passed: bool
    pending_ids: list[int]
    missing_attendance_days: int
    closed: bool
    # (NIP, working days without an attendance record), the employees with any, by NIP
    missing_attendance: list[tuple[str, int]] = field(default_factory=list)

    @property
    def missing_treated_as(self) -> str:
        """What the frozen recap does with a working day that has no attendance record."""
        if self.month.rule.missing_attendance == "absent":
            return "unexcused_absence"
        return "not_charged"

    @property
    def blockers(self) -> list[str]:
        found = []
        if self.closed:
            found.append("closed")
        if not self.deadlines_passed:
            found.append("deadline")
        if self.pending_ids:
            found.append("pending")
        if self.missing_attendance_days:
            # In every mode: by default such a day is paid as unexcused absence, but closing
            # freezes that, so HR must see it and decide explicitly (close anyway).
            found.append("attendance")
        return found


async def readiness(session: AsyncSession, ctx: Context, period: str) -> Readiness:
    month = month_of(ctx, period)
    after = next_month(month.start)
    cutoff = after.replace(day=ctx.erk.entry_cutoff_day)
    deadline = after.replace(day=ctx.erk.verification_deadline_day)
    pending = list(
        await session.scalars(
            sa_select(Activity.id)
            .where(
                Activity.activity_date >= month.start,
                Activity.activity_date <= month.end,
                Activity.status == workflow.PENDING.value,
            )
            .order_by(Activity.id)
        )
    )
    live = recap_query(month).subquery("live")
    await without_jit(session)
    missing_rows = [
        (str(r.nip), int(r.missing_days))
        for r in await session.execute(
            sa_select(live.c.nip, live.c.missing_days)
            .where(live.c.missing_days > 0)
            .order_by(live.c.nip)
        )
    ]
    return Readiness(
        month=month,
        entry_cutoff=cutoff,
        verification_deadline=deadline,
        deadlines_passed=ctx.today > deadline,
        pending_ids=pending,
        missing_attendance_days=sum(days for _, days in missing_rows),
        missing_attendance=missing_rows,
        closed=await closed_period(session, period) is not None,
    )


def readiness_read(ready: Readiness) -> schemas.PeriodReadiness:
    return schemas.PeriodReadiness(
        period=ready.month.period,
        closed=ready.closed,
        entry_cutoff=ready.entry_cutoff,
        verification_deadline=ready.verification_deadline,
        deadlines_passed=ready.deadlines_passed,
        pending_activities=len(ready.pending_ids),
        missing_attendance_days=ready.missing_attendance_days,
        blockers=ready.blockers,
    )


async def close_period(
    session: AsyncSession,
    period: str,
    *,
    actor: Principal,
    ctx: Context,
    anyway: bool = False,
) -> schemas.PeriodRead:
    """Freeze a month's recap with the rule version in force: later changes do not move it.

    Refused before the entry cut-off and the supervisors' deadline have passed. Pending
    activities and working days without attendance refuse it too, unless HR closes anyway: then
    the audit event lists every activity that will not count and every employee's days without
    attendance with what the frozen recap makes of them (unexcused absence by default).
    """
    ready = await readiness(session, ctx, period)
    month = ready.month
    if ready.closed:
        raise errors.PeriodClosedError(f"{period} is already closed")
    if not ready.deadlines_passed:
        raise errors.PeriodNotOverError(
            f"{period} can be closed after the verification deadline "
            f"({ready.verification_deadline.isoformat()})",
            verification_deadline=ready.verification_deadline.isoformat(),
        )
    blockers = [b for b in ready.blockers if b in ("pending", "attendance")]
    if blockers and not anyway:
        raise errors.PeriodNotReadyError(
            f"{period} has {len(ready.pending_ids)} pending activities and "
            f"{ready.missing_attendance_days} working days without attendance; close anyway to "
            "leave them out",
            pending_activities=len(ready.pending_ids),
            pending_ids=ready.pending_ids[:500],
            missing_attendance_days=ready.missing_attendance_days,
            missing_attendance_employees=len(ready.missing_attendance),
            missing_attendance_treated_as=ready.missing_treated_as,
        )
    closed = Period(
        period=period,
        start_date=month.start,
        end_date=month.end,
        working_days=month.working_days,
        rule_version=month.rule.version,
        rule=month.rule.model_dump(mode="json"),
        closed_by=actor.username,
        closed_at=ctx.now,
    )
    session.add(closed)
    await session.flush()
    frozen = recap_query(month).subquery("frozen")
    result = await session.execute(
        insert(Recap).from_select(
            ["period", "rule_version", *RECAP_COLUMNS],
            sa_select(
                literal(period).label("period"),
                literal(month.rule.version).label("rule_version"),
                *(frozen.c[c] for c in RECAP_COLUMNS),
            ),
        )
    )
    count = int(result.rowcount or 0)  # type: ignore[attr-defined]
    await record_event(
        session,
        AuditEvent,
        actor=actor,
        action="period.closed_anyway" if blockers else "period.closed",
        entity_type="period",
        entity_id=period,
        after={
            "rule_version": month.rule.version,
            "legal_basis": month.rule.legal_basis,
            "employees": count,
            "not_counted_activity_ids": ready.pending_ids,
            "missing_attendance_days": ready.missing_attendance_days,
            "missing_attendance": [
                {"nip": nip, "days": days} for nip, days in ready.missing_attendance
            ],
            "missing_attendance_treated_as": ready.missing_treated_as,
        },
    )
    return schemas.PeriodRead(
        period=period,
        working_days=month.working_days,
        rule_version=month.rule.version,
        employees=count,
        closed_at=ctx.now,
        not_counted_activities=len(ready.pending_ids) if blockers else 0,
        missing_attendance_days=ready.missing_attendance_days if blockers else 0,
    )
