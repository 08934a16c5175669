"""Taking a workflow action on a proposal: the engine decides, the named effect acts, and
`shared.workflow.record_transition` writes the stage entry and the audit event in the same
transaction."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from sabilulungan import errors
from sabilulungan.config import ACTION_DUTIES
from sabilulungan.dependencies import Context
from sabilulungan.effects import EFFECTS, Step
from sabilulungan.models import AuditEvent, Proposal, StageEntry
from sabilulungan.proposals import can_see, read_proposal
from sabilulungan.schemas import ProposalRead, TransitionCreate
from shared.auth import Principal
from shared.workflow import record_transition, transition


def _snapshot(p: Proposal) -> dict[str, Any]:
    return {
        "status": p.status,
        "opd_code": p.opd_code,
        "recommended_amount_idr": p.recommended_amount_idr,
        "final_amount_idr": p.final_amount_idr,
        "approved_amount_idr": p.approved_amount_idr,
        "disbursed_idr": p.disbursed_idr,
        "spent_idr": p.spent_idr,
        "refunded_idr": p.refunded_idr,
        "released_idr": p.released_idr,
        "decree_number": p.decree_number,
        "agreement_number": p.agreement_number,
    }


def _check_freeze(ctx: Context, kind: str, action: str, effect: str, today: dt.date) -> None:
    for period in ctx.config.freeze_periods:
        if (
            period.starts_on <= today <= period.ends_on
            and kind in period.kinds
            and (effect in period.actions or action in period.actions)
        ):
            raise errors.FreezePeriodError(
                f"'{action}' of {kind} is frozen during '{period.name}' "
                f"({period.starts_on.isoformat()} to {period.ends_on.isoformat()})",
                period=period.name,
                starts_on=period.starts_on.isoformat(),
                ends_on=period.ends_on.isoformat(),
            )


async def _locked(session: AsyncSession, principal: Principal, proposal_id: int) -> Proposal:
    proposal = (
        await session.execute(select(Proposal).where(Proposal.id == proposal_id).with_for_update())
    ).scalar_one_or_none()
    if proposal is None or not can_see(proposal, principal):
        raise errors.ProposalNotFoundError(f"There is no proposal {proposal_id} you may see")
    return proposal


def _check_actor(p: Proposal, principal: Principal, acting: set[str]) -> None:
    if acting == {"applicant"} and p.owner_id != principal.account_id:
        raise errors.NotYourProposalError("Only the applicant who filed it may do this")
    if acting == {"opd_evaluator"} and (p.opd_code is None or p.opd_code != principal.unit):
        raise errors.OpdMismatchError(
            f"This proposal is assigned to OPD {p.opd_code or '(none)'}, not {principal.unit}"
        )


def duty_of(ctx: Context, action: str, role: str) -> str:
    return ctx.config.duties.get(action) or ACTION_DUTIES.get(action) or role


async def _check_segregation(
    session: AsyncSession, ctx: Context, p: Proposal, principal: Principal, action: str, role: str
) -> None:
    """No one holds two conflicting duties on the same file (the rule table in the config)."""
    duty = duty_of(ctx, action, role)
    rows = (
        await session.execute(
            select(StageEntry.action, StageEntry.actor_role).where(
                StageEntry.proposal_id == p.id, StageEntry.actor == principal.username
            )
        )
    ).all()
    held = {duty_of(ctx, r.action, r.actor_role) for r in rows}
    if p.owner_username == principal.username:
        held.add("applicant")
    for a, b in ctx.config.segregation:
        for mine, other in ((a, b), (b, a)):
            if duty == mine and other in held:
                raise errors.SegregationOfDutiesError(
                    f"You already acted on this file as {other}; the same person may not also "
                    f"act as {duty} (segregation rule {a} ≠ {b}; "
                    f"{ctx.config.segregation_basis})",
                    rule=f"{a}!={b}",
                    basis=ctx.config.segregation_basis,
                    duty=duty,
                    conflicts_with=other,
                )


async def apply_transition(
    session: AsyncSession,
    ctx: Context,
    principal: Principal,
    proposal_id: int,
    data: TransitionCreate,
) -> ProposalRead:
    p = await _locked(session, principal, proposal_id)
    action = transition(
        ctx.workflow,
        current_state=p.status,
        action=data.action,
        roles=principal.roles,
        payload=data.model_dump(exclude_none=True),
    )
    acting = set(action.roles) & principal.roles
    _check_actor(p, principal, acting)
    effect_name = ctx.effect(action.name)
    now = ctx.now
    today = ctx.calendar.local_date(now)
    _check_freeze(ctx, p.kind, action.name, effect_name, today)
    step = Step(
        session=session,
        ctx=ctx,
        principal=principal,
        proposal=p,
        data=data,
        action=action,
        role=sorted(acting)[0],
        now=now,
        today=today,
        rule=ctx.config.rule_set_on(today),
        amount=data.amount_idr,
    )
    await _check_segregation(session, ctx, p, principal, action.name, step.role)
    before = _snapshot(p)
    await EFFECTS[effect_name](step)
    await _record_step(step, before)
    return await read_proposal(session, ctx, principal, p.id)


async def _record_step(step: Step, before: dict[str, Any]) -> None:
    """Move the proposal to the action's state; `shared.workflow.record_transition` writes its
    stage entry (which also carries the amount and the rule version in force) and audit event."""
    p, action, session = step.proposal, step.action, step.session
    p.status = action.to_state
    p.status_since = step.now
    p.updated_at = step.now
    await session.flush()
    after = _snapshot(p)
    after.update(
        {
            "action": action.name,
            "rule_version": step.rule.version,
            "basis": step.rule.basis,
            "note": step.data.note,
        }
    )
    after.update(step.extra)

    def stage_entry(columns: dict[str, Any]) -> dict[str, Any]:
        return {
            "proposal_id": columns["proposal_id"],
            "state": columns["to_state"],
            "entered_at": columns["occurred_at"],
            "action": columns["action"],
            "actor": columns["actor"],
            "actor_role": columns["actor_role"],
            "note": columns["note"],
            "amount_idr": step.amount,
            "rule_version": step.rule.version,
        }

    await record_transition(
        session,
        StageEntry,
        AuditEvent,
        entity_type="proposal",
        entity_id=p.id,
        action=action.name,
        from_state=before["status"],
        to_state=action.to_state,
        actor=step.principal,
        role=step.role,
        occurred_at=step.now,
        note=step.data.note,
        before=before,
        after=after,
        row=stage_entry,
    )
