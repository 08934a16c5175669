"""What workflow actions DO: small named effects, registered by name.

The workflow (`workflow.py`, or the regency's own) says who may move a file from where to where;
`Context.effect(action)` names the effect an action has (its own name, or the regency's
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

from sabilulungan import errors, evidence, payments
from sabilulungan.budgets import remaining_ceiling, take_from_ceiling
from sabilulungan.config import EFFECT_NAMES, RuleSet
from sabilulungan.dependencies import Context
from sabilulungan.eligibility import check_temporary
from sabilulungan.flags import compute_flags
from sabilulungan.issued import issue_document
from sabilulungan.models import Budget, Proposal
from sabilulungan.schemas import TransitionCreate
from shared.auth import Principal
from shared.workflow import ActionDef, MissingFieldsError


@dataclass
class Step:
    """One action being taken on one proposal: what an effect reads and may change."""

    session: AsyncSession
    ctx: Context
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


def not_above(amount: int, limit: int | None, what: str, previous: str) -> None:
    if limit is not None and amount > limit:
        raise errors.AmountAboveRecommendationError(
            f"The {what} amount {amount} is above the {previous} of {limit} rupiah; an amount "
            "may only stay or go down along the file",
            limit_idr=limit,
            previous=previous,
        )


async def ceiling_warning(step: Step, amount: int) -> None:
    """Record (audit, answer) whether an amount is above what remains of the ceiling."""
    p = step.proposal
    remaining = await remaining_ceiling(step.session, p.fiscal_year, p.kind) or 0
    step.extra["remaining_ceiling_idr"] = remaining
    if amount > remaining:
        step.extra["above_remaining_ceiling"] = True


def holder_only(step: Step) -> None:
    holder = step.ctx.holder(step.proposal.status)
    if holder is not None and step.role != holder:
        raise errors.NotStageHolderError(
            f"Only the holder of the current stage ({holder}) may do '{step.action.name}'",
            rule="stage_holder",
            holder=holder,
        )


@effect("reject")
async def reject(step: Step) -> None:
    holder_only(step)
    step.amount = None


@effect("return_for_revision")
async def return_for_revision(step: Step) -> None:
    holder_only(step)
    step.amount = None


@effect("return_report")
async def return_report(step: Step) -> None:
    step.amount = None


@effect("verify_completeness")
async def verify_completeness(step: Step) -> None:
    needed = evidence.required_documents(step.rule, step.proposal)
    gaps = await evidence.missing(step.session, step.proposal, needed)
    evidence.refuse_missing(step.ctx, step.action.name, gaps, step.rule)
    await check_temporary(step.session, step.ctx, step.rule, step.proposal, step.action.name)
    step.amount = None
    step.extra["documents_checked"] = needed


def _known_opd(step: Step, code: str) -> None:
    units = step.ctx.config.opd_units
    if code not in units:
        raise errors.UnknownOpdError(
            f"'{code}' is not a configured OPD; choose one of: " + ", ".join(units),
            allowed=list(units),
        )


@effect("assign_opd")
async def assign_opd(step: Step) -> None:
    require(step, opd_code=step.data.opd_code)
    assert step.data.opd_code is not None
    _known_opd(step, step.data.opd_code)
    step.proposal.opd_code = step.data.opd_code
    step.amount = None


@effect("reassign_opd")
async def reassign_opd(step: Step) -> None:
    require(step, opd_code=step.data.opd_code, note=step.data.note)
    assert step.data.opd_code is not None
    _known_opd(step, step.data.opd_code)
    step.extra["previous_opd_code"] = step.proposal.opd_code
    step.proposal.opd_code = step.data.opd_code
    step.amount = None


@effect("return_to_tapd")
async def return_to_tapd(step: Step) -> None:
    require(step, note=step.data.note)
    step.amount = None


@effect("recommend")
async def recommend(step: Step) -> None:
    p, data, ctx = step.proposal, step.data, step.ctx
    require(step, amount_idr=step.amount)
    assert step.amount is not None
    not_above_requested(p, step.amount, "recommended")
    checklist = data.checklist or {}
    unknown = sorted(set(checklist) - set(ctx.config.evaluation_checklist))
    if unknown:
        raise errors.UnknownChecklistItemError(
            "Not items of the evaluation checklist: " + ", ".join(unknown),
            allowed=list(ctx.config.evaluation_checklist),
        )
    unanswered = [i for i in ctx.config.evaluation_checklist if i not in checklist]
    failed = [i for i, ok in checklist.items() if not ok]
    if unanswered or failed:
        raise errors.ChecklistIncompleteError(
            "The evaluation (berita acara) must answer every item, and every item must hold "
            "before an amount is recommended; otherwise return or reject the file",
            unanswered=unanswered,
            failed=failed,
        )
    p.evaluation_checklist = checklist
    p.recommended_amount_idr = step.amount
    p.recommended_by = step.principal.username
    await ceiling_warning(step, step.amount)


@effect("consider")
async def consider(step: Step) -> None:
    p = step.proposal
    require(step, amount_idr=step.amount)
    assert step.amount is not None
    not_above_requested(p, step.amount, "final")
    not_above(step.amount, p.recommended_amount_idr, "final", "OPD recommendation")
    await ceiling_warning(step, step.amount)
    p.final_amount_idr = step.amount
    p.considered_by = step.principal.username


@effect("approve")
async def approve(step: Step) -> None:
    p, data, ctx = step.proposal, step.data, step.ctx
    require(step, decree_number=data.decree_number)
    if step.amount is None:
        step.amount = p.final_amount_idr or p.recommended_amount_idr or p.requested_amount_idr
    not_above_requested(p, step.amount, "approved")
    not_above(step.amount, p.recommended_amount_idr, "approved", "OPD recommendation")
    not_above(step.amount, p.final_amount_idr, "approved", "TAPD amount")
    if ctx.config.blocking_flags:
        flags = [f for f in await compute_flags(step.session, ctx, p) if f.blocking]
        if flags:
            raise errors.FlaggedProposalError(
                "Integrity flags block approval: " + ", ".join(f.code for f in flags),
                flags=[f.code for f in flags],
            )
    await check_temporary(step.session, ctx, step.rule, p, step.action.name)
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
    p.tranche_plan = payments.schedule(step.rule, p.approved_amount_idr or 0, step.data.tranches)
    step.extra["tranche_plan"] = p.tranche_plan
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
    first = dt.date(p.fiscal_year, 1, 1)
    last = dt.date(p.fiscal_year, 12, 31) + dt.timedelta(days=rule.disbursement_grace_days)
    if not first <= step.today <= last:
        raise errors.OutsideFiscalYearError(
            f"A {p.kind} of fiscal year {p.fiscal_year} is paid from that year's DPA, from "
            f"{first.isoformat()} to {last.isoformat()} (rules {rule.version})",
            rule="fiscal_year",
            first_day=first.isoformat(),
            last_day=last.isoformat(),
        )
    await payments.check_next(step, amount)  # the next tranche only, its amount, its condition
    approved = p.approved_amount_idr or 0
    if p.disbursed_idr + amount > approved:  # a schedule adds up to it: a guard for old files
        raise errors.DisbursementExceedsApprovedError(
            f"Disbursing {amount} rupiah would exceed the approved {approved} rupiah "
            f"({approved - p.disbursed_idr} rupiah left)",
            remaining_idr=approved - p.disbursed_idr,
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
    p = step.proposal
    gaps = await evidence.missing(step.session, p, step.rule.lpj_documents)
    evidence.refuse_missing(step.ctx, step.action.name, gaps, step.rule)
    spent = await payments.record_spending(step)
    p.spent_idr = spent
    step.amount = spent
    p.reported_at = step.now
    p.report_late = p.lpj_due_date is not None and step.today > p.lpj_due_date
    step.extra["unspent_idr"] = p.disbursed_idr - spent
    step.extra["report_late"] = p.report_late


@effect("accept_report")
async def accept_report(step: Step) -> None:
    p = step.proposal
    gaps = await evidence.missing(step.session, p, step.rule.lpj_documents)
    evidence.refuse_missing(step.ctx, step.action.name, gaps, step.rule)
    unspent = evidence.unspent_idr(p)
    if unspent > p.refunded_idr:
        raise errors.UnspentNotReturnedError(
            f"{unspent - p.refunded_idr} rupiah unspent has not been returned to the Kas Daerah; "
            "record the refund first",
            unspent_idr=unspent,
            refunded_idr=p.refunded_idr,
        )
    step.amount = None
    await release_unpaid(step)


async def release_unpaid(step: Step) -> None:
    """Give the approved amount never paid back to the ceiling (once)."""
    p = step.proposal
    unpaid = (p.approved_amount_idr or 0) - p.disbursed_idr - p.released_idr
    if unpaid <= 0:
        return
    await step.session.execute(
        update(Budget)
        .where(Budget.fiscal_year == p.fiscal_year, Budget.kind == p.kind)
        .values(approved_idr=Budget.approved_idr - unpaid)
    )
    p.released_idr += unpaid
    step.extra["released_idr"] = unpaid


@effect("cancel")
@effect("cancel_paid")
async def cancel(step: Step) -> None:
    """Cancel an approved file: what was never paid goes back to the ceiling now; after a payment
    ("cancel_paid") the file waits in recovery until the treasurer records the money returned."""
    require(step, note=step.data.note)
    step.amount = None
    await release_unpaid(step)


@effect("close_recovery")
async def close_recovery(step: Step) -> None:
    p = step.proposal
    outstanding = p.disbursed_idr - p.refunded_idr
    if outstanding > 0:
        raise errors.UnspentNotReturnedError(
            f"{outstanding} rupiah paid on the cancelled file has not been returned to the Kas "
            "Daerah; record the refund first",
            unspent_idr=p.disbursed_idr,
            refunded_idr=p.refunded_idr,
        )
    step.amount = None


@effect("refund")
@effect("refund_recovery")
async def refund(step: Step) -> None:
    p = step.proposal
    require(step, amount_idr=step.amount)
    amount = step.amount
    assert amount is not None
    gaps = await evidence.missing(step.session, p, [evidence.REFUND_RECEIPT])
    evidence.refuse_missing(step.ctx, step.action.name, gaps, step.rule)
    returnable = p.disbursed_idr - p.refunded_idr - (p.spent_idr or 0)
    if amount > returnable:
        raise errors.RefundError(
            f"At most {returnable} rupiah can be returned (disbursed, less spent and already "
            "returned)",
            returnable_idr=returnable,
        )
    await step.session.execute(
        update(Budget)
        .where(Budget.fiscal_year == p.fiscal_year, Budget.kind == p.kind)
        .values(
            approved_idr=Budget.approved_idr - amount,
            disbursed_idr=Budget.disbursed_idr - amount,
        )
    )
    p.refunded_idr += amount
    step.extra["refund_idr"] = amount


@effect("withdraw")
async def withdraw(step: Step) -> None:
    step.amount = None


_missing = EFFECT_NAMES - set(EFFECTS)
assert not _missing, f"effects named in the configuration but not registered: {_missing}"
