"""The whole-SLA clock and deemed approval (fiktif positif).

A permit type's SLA (`sla_working_days`) runs from the COMPLETE application across every stage (UU
30/2014 Pasal 53 as amended; PP 6/2021: the deadline runs from a complete application), in working
days of the regency's calendar, and stops while the file waits for the applicant (a revision
request; OSS status 41-44). Counting: the start day itself is not counted; the clock uses each
working day after it, except the working days after a pause began up to and including the day the
applicant resubmitted. The due date is the last day inside the SLA; on the next day, undecided, the
permit is deemed approved, citing the basis configured for its type (UU 30/2014 Pasal 53 as amended
for local permits, PP 28/2025 for OSS permits).

When a file is complete: the moment the last document of its type's checklist was first uploaded
(at filing for a type without a checklist). This is read from the uploads themselves, not from
the officer's "Dokumen lengkap", so an officer who never looks at a file cannot keep its clock
from running. The clock is stored by the first transition after that moment (so a revision asked
for later pauses it) or by the periodic task (`start_missing_clocks`, run before every
deemed-approval pass), with that moment as its start; until then every page reads it from the
uploads (`clock_of`), so the due date shows as soon as the last document is in, and the upload
itself writes nothing more. A file whose checklist is incomplete has no clock and is never
deemed approved. The public tracking page and the statistics count on the same clock
(`working_days_used`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hayu import oss
from hayu.common import (
    FINISHED,
    PERMIT,
    number_for,
    permit_type_or_422,
    record_step,
    valid_until,
)
from hayu.config import PermitTypeDef
from hayu.dependencies import Context
from hayu.models import Application, ApplicationDocument, Business
from shared.calendar import WorkingCalendar

# --------------------------------------------------------------------------------------------------
# The clock, as pure functions of dates (property-tested in tests/hayu/test_sla_clock.py)
# --------------------------------------------------------------------------------------------------


def paused_working_days(calendar: WorkingCalendar, paused_on: dt.date, resumed_on: dt.date) -> int:
    """Working days a pause costs the clock: those after `paused_on`, up to `resumed_on`."""
    one = dt.timedelta(days=1)
    return calendar.working_days_between(paused_on + one, resumed_on + one)


def due_date(
    calendar: WorkingCalendar, started_on: dt.date, sla_working_days: int, paused_days: int
) -> dt.date:
    """The last day inside the SLA, given the working days already spent paused."""
    return calendar.add_working_days(started_on, sla_working_days + paused_days)


def used_working_days(
    calendar: WorkingCalendar,
    started_on: dt.date,
    day: dt.date,
    pauses: Sequence[tuple[dt.date, dt.date]] = (),
) -> int:
    """Working days the clock has used by the end of `day` (pauses as (paused_on, resumed_on))."""
    one = dt.timedelta(days=1)
    used = calendar.working_days_between(started_on + one, day + one)
    for paused_on, resumed_on in pauses:
        used -= paused_working_days(calendar, paused_on, min(resumed_on, day))
    return used


def start_clock(
    ctx: Context,
    application: Application,
    sla_working_days: int,
) -> None:
    now = ctx.now
    application.sla_started_at = now
    application.sla_paused_days = 0
    application.sla_paused_since = None
    application.sla_due_date = due_date(
        ctx.calendar, ctx.calendar.local_date(now), sla_working_days, 0
    )


def pause_clock(ctx: Context, application: Application) -> None:
    now = ctx.now
    if application.sla_started_at is None:
        return  # not complete yet: there is no clock to stop
    if application.sla_paused_since is None:
        application.sla_paused_since = now
    application.sla_due_date = None


def resume_clock(
    ctx: Context,
    application: Application,
    sla_working_days: int,
) -> None:
    now = ctx.now
    calendar = ctx.calendar
    if application.sla_started_at is None:
        return  # not complete yet: the clock starts once it is (`start_missing_clocks`)
    if application.sla_paused_since is not None:
        application.sla_paused_days = (application.sla_paused_days or 0) + paused_working_days(
            calendar,
            calendar.local_date(application.sla_paused_since),
            calendar.local_date(now),
        )
        application.sla_paused_since = None
    started = application.sla_started_at
    application.sla_due_date = due_date(
        calendar,
        calendar.local_date(started),
        sla_working_days,
        application.sla_paused_days or 0,
    )


def stop_clock(application: Application) -> None:
    application.sla_due_date = None


@dataclass(frozen=True)
class Clock:
    """One file's whole-SLA clock: as stored, or as it would be stored (`clock_of`)."""

    started_at: dt.datetime | None = None
    paused_since: dt.datetime | None = None
    paused_days: int = 0
    due_date: dt.date | None = None


