"""Verification: the supervisor's (or acting official's) decisions, the queue, escalation."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import (
    String,
    and_,
    bindparam,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from erk import errors, schemas, workflow
from erk.access import (
    acting_for,
)
from erk.activities import activity_read
from erk.dependencies import Context
from erk.models import (
    Activity,
    AuditEvent,
    Employee,
)
from erk.periods import (
    closed_on,
    verification_boundary,
)
from erk.writes import audit_many, chunks
from shared.audit import audit_params, audited
from shared.auth import Principal
from shared.db import UTCDateTime, try_single_replica_lock


async def verify_activities(
    session: AsyncSession,
    activity_ids: Sequence[int],
    decision: schemas.Decision,
    note: str | None,
    *,
    actor: Principal,
    ctx: Context,
) -> schemas.VerifyResult:
    """Approve or reject activities, all of them or none.

    The verifier is the direct supervisor (or the acting official the unit admin set for the
    supervisor's absence); once the month's verification deadline has passed, the supervisor's own
    supervisor (or their acting official) instead. Nobody verifies their own entries.
    """
    note = (note or "").strip() or None
    if decision == schemas.Decision.rejected and note is None:
        raise errors.RejectionNoteRequiredError("Say why the activity is rejected")
    ids = sorted(set(activity_ids))
    me = actor.username
    supervisor = aliased(Employee)
    rows = (
        await session.execute(
            select(
                Activity.id,
                Activity.status,
                Activity.activity_date,
                Employee.nip,
                Employee.supervisor_nip,
                supervisor.supervisor_nip.label("grand_nip"),
                closed_on(Activity.activity_date).label("closed"),
                Activity.evidence_sha256,
            )
            .join(Employee, Employee.id == Activity.employee_id)
            .outerjoin(supervisor, supervisor.nip == Employee.supervisor_nip)
            .where(Activity.id.in_(ids))
        )
    ).all()
    missing = sorted(set(ids) - {r.id for r in rows})
    if missing:
        raise errors.ActivityNotFoundError(
            f"No activity with id {', '.join(map(str, missing))}", missing_ids=missing
        )
    boundary = verification_boundary(ctx)
    acting: set[str] | None = None
    for r in rows:
        if r.nip == me:
            raise errors.SelfVerificationError(f"Activity {r.id} is your own")
        if r.closed:
            raise errors.PeriodClosedError(f"Activity {r.id} belongs to a closed month")
        workflow.ensure_verifiable(r.id, r.status)
        if (
            decision == schemas.Decision.approved
            and ctx.erk.evidence_required
            and r.evidence_sha256 is None
        ):
            raise errors.EvidenceMissingError(f"Activity {r.id} has no evidence attached yet")
        responsible = r.supervisor_nip
        if r.activity_date < boundary and r.grand_nip is not None:
            responsible = r.grand_nip
        if responsible == me:
            continue
        if acting is None:
            acting = await acting_for(session, me, ctx.today)
        if responsible not in acting:
            raise errors.NotVerifierError(
                f"Activity {r.id} is verified by {responsible or 'nobody registered'}"
            )
    params = {
        "ids": ids,
        "new_status": decision.value,
        "new_verified_by": me,
        "new_verified_at": ctx.now,
        "new_note": note,
        "new_updated_at": ctx.now,
    }
    before, after = {"status": workflow.SUBMITTED.value}, {"status": decision.value, "note": note}
    connection = await session.connection()
    if connection.dialect.name == "postgresql":
        # The change and its audit events in one statement.
        params |= audit_params(actor, before=before, after=after, occurred_at=ctx.now)
        changed = len((await connection.execute(_VERIFY_AUDITED[decision], params)).all())
    else:
        changed = (await connection.execute(_VERIFY, params)).rowcount
    if changed != len(ids):
        raise errors.ActivityNotPendingError("Another verifier acted on these activities first")
    if connection.dialect.name != "postgresql":
        await audit_many(
            session,
            actor,
            now=ctx.now,
            action=workflow.DECISION_ACTION[decision].event,
            entity_type="activity",
            items=[(i, before, after) for i in ids],
        )
    return schemas.VerifyResult(decision=decision, activity_ids=ids)


_VERIFY = (
    update(Activity)
    .where(
        Activity.id.in_(bindparam("ids", expanding=True)),
        Activity.status == workflow.PENDING.value,
    )
    .values(
        status=bindparam("new_status", type_=String()),
        verified_by=bindparam("new_verified_by", type_=String()),
        verified_at=bindparam("new_verified_at", type_=UTCDateTime()),
        note=bindparam("new_note", type_=String()),
        updated_at=bindparam("new_updated_at", type_=UTCDateTime()),
    )
)


_VERIFY_AUDITED = {
    decision: audited(
        _VERIFY.returning(Activity.id),
        AuditEvent,
        action=workflow.DECISION_ACTION[decision].event,
        entity_type="activity",
    )
    for decision in schemas.Decision
}


async def acting_for_names(session: AsyncSession, *, actor: Principal, ctx: Context) -> list[str]:
    """Whom the caller acts for today (Plt/Plh), by name, to be told on the verification page."""
    others = await acting_for(session, actor.username, ctx.today) - {actor.username}
    if not others:
        return []
    names = await session.scalars(
        select(Employee.name).where(Employee.nip.in_(sorted(others))).order_by(Employee.name)
    )
    return list(names)


async def pending_for(
    session: AsyncSession,
    *,
    actor: Principal,
    ctx: Context,
    limit: int = 200,
    nip: str | None = None,
    day: dt.date | None = None,
) -> list[tuple[schemas.ActivityRead, str]]:
    """Activities waiting for the caller's verification now, with the employee's name;
    optionally of one employee or one date."""
    acting = await acting_for(session, actor.username, ctx.today)
    boundary = verification_boundary(ctx)
    supervisor = aliased(Employee)
    stmt = (
        select(Activity, Employee.nip, Employee.name)
        .join(Employee, Employee.id == Activity.employee_id)
        .outerjoin(supervisor, supervisor.nip == Employee.supervisor_nip)
        .where(
            Activity.status == workflow.PENDING.value,
            Employee.nip != actor.username,
            ~closed_on(Activity.activity_date),
            or_(
                and_(Activity.activity_date >= boundary, Employee.supervisor_nip.in_(acting)),
                and_(Activity.activity_date < boundary, supervisor.supervisor_nip.in_(acting)),
                and_(
                    Activity.activity_date < boundary,
                    supervisor.supervisor_nip.is_(None),
                    Employee.supervisor_nip.in_(acting),
                ),
            ),
        )
        .order_by(Employee.name, Activity.activity_date, Activity.id)
        .limit(limit)
    )
    if nip:
        stmt = stmt.where(Employee.nip == nip)
    if day is not None:
        stmt = stmt.where(Activity.activity_date == day)
    rows = (await session.execute(stmt)).all()
    return [(activity_read(r[0], r[1]), r[2]) for r in rows]


async def escalate_overdue(session: AsyncSession, ctx: Context) -> int:
    """Mark pending activities past the deadline as escalated to the supervisor's supervisor.

    One replica at a time does it (`shared.db.try_single_replica_lock`); the others skip the run.
    """
    if not await try_single_replica_lock(session, "erk:escalate"):
        return 0
    boundary = verification_boundary(ctx)
    supervisor = aliased(Employee)
    rows = (
        await session.execute(
            select(Activity.id, supervisor.supervisor_nip)
            .join(Employee, Employee.id == Activity.employee_id)
            .join(supervisor, supervisor.nip == Employee.supervisor_nip)
            .where(
                Activity.status == workflow.PENDING.value,
                Activity.activity_date < boundary,
                Activity.escalated_to_nip.is_(None),
                supervisor.supervisor_nip.is_not(None),
            )
            .limit(5000)
        )
    ).all()
    by_target: dict[str, list[int]] = {}
    for activity_id, grand in rows:
        by_target.setdefault(str(grand), []).append(int(activity_id))
    for grand, ids in by_target.items():
        for chunk in chunks(ids, 500):
            await session.execute(
                update(Activity)
                .where(Activity.id.in_(chunk), Activity.escalated_to_nip.is_(None))
                .values(escalated_to_nip=grand)
            )
    await audit_many(
        session,
        "system",
        now=ctx.now,
        action=workflow.ACTIONS["escalate"].event,
        entity_type="activity",
        items=[(i, None, {"escalated_to": g}) for g, ids in by_target.items() for i in ids],
    )
    return len(rows)
