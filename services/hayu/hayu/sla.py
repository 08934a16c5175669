"""The SLA clock and deemed approval (fiktif positif)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hayu.common import (
    PERMIT,
    number_for,
    permit_type_or_422,
    record_step,
    valid_until,
)
from hayu.dependencies import Context
from hayu.models import (
    Application,
)


async def run_deemed_approvals(session: AsyncSession, ctx: Context, now: dt.datetime) -> list[int]:
    """Fiktif positif (PP 28/2025): issue permits whose approval stage lapsed undecided."""
    types = [p.code for p in ctx.hayu.permit_types if p.deemed_approval]
    if not types:
        return []
    today = ctx.calendar.local_date(now)
    lapsed = (
        (
            await session.execute(
                select(Application)
                .where(
                    Application.kind == PERMIT,
                    Application.status == "approval",
                    Application.stage_due_date < today,
                    Application.permit_type_code.in_(types),
                )
                .order_by(Application.id)
                .limit(500)
            )
        )
        .scalars()
        .all()
    )
    issued: list[int] = []
    for application in lapsed:
        permit_type = permit_type_or_422(ctx, application.permit_type_code)
        due = application.stage_due_date
        application.status = "issued"
        application.status_since = now
        application.stage_due_date = None
        application.deemed_approved = True
        application.number = await number_for(ctx, session, PERMIT, permit_type.code, today)
        application.issued_at = now
        application.valid_until = valid_until(permit_type, today)
        await session.flush()
        await record_step(
            session,
            application_id=application.id,
            action="deemed_approval",
            from_state="approval",
            to_state="issued",
            actor=None,
            now=now,
            note=(
                "Izin terbit karena batas waktu keputusan terlampaui tanpa keputusan "
                "(fiktif positif, PP 28/2025)."
            ),
            details={"approval_due_date": due.isoformat() if due else None},
            audit_after={"number": application.number, "deemed_approved": True},
        )
        issued.append(application.id)
    return issued