NO_CLOCK = Clock()


def derived_clock(
    calendar: WorkingCalendar,
    *,
    complete_at: dt.datetime | None,
    status: str,
    status_since: dt.datetime,
    sla_working_days: int,
) -> Clock:
    """The clock of a file that became complete at `complete_at` and has none stored yet: it
    runs from then; a file waiting for the applicant is paused (since it began waiting); a
    finished file's clock has stopped (no due date)."""
    if complete_at is None:
        return NO_CLOCK
    if status == "revision_requested":
        return Clock(started_at=complete_at, paused_since=max(complete_at, status_since))
    if status in FINISHED:
        return Clock(started_at=complete_at)
    due = due_date(calendar, calendar.local_date(complete_at), sla_working_days, 0)
    return Clock(started_at=complete_at, due_date=due)


def clock_of(
    calendar: WorkingCalendar,
    *,
    started_at: dt.datetime | None,
    paused_since: dt.datetime | None,
    paused_days: int | None,
    stored_due: dt.date | None,
    complete_at: dt.datetime | None,
    status: str,
    status_since: dt.datetime,
    sla_working_days: int,
) -> Clock:
    """The clock a page shows: the stored one, else the one the uploads imply (not stored yet)."""
    if started_at is not None:
        return Clock(started_at, paused_since, paused_days or 0, stored_due)
    return derived_clock(
        calendar,
        complete_at=complete_at,
        status=status,
        status_since=status_since,
        sla_working_days=sla_working_days,
    )


def working_days_used(calendar: WorkingCalendar, clock: Clock, end: dt.datetime) -> int | None:
    """Working days the clock has run by `end` (pauses left out); None when it never started."""
    if clock.started_at is None:
        return None
    end_day = calendar.local_date(end)
    used = used_working_days(calendar, calendar.local_date(clock.started_at), end_day)
    used -= clock.paused_days
    if clock.paused_since is not None:
        used -= paused_working_days(calendar, calendar.local_date(clock.paused_since), end_day)
    return max(0, used)


def complete_at_from(
    permit_type: PermitTypeDef,
    submitted_at: dt.datetime,
    uploads: Iterable[tuple[str, dt.datetime]],
) -> dt.datetime | None:
    """When a file became complete, from its uploads as (checklist item, uploaded at)."""
    first: dict[str, dt.datetime] = {}
    for item, at in uploads:
        if item not in first or at < first[item]:
            first[item] = at
    moments = [first.get(d.code) for d in permit_type.required_documents]
    if any(m is None for m in moments):
        return None
    return max([submitted_at, *(m for m in moments if m is not None)])


def store_clock_if_complete(
    ctx: Context,
    application: Application,
    permit_type: PermitTypeDef,
    documents: Sequence[ApplicationDocument],
) -> None:
    """Before a transition: store the clock of a complete file that has none yet (from when it
    became complete), so that the transition's pause or resume counts."""
    if (
        application.kind != PERMIT
        or application.sla_started_at is not None
        or application.status in FINISHED
    ):
        return
    complete = complete_at_from(
        permit_type,
        application.submitted_at,
        ((d.checklist_item, d.uploaded_at) for d in documents),
    )
    _store(ctx, application, complete, permit_type.sla_working_days)


def _store(
    ctx: Context, application: Application, complete: dt.datetime | None, sla_days: int
) -> bool:
    clock = derived_clock(
        ctx.calendar,
        complete_at=complete,
        status=application.status,
        status_since=application.status_since,
        sla_working_days=sla_days,
    )
    if clock.started_at is None:
        return False
    application.sla_started_at = clock.started_at
    application.sla_paused_days = clock.paused_days
    application.sla_paused_since = clock.paused_since
    application.sla_due_date = clock.due_date
    return True


