"""Moving a permit application through the workflow."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hayu import errors
from hayu.applications import application_read, history_of
from hayu.common import (
    PERMIT,
    check_access,
    load,
    number_for,
    permit_type_or_422,
    record_step,
    valid_until,
    workflow_for,
)
from hayu.dependencies import Context
from hayu.models import (
    ApplicationDocument,
)
from hayu.schemas import (
    ApplicationRead,
    TransitionCreate,
)
from shared.auth import Principal
from shared.validators import mask
from shared.workflow import due_at, transition


async def apply_transition(
    session: AsyncSession,
    ctx: Context,
    principal: Principal,
    application_id: int,
    data: TransitionCreate,
    now: dt.datetime,
) -> ApplicationRead:
    application, business = await load(session, application_id, lock=True)
    check_access(principal, application)
    workflow = workflow_for(ctx, application.kind)
    payload = data.model_dump(exclude_none=True)
    action = transition(
        workflow,
        current_state=application.status,
        action=data.action,
        roles=principal.roles,
        payload=payload,
    )
    today = ctx.calendar.local_date(now)
    permit_type = permit_type_or_422(ctx, application.permit_type_code)
    documents = (
        (
            await session.execute(
                select(ApplicationDocument).where(
                    ApplicationDocument.application_id == application_id
                )
            )
        )
        .scalars()
        .all()
    )
    if action.name in ("verify_documents", "schedule_inspection"):
        uploaded = {d.checklist_item for d in documents}
        missing = [d.code for d in permit_type.required_documents if d.code not in uploaded]
        if missing:
            raise errors.DocumentsMissingError(
                f"These documents are still missing: {', '.join(missing)}", missing=missing
            )
    if action.name == "verify_documents" and permit_type.needs_inspection:
        raise errors.InspectionRequiredError(
            f"{permit_type.name} needs a field inspection: use schedule_inspection"
        )
    past = data.inspection_date is not None and data.inspection_date < today
    if action.name == "schedule_inspection" and past:
        raise errors.InspectionDateError(
            "The inspection date lies in the past",
            errors=[
                {"loc": ["body", "inspection_date"], "msg": "in the past", "type": "date_past"}
            ],
        )
    before = application.status
    application.status = action.to_state
    application.status_since = now
    application.stage_due_date = due_at(workflow, action.to_state, now, ctx.calendar)
    extra: dict[str, Any] = {}
    if action.to_state == "issued":
        application.number = await number_for(ctx, session, PERMIT, permit_type.code, today)
        application.issued_at = now
        application.valid_until = valid_until(permit_type, today)
        extra = {"number": application.number}
    if action.to_state == "revoked":
        application.revoked_at = now
        application.revoke_reason = data.note
        extra = {"number": application.number, "reason": data.note}
    details = {
        k: v.isoformat() if isinstance(v, dt.date) else v
        for k, v in payload.items()
        if k in ("inspection_date", "findings")
    }
    await session.flush()
    await record_step(
        session,
        application_id=application.id,
        action=action.name,
        from_state=before,
        to_state=action.to_state,
        actor=principal,
        now=now,
        note=data.note,
        details=details or None,
        audit_after=extra,
    )
    return application_read(
        ctx,
        principal,
        application,
        business,
        documents,
        await history_of(session, application.id),
        False,
        mask(ctx.cipher.decrypt(business.owner_nik_encrypted, context="owner-nik")),
        mask(ctx.cipher.decrypt(business.owner_phone_encrypted, context="owner-phone")),
        now,
    )
