"""Public tracking of a file by its code (hot path)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import String, bindparam, literal_column, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from hayu import errors, sla
from hayu.common import (
    FINISHED,
    PERMIT,
    holder_of,
    state_label,
    workflow_for,
)
from hayu.config import PermitTypeDef
from hayu.dependencies import Context
from hayu.models import (
    Application,
    ApplicationDocument,
    ApplicationEvent,
)
from hayu.schemas import (
    StageRead,
    TrackRead,
)
from hayu.workflow import ROLE_LABELS
from shared.codes import normalize_tracking_code
from shared.db import read_alone
from shared.workflow import due_at, stage_spans

_FILE = (
    Application.kind,
    Application.permit_type_code,
    Application.status,
    Application.status_since,
    Application.submitted_at,
    Application.deemed_approved,
    Application.number,
    Application.sla_started_at,
    Application.sla_paused_since,
    Application.sla_paused_days,
    Application.sla_due_date,
)
_CODE = bindparam("code", type_=String())
# Built once: a lookup only binds the code (no statement building or cache key per request). The
# file's history and its uploads (for the whole-SLA clock of a file whose clock is not stored
# yet) come in one round trip: rows marked "e" (event) and "d" (document).
_TRACK = union_all(
    select(
        *_FILE,
        literal_column("'e'").label("source"),
        ApplicationEvent.to_state.label("name"),
        ApplicationEvent.occurred_at.label("moment"),
        ApplicationEvent.id.label("seq"),
    )
    .join(ApplicationEvent, ApplicationEvent.application_id == Application.id)
    .where(Application.tracking_code == _CODE),
    select(
        *_FILE,
        literal_column("'d'").label("source"),
        ApplicationDocument.checklist_item.label("name"),
        ApplicationDocument.uploaded_at.label("moment"),
        ApplicationDocument.id.label("seq"),
    )
    .join(ApplicationDocument, ApplicationDocument.application_id == Application.id)
    .where(Application.tracking_code == _CODE),
).order_by(literal_column("moment"), literal_column("seq"))


def _clock(ctx: Context, first: Any, permit_type: PermitTypeDef | None, rows: Any) -> sla.Clock:
    if first.kind != PERMIT or permit_type is None:
        return sla.NO_CLOCK
    return sla.clock_of(
        ctx.calendar,
        started_at=first.sla_started_at,
        paused_since=first.sla_paused_since,
        paused_days=first.sla_paused_days,
        stored_due=first.sla_due_date,
        complete_at=sla.complete_at_from(
            permit_type, first.submitted_at, ((r.name, r.moment) for r in rows if r.source == "d")
        ),
        status=first.status,
        status_since=first.status_since,
        sla_working_days=permit_type.sla_working_days,
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
    rows = await read_alone(session, _TRACK, {"code": canonical})
    if not rows:
        raise errors.TrackingCodeNotFoundError(f"No file has the tracking code {canonical}")
    first = rows[0]
    workflow = workflow_for(ctx, first.kind)
    history = [(r.name, r.moment) for r in rows if r.source == "e"]
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
    # "Lama proses" is the SLA clock's own count: from the complete application, in working
    # days of the regency's calendar, time waiting for the applicant left out
    clock = _clock(ctx, first, permit_type, rows)
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
        working_days_so_far=sla.working_days_used(ctx.calendar, clock, end) or 0,
        sla_started_at=clock.started_at,
        sla_due_date=clock.due_date,
        sla_paused=clock.paused_since is not None,
        overdue=any(s.overdue for s in timeline),
        deemed_approved=first.deemed_approved,
        number=first.number,
        timeline=timeline,
    )