async def completed_at(
    session: AsyncSession, ctx: Context, applications: Sequence[Application]
) -> dict[int, dt.datetime | None]:
    """When each file became complete: the first upload of the last checklist document to arrive
    (its filing for a type without a checklist); None while a document is still missing."""
    uploads: dict[int, list[tuple[str, dt.datetime]]] = {a.id: [] for a in applications}
    if applications:
        rows = await session.execute(
            select(
                ApplicationDocument.application_id,
                ApplicationDocument.checklist_item,
                func.min(ApplicationDocument.uploaded_at),
            )
            .where(ApplicationDocument.application_id.in_(list(uploads)))
            .group_by(ApplicationDocument.application_id, ApplicationDocument.checklist_item)
        )
        for app_id, item, at in rows.all():
            uploads[app_id].append((item, at))
    complete: dict[int, dt.datetime | None] = {}
    for application in applications:
        permit_type = ctx.hayu.permit_type(application.permit_type_code)
        complete[application.id] = (
            None
            if permit_type is None
            else complete_at_from(permit_type, application.submitted_at, uploads[application.id])
        )
    return complete


async def start_missing_clocks(session: AsyncSession, ctx: Context, limit: int = 500) -> int:
    """Start the clock of every open file that became complete (see the module docstring), from
    the moment it did; a file waiting for the applicant starts paused. Files filed before the
    clock existed get it the same way (revision time before then is not known, so none is
    deducted). Returns the number of clocks started."""
    rows = (
        (
            await session.execute(
                select(Application)
                .where(
                    Application.kind == PERMIT,
                    Application.sla_started_at.is_(None),
                    Application.status.not_in(sorted(FINISHED)),
                )
                .order_by(Application.id)
                .limit(limit)
            )
        )
        .scalars()
        .all()
    )
    complete = await completed_at(session, ctx, rows)
    started = 0
    for application in rows:
        permit_type = ctx.hayu.permit_type(application.permit_type_code)
        if permit_type is None:
            continue
        if _store(ctx, application, complete[application.id], permit_type.sla_working_days):
            started += 1
    await session.flush()
    return started


# --------------------------------------------------------------------------------------------------
# Deemed approval
# --------------------------------------------------------------------------------------------------


async def run_deemed_approvals(session: AsyncSession, ctx: Context) -> list[int]:
    """Fiktif positif: issue permits whose whole SLA lapsed undecided (not while paused)."""
    now = ctx.now
    types = [p.code for p in ctx.hayu.permit_types if p.deemed_approval]
    if not types:
        return []
    today = ctx.calendar.local_date(now)
    await start_missing_clocks(session, ctx)
    lapsed = (
        (
            await session.execute(
                select(Application)
                .where(
                    Application.kind == PERMIT,
                    Application.sla_due_date < today,
                    Application.status.not_in(sorted(FINISHED)),
                    Application.permit_type_code.in_(types),
                )
                .order_by(Application.id)
                .limit(500)
                .with_for_update()
            )
        )
        .scalars()
        .all()
    )
    complete = await completed_at(session, ctx, lapsed)
    issued: list[int] = []
    for application in lapsed:
        if complete[application.id] is None:
            # a clock started before completeness was the rule (at filing): a file with a
            # document missing is not a complete application, so it has no deadline yet
            application.sla_started_at = None
            application.sla_due_date = None
            application.sla_paused_since = None
            continue
        permit_type = permit_type_or_422(ctx, application.permit_type_code)
        due = application.sla_due_date
        before = application.status
        application.status = "issued"
        application.status_since = now
        application.stage_due_date = None
        stop_clock(application)
        application.deemed_approved = True
        application.number = await number_for(ctx, session, PERMIT, permit_type.code, today)
        application.issued_at = now
        application.valid_until = valid_until(permit_type, today)
        await session.flush()
        basis = permit_type.deemed_basis
        await record_step(
            session,
            application_id=application.id,
            action="deemed_approval",
            from_state=before,
            to_state="issued",
            actor=None,
            now=now,
            note=(
                "Izin terbit karena batas waktu layanan terlampaui tanpa keputusan "
                f"(fiktif positif, {basis})."
            ),
            details={
                "sla_due_date": due.isoformat() if due else None,
                "sla_working_days": permit_type.sla_working_days,
                "paused_working_days": application.sla_paused_days,
                "legal_basis": basis,
            },
            audit_after={
                "number": application.number,
                "deemed_approved": True,
                "legal_basis": basis,
            },
        )
        nib = await session.scalar(
            select(Business.nib).where(Business.id == application.business_id)
        )
        await oss.enqueue(
            session,
            ctx,
            application_id=application.id,
            permit_type_code=application.permit_type_code,
            kind=application.kind,
            action="deemed_approval",
            nib=nib,
            oss_application_id=application.oss_application_id,
            number=application.number,
            note=basis,
            issued=application,
        )
        issued.append(application.id)
    return issued
