"""What workflow actions do besides moving the state: small named effects, registered by name.

The workflow (`hayu.workflow`, or the regency's own `[hayu.workflow]`) says who may move a file
from where to where; `[hayu.action_effects]` names the effects of each action, and
`transitions.apply_transition` runs them: every `check` first (a refusal changes nothing), then,
once the state moved, every `apply`. An effect never commits.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from hayu import errors, sla
from hayu.common import PERMIT, number_for, valid_until
from hayu.config import PermitTypeDef
from hayu.dependencies import Context
from hayu.models import Application, ApplicationDocument
from hayu.schemas import TransitionCreate
from hayu.workflow import INSPECTION_PHOTO


@dataclass
class Step:
    """One transition under way: what its effects read and write."""

    ctx: Context
    session: AsyncSession
    application: Application
    permit_type: PermitTypeDef
    data: TransitionCreate
    documents: Sequence[ApplicationDocument]
    extra: dict[str, Any] = field(default_factory=dict)
    issued: bool = False  # the permit was issued by this step (OSS hears of the licence)

    @property
    def now(self) -> dt.datetime:
        return self.ctx.now

    @property
    def today(self) -> dt.date:
        return self.ctx.today


@dataclass(frozen=True)
class Effect:
    """A named effect: a `check` that may refuse the action (it runs before anything changes)
    and/or an `apply` that changes the file once the state moved."""

    check: Callable[[Step], None] | None = None
    apply: Callable[[Step], Awaitable[None]] | None = None


EFFECTS: dict[str, Effect] = {}
"""Every effect an action can name in `[hayu.action_effects]` (names in `hayu.workflow`)."""


def check(name: str) -> Callable[[Callable[[Step], None]], Callable[[Step], None]]:
    """Register a refusal rule under `name`."""

    def register(fn: Callable[[Step], None]) -> Callable[[Step], None]:
        EFFECTS[name] = Effect(check=fn)
        return fn

    return register


def effect(
    name: str,
) -> Callable[[Callable[[Step], Awaitable[None]]], Callable[[Step], Awaitable[None]]]:
    """Register a change to the file under `name`."""

    def register(fn: Callable[[Step], Awaitable[None]]) -> Callable[[Step], Awaitable[None]]:
        EFFECTS[name] = Effect(apply=fn)
        return fn

    return register


@check("require_checklist")
def require_checklist(step: Step) -> None:
    uploaded = {d.checklist_item for d in step.documents}
    missing = [d.code for d in step.permit_type.required_documents if d.code not in uploaded]
    if missing:
        raise errors.DocumentsMissingError(
            f"These documents are still missing: {', '.join(missing)}", missing=missing
        )


@check("refuse_if_inspection_needed")
def refuse_if_inspection_needed(step: Step) -> None:
    if step.permit_type.needs_inspection:
        raise errors.InspectionRequiredError(
            f"{step.permit_type.name} needs a field inspection: use schedule_inspection"
        )


@check("inspection_date_not_past")
def inspection_date_not_past(step: Step) -> None:
    if step.data.inspection_date is not None and step.data.inspection_date < step.today:
        raise errors.InspectionDateError(
            "The inspection date lies in the past",
            errors=[
                {"loc": ["body", "inspection_date"], "msg": "in the past", "type": "date_past"}
            ],
        )


@check("require_inspection_photo")
def require_inspection_photo(step: Step) -> None:
    if not any(d.checklist_item == INSPECTION_PHOTO for d in step.documents):
        raise errors.InspectionPhotoMissingError(
            "Upload at least one site photo (checklist item foto_pemeriksaan) first"
        )


@effect("pause_clock")
async def pause_clock(step: Step) -> None:
    sla.pause_clock(step.ctx, step.application)


@effect("resume_clock")
async def resume_clock(step: Step) -> None:
    sla.resume_clock(step.ctx, step.application, step.permit_type.sla_working_days)


@effect("stop_clock")
async def stop_clock(step: Step) -> None:
    sla.stop_clock(step.application)


@effect("issue_permit")
async def issue_permit(step: Step) -> None:
    application = step.application
    application.number = await number_for(
        step.ctx, step.session, PERMIT, step.permit_type.code, step.today
    )
    application.issued_at = step.now
    application.valid_until = valid_until(step.permit_type, step.today)
    step.extra["number"] = application.number
    step.issued = True


@effect("revoke_permit")
async def revoke_permit(step: Step) -> None:
    application = step.application
    application.revoked_at = step.now
    application.revoke_reason = step.data.note
    step.extra.update(number=application.number, reason=step.data.note)
