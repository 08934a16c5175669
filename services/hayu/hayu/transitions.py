"""Moving a permit application through the workflow."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hayu import errors, oss, sla
from hayu.applications import application_read, history_of
from hayu.common import (
    PERMIT,
    check_access,
    load,
    permit_type_or_422,
    record_step,
    workflow_for,
)
from hayu.dependencies import Context
from hayu.effects import EFFECTS, Step
from hayu.models import (
    Application,
    ApplicationDocument,
    ApplicationEvent,
)
from hayu.schemas import (
    ApplicationRead,
    TransitionCreate,
)
from shared.auth import Principal
from shared.validators import mask
from shared.workflow import due_at, transition


async def check_separation(
    session: AsyncSession,
    ctx: Context,
    principal: Principal,
    application: Application,
    action: str,
) -> None:
    """Segregation of duties on one file: the applicant never acts as an official on it, and
    whoever took the first action of a configured pair does not take the second."""
    holder_roles = (
        set(ctx.hayu.workflow.action(action).roles) if application.kind == PERMIT else set()
    )
    own = (
        application.applicant_account_id is not None
        and application.applicant_account_id == principal.account_id
    )
    if own and "business_owner" not in holder_roles:
        raise errors.SeparationOfDutiesError(
            "The applicant cannot act as an official on their own file"
        )
    earlier = [first for first, second in ctx.hayu.separated_actions if second == action]
    if not earlier:
        return
    taken = await session.scalar(
        select(ApplicationEvent.action)
        .where(
            ApplicationEvent.application_id == application.id,
            ApplicationEvent.action.in_(earlier),
            ApplicationEvent.actor == principal.username,
        )
        .limit(1)
    )
    if taken is not None:
        raise errors.SeparationOfDutiesError(
            f"You took '{taken}' on this file, so someone else must take '{action}'"
        )


async def apply_transition(
    session: AsyncSession,
    ctx: Context,
    principal: Principal,
    application_id: int,
    data: TransitionCreate,
) -> ApplicationRead:
    now = ctx.now
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
    permit_type = permit_type_or_422(ctx, application.permit_type_code)
    await check_separation(session, ctx, principal, application, action.name)
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
    step = Step(ctx, session, application, permit_type, data, documents)
    effects = [EFFECTS[name] for name in ctx.hayu.action_effects.get(action.name, [])]
    for effect in effects:  # checks first: a refusal changes nothing
        if effect.check is not None:
            effect.check(step)
    # a file that became complete gets its stored clock now, so this step's pause counts
    sla.store_clock_if_complete(ctx, application, permit_type, documents)
    before = application.status
    application.status = action.to_state
    application.status_since = now
    application.stage_due_date = due_at(workflow, action.to_state, now, ctx.calendar)
    for effect in effects:
        if effect.apply is not None:
            await effect.apply(step)
    extra = step.extra
    details = {
        k: v.isoformat() if isinstance(v, dt.date) else v
        for k, v in payload.items()
        if k in ("inspection_date", "findings", "inspection_result")
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
    await oss.enqueue(
        session,
        ctx,
        application_id=application.id,
        permit_type_code=application.permit_type_code,
        kind=application.kind,
        action=action.name,
        nib=business.nib,
        oss_application_id=application.oss_application_id,
        number=application.number,
        note=data.note,
        issued=application if step.issued else None,
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
    )
