"""What workflow actions DO: small named effects, registered by name.

The workflow (`workflow.py`, or the regency's own) says who may move a file from where to where;
`Runtime.effect(action)` names the effect an action has (its own name, or the regency's
`action_effects` mapping), and `transitions.apply_transition` runs `EFFECTS[name]`. An effect
checks its own rules, raising a typed error, and changes the proposal; it never commits.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from sabilulungan import errors
from sabilulungan.budgets import take_from_ceiling
from sabilulungan.config import EFFECT_NAMES, RuleSet
from sabilulungan.flags import compute_flags
from sabilulungan.issued import issue_document
from sabilulungan.models import Budget, Proposal
from sabilulungan.runtime import Runtime
from sabilulungan.schemas import TransitionCreate
from shared.auth import Principal
from shared.workflow import ActionDef, MissingFieldsError


@dataclass
class Step:
    """One action being taken on one proposal: what an effect reads and may change."""

    session: AsyncSession
    rt: Runtime
    principal: Principal
    proposal: Proposal
    data: TransitionCreate
    action: ActionDef
    role: str
    now: dt.datetime
    today: dt.date
    rule: RuleSet
    amount: int | None = None  # the amount recorded on the stage entry
    extra: dict[str, Any] = field(default_factory=dict)  # added to the audit event


Effect = Callable[[Step], Awaitable[None]]
EFFECTS: dict[str, Effect] = {}


def effect(name: str) -> Callable[[Effect], Effect]:
    def register(fn: Effect) -> Effect:
        EFFECTS[name] = fn
        return fn

    return register


def require(step: Step, **fields: Any) -> None:
    missing = [name for name, value in fields.items() if value in (None, "")]
    if missing:
        raise MissingFieldsError(action=step.action.name, fields=missing)


def not_above_requested(p: Proposal, amount: int, what: str) -> None:
    if amount > p.requested_amount_idr:
        raise errors.AmountAboveRequestedError(
            f"The {what} amount {amount} is above the requested {p.requested_amount_idr} rupiah",
            requested_amount_idr=p.requested_amount_idr,
        )


@effect("none")
async def no_effect(step: Step) -> None:
    step.amount = None


@effect("assign_opd")
async def assign_opd(step: Step) -> None:
    require(step, opd_code=step.data.opd_code)
    step.proposal.opd_code = step.data.opd_code


@effect("recommend")
async def recommend(step: Step) -> None:
    p, data, rt = step.proposal, step.data, step.rt
    require(step, amount_idr=step.amount)
    assert step.amount is not None
    not_above_requested(p, step.amount, "recommended")
    p.recommended_amount_idr = step.amount
    p.recommended_by = step.principal.username
    if data.checklist is not None:
        unknown = sorted(set(data.checklist) - set(rt.config.evaluation_checklist))
        if unknown:
            raise errors.UnknownChecklistItemError(
                "Not items of the evaluation checklist: " + ", ".join(unknown),
                allowed=list(rt.config.evaluation_checklist),
            )
        p.evaluation_checklist = data.checklist


@effect("consider")
async def consider(step: Step) -> None:
    p = step.proposal
    require(step, amount_idr=step.amount)
    assert step.amount is not None
    not_above_requested(p, step.amount, "final")
    p.final_amount_idr = step.amount
    p.considered_by = step.principal.username


@effect("approve")
async def approve(step: Step) -> None:
    p, data, rt = step.proposal, step.data, step.rt
    require(step, decree_number=data.decree_number)
    if step.principal.username in (p.recommended_by, p.considered_by):
        raise errors.SegregationOfDutiesError(
            "The official who recommended or set the amount cannot also approve it"
        )
    if step.amount is None:
        step.amount = p.final_amount_idr or p.recommended_amount_idr or p.requested_amount_idr
    not_above_requested(p, step.amount, "approved")
    if rt.config.blocking_flags:
        flags = [f for f in await compute_flags(step.session, rt, p) if f.blocking]
        if flags:
            raise errors.FlaggedProposalError(
                "Integrity flags block approval: " + ", ".join(f.code for f in flags),
                flags=[f.code for f in flags],
            )
    await take_from_ceiling(step.session, p, step.amount)
    p.approved_amount_idr = step.amount
    p.decree_number = data.decree_number
    p.approved_by = step.principal.username
    p.approved_at = step.now


@effect("sign_agreement")
async def sign_agreement(step: Step) -> None:
    p = step.proposal
    require(step, agreement_number=step.data.agreement_number)
    if p.kind != "hibah":
        raise errors.DocumentNotAvailableError("Only a hibah has a grant agreement (NPHD)")
    p.agreement_number = step.data.agreement_number
    await issue_document(
        step.session,
        number=f"NPHD-{p.tracking_code}",
        doc_type="nphd",
        proposal=p,
        official_number=p.agreement_number or "",
        amount=p.approved_amount_idr or 0,
        now=step.now,
    )


@effect("disburse")
async def disburse(step: Step) -> None:
    p, rule = step.proposal, step.rule
    require(step, amount_idr=step.amount)
    amount = step.amount
    assert amount is not None
    if p.kind == "hibah" and not p.agreement_number:
        raise errors.AgreementRequiredError(
            "A hibah cannot be disbursed before its grant agreement (NPHD) is signed"
        )
    approved = p.approved_amount_idr or 0
    if p.disbursed_idr + amount > approved:
        raise errors.DisbursementExceedsApprovedError(
            f"Disbursing {amount} rupiah would exceed the approved {approved} rupiah "
            f"({approved - p.disbursed_idr} rupiah left)",
            remaining_idr=approved - p.disbursed_idr,
        )
    if p.tranches >= rule.max_tranches:
        raise errors.TooManyTranchesError(
            f"At most {rule.max_tranches} tranches are allowed (rules {rule.version})"
        )
    await step.session.execute(
        update(Budget)
        .where(Budget.fiscal_year == p.fiscal_year, Budget.kind == p.kind)
        .values(disbursed_idr=Budget.disbursed_idr + amount)
    )
    p.disbursed_idr += amount
    p.tranches += 1
    if p.lpj_due_date is None:
        p.lpj_due_date = dt.date(p.fiscal_year + 1, rule.lpj_due_month, rule.lpj_due_day)


@effect("submit_report")
async def submit_report(step: Step) -> None:
    step.proposal.reported_at = step.now


@effect("accept_report")
async def accept_report(step: Step) -> None:
    step.amount = None


@effect("withdraw")
async def withdraw(step: Step) -> None:
    step.amount = None


_missing = EFFECT_NAMES - set(EFFECTS)
assert not _missing, f"effects named in the configuration but not registered: {_missing}"
