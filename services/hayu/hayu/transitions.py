"""Moving a permit application through the workflow."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hayu import errors, oss, sla
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
from hayu.config import PermitTypeDef
from hayu.dependencies import Context
from hayu.models import (
    Application,
    ApplicationDocument,
    ApplicationEvent,
)
from hayu.schemas import (
    ApplicationRead,
    TransitionCreate,
)
from hayu.workflow import INSPECTION_PHOTO
from shared.auth import Principal
from shared.validators import mask
from shared.workflow import due_at, transition


@dataclass
class Step:
    """One transition under way: what its effects read and write."""

    ctx: Context
    session: AsyncSession
    application: Application
    permit_type: PermitTypeDef
    data: TransitionCreate
    documents: Sequence[ApplicationDocument]
    now: dt.datetime
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def today(self) -> dt.date:
        return self.ctx.calendar.local_date(self.now)


@dataclass(frozen=True)
class Effect:
    check: Callable[[Step], None] | None = None
    apply: Callable[[Step], Awaitable[None]] | None = None


def _require_checklist(step: Step) -> None:
    uploaded = {d.checklist_item for d in step.documents}
    missing = [d.code for d in step.permit_type.required_documents if d.code not in uploaded]
    if missing:
        raise errors.DocumentsMissingError(
            f"These documents are still missing: {', '.join(missing)}", missing=missing
        )


def _refuse_if_inspection_needed(step: Step) -> None:
    if step.permit_type.needs_inspection:
        raise errors.InspectionRequiredError(
            f"{step.permit_type.name} needs a field inspection: use schedule_inspection"
        )


def _inspection_date_not_past(step: Step) -> None:
    if step.data.inspection_date is not None and step.data.inspection_date < step.today:
        raise errors.InspectionDateError(
            "The inspection date lies in the past",
            errors=[
                {"loc": ["body", "inspection_date"], "msg": "in the past", "type": "date_past"}
            ],
        )


def _require_inspection_photo(step: Step) -> None:
    if not any(d.checklist_item == INSPECTION_PHOTO for d in step.documents):
        raise errors.InspectionPhotoMissingError(
            "Upload at least one site photo (checklist item foto_pemeriksaan) first"
        )


async def _pause_clock(step: Step) -> None:
    sla.pause_clock(step.ctx, step.application, step.now)


async def _resume_clock(step: Step) -> None:
    sla.resume_clock(step.ctx, step.application, step.permit_type.sla_working_days, step.now)


async def _stop_clock(step: Step) -> None:
    sla.stop_clock(step.application)


async def _issue_permit(step: Step) -> None:
    application = step.application
    application.number = await number_for(
        step.ctx, step.session, PERMIT, step.permit_type.code, step.today
    )
    application.issued_at = step.now
    application.valid_until = valid_until(step.permit_type, step.today)
    step.extra["number"] = application.number


async def _revoke_permit(step: Step) -> None:
    application = step.application
    application.revoked_at = step.now
    application.revoke_reason = step.data.note
    step.extra.update(number=application.number, reason=step.data.note)


EFFECTS: dict[str, Effect] = {
    "require_checklist": Effect(check=_require_checklist),
    "refuse_if_inspection_needed": Effect(check=_refuse_if_inspection_needed),
    "inspection_date_not_past": Effect(check=_inspection_date_not_past),
    "require_inspection_photo": Effect(check=_require_inspection_photo),
    "pause_clock": Effect(apply=_pause_clock),
    "resume_clock": Effect(apply=_resume_clock),
    "stop_clock": Effect(apply=_stop_clock),
    "issue_permit": Effect(apply=_issue_permit),
    "revoke_permit": Effect(apply=_revoke_permit),
}
"""Every effect an action can name in `[hayu.action_effects]` (names in `hayu.workflow`)."""


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
    step = Step(ctx, session, application, permit_type, data, documents, now)
    effects = [EFFECTS[name] for name in ctx.hayu.action_effects.get(action.name, [])]
    for effect in effects:  # checks first: a refusal changes nothing
        if effect.check is not None:
            effect.check(step)
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
        now=now,
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
