"""Public tracking of a file by its code (hot path)."""

from __future__ import annotations

from sqlalchemy import String, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from hayu import errors
from hayu.common import (
    FINISHED,
    holder_of,
    state_label,
    workflow_for,
)
from hayu.dependencies import Context
from hayu.models import (
    Application,
    ApplicationEvent,
)
from hayu.schemas import (
    StageRead,
    TrackRead,
)
from hayu.workflow import ROLE_LABELS
from shared.codes import normalize_tracking_code
from shared.workflow import due_at, stage_spans

# Built once: a lookup only binds the code (no statement building or cache key per request).
_TRACK = (
    select(
        Application.kind,
        Application.permit_type_code,
        Application.status,
        Application.status_since,
        Application.submitted_at,
        Application.deemed_approved,
        Application.number,
        ApplicationEvent.to_state,
        ApplicationEvent.occurred_at,
    )
    .join(ApplicationEvent, ApplicationEvent.application_id == Application.id)
    .where(Application.tracking_code == bindparam("code", type_=String()))
    .order_by(ApplicationEvent.occurred_at, ApplicationEvent.id)
)


async def track(session: AsyncSession, ctx: Context, code: str) -> TrackRead:
    """Where the file is and how long each step took; no personal data. One round trip."""
    now = ctx.now
    try:
        canonical = normalize_tracking_code(code)
    except ValueError:
        raise errors.TrackingCodeNotFoundError(
            "This is not a valid tracking code; check it for typos"
        ) from None
    rows = (await session.execute(_TRACK, {"code": canonical})).all()
    if not rows:
        raise errors.TrackingCodeNotFoundError(f"No file has the tracking code {canonical}")
    first = rows[0]
    workflow = workflow_for(ctx, first.kind)
    history = [(r.to_state, r.occurred_at) for r in rows]
    spans = stage_spans(workflow, history, now=now, calendar=ctx.calendar)
    timeline = []
    for span in spans:
        done = span.state in FINISHED
        timeline.append(
            StageRead(
                state=span.state,
                label=span.label or span.state,
                holder=span.holder,
                holder_label=ROLE_LABELS.get(span.holder) if span.holder else None,
                entered_at=span.entered_at,
                left_at=span.left_at,
                working_days=0 if done else span.working_days,
                sla_working_days=span.sla_working_days,
                due_date=None
                if done
                else due_at(workflow, span.state, span.entered_at, ctx.calendar),
                overdue=span.overdue,
            )
        )
    permit_type = ctx.hayu.permit_type(first.permit_type_code)
    holder = holder_of(workflow, first.status)
    end = now if first.status not in FINISHED else first.status_since
    return TrackRead(
        tracking_code=canonical,
        kind=first.kind,
        permit_type_code=first.permit_type_code,
        permit_type_name=permit_type.name if permit_type else first.permit_type_code,
        status=first.status,
        status_label=state_label(workflow, first.status),
        holder=holder,
        holder_label=ROLE_LABELS.get(holder, "") if holder else "Selesai",
        status_since=first.status_since,
        submitted_at=first.submitted_at,
        sla_working_days=permit_type.sla_working_days if permit_type else 0,
        working_days_so_far=ctx.calendar.elapsed_working_days(first.submitted_at, end),
        overdue=any(s.overdue for s in timeline),
        deemed_approved=first.deemed_approved,
        number=first.number,
        timeline=timeline,
    )
