"""Money out and its account: the disbursement schedule (tranches) and the LPJ per RAB line.

Tranches: the NPHD lists the schedule in rupiah (adding up to the approved amount, at most the rule
set's `max_tranches`); without one (bansos, or an NPHD that lists none) the rule set's
`tranche_percentages` apply, fixed at the first payment. A disbursement pays exactly the next
tranche; from the second one on, the rule set's `tranche_report_documents` must have been uploaded
after the previous tranche was paid.

LPJ: the applicant reports the rupiah spent on each RAB line, in the RAB's order. Under
`lpj_line_ceiling = "proportional"` (default) a line may not exceed its share of the approved
amount, `ceil(line x approved / requested)`, so a reduction by the head is spread over the lines
in proportion; under "total" only the sum is capped. The sum may not exceed what was paid, and when
the unspent balance is declared, spent + unspent must equal what was paid (the unspent part is
returned to the Kas Daerah before the LPJ is accepted).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import func, select

from sabilulungan import errors
from sabilulungan.config import RuleSet
from sabilulungan.models import BudgetLine, Document, StageEntry
from shared.workflow import MissingFieldsError

if TYPE_CHECKING:
    from sabilulungan.effects import Step


def schedule(rule: RuleSet, approved: int, amounts: list[int] | None) -> list[int]:
    """The NPHD's schedule, checked; or the rule set's percentages of the approved amount."""
    if amounts is None:
        return rule.tranche_amounts(approved)
    if len(amounts) > rule.max_tranches or sum(amounts) != approved:
        raise errors.TrancheScheduleError(
            f"The NPHD's tranches ({len(amounts)}, adding up to {sum(amounts)} rupiah) must add "
            f"up to the approved {approved} rupiah in at most {rule.max_tranches} tranches "
            f"(rules {rule.version})",
            rule="tranche_schedule",
            approved_amount_idr=approved,
            max_tranches=rule.max_tranches,
        )
    return list(amounts)


async def check_next(step: Step, amount: int) -> None:
    """Only the next tranche of the schedule, for its exact amount, once its condition holds."""
    p, rule = step.proposal, step.rule
    if p.tranche_plan is None:
        p.tranche_plan = rule.tranche_amounts(p.approved_amount_idr or 0)
    plan = p.tranche_plan
    k = p.tranches
    if k >= len(plan):
        raise errors.TooManyTranchesError(
            f"All {len(plan)} scheduled tranche(s) have been paid (rules {rule.version})",
            rule="tranche_schedule",
            scheduled=len(plan),
        )
    if amount != plan[k]:
        raise errors.WrongTrancheAmountError(
            f"Tranche {k + 1} of {len(plan)} is {plan[k]} rupiah, not {amount}",
            rule="tranche_schedule",
            tranche=k + 1,
            expected_idr=plan[k],
        )
    if k == 0 or not rule.tranche_report_documents:
        step.extra["tranche"] = k + 1
        return
    last_paid = await step.session.scalar(
        select(func.max(StageEntry.entered_at)).where(
            StageEntry.proposal_id == p.id, StageEntry.action == step.action.name
        )
    )
    present = set(
        await step.session.scalars(
            select(Document.checklist_item).where(
                Document.proposal_id == p.id, Document.uploaded_at >= last_paid
            )
        )
    )
    missing = [d for d in rule.tranche_report_documents if d not in present]
    if missing:
        labels = [step.ctx.config.checklist_items.get(i, i) for i in missing]
        raise errors.TrancheConditionError(
            f"Tranche {k + 1} is paid only after these are uploaded for tranche {k}: "
            + "; ".join(labels)
            + f" (rules {rule.version})",
            rule="tranche_report",
            missing=missing,
            labels=labels,
        )
    step.extra["tranche"] = k + 1


def line_ceilings(
    rule: RuleSet, lines: list[BudgetLine], requested: int, approved: int
) -> list[int]:
    if rule.lpj_line_ceiling == "total" or requested <= 0:
        return [approved] * len(lines)
    return [-(-line.amount_idr * approved // requested) for line in lines]


def fill_lines(ceilings: list[int], spent: int) -> list[int]:
    """A spending per line for `spent` rupiah: each line up to its ceiling, in order (demo)."""
    amounts = []
    for ceiling in ceilings:
        amounts.append(min(ceiling, spent))
        spent -= amounts[-1]
    return amounts


async def record_spending(step: Step) -> int:
    """Check the LPJ's spending per RAB line, store it on the lines; returns the total spent."""
    p, data = step.proposal, step.data
    if data.spending is None:
        raise MissingFieldsError(action=step.action.name, fields=["spending"])
    lines = list(
        await step.session.scalars(
            select(BudgetLine).where(BudgetLine.proposal_id == p.id).order_by(BudgetLine.position)
        )
    )
    given = [s.description for s in data.spending]
    if given != [line.description for line in lines]:
        raise errors.LpjLinesMismatchError(
            "The LPJ reports spending per RAB line: one entry per line, in the RAB's order, with "
            "the line's description",
            rab_lines=[line.description for line in lines],
            given=given,
        )
    approved = p.approved_amount_idr or 0
    ceilings = line_ceilings(step.rule, lines, p.requested_amount_idr, approved)
    for i, (line, ceiling, spent) in enumerate(zip(lines, ceilings, data.spending, strict=True)):
        if spent.spent_idr > ceiling:
            raise errors.LpjLineAboveApprovedError(
                f"RAB line {i + 1} ('{line.description}') reports {spent.spent_idr} rupiah but its "
                f"approved share is {ceiling} rupiah (lpj_line_ceiling = "
                f"'{step.rule.lpj_line_ceiling}', rules {step.rule.version})",
                rule="lpj_line_ceiling",
                line=i + 1,
                ceiling_idr=ceiling,
            )
    total = sum(s.spent_idr for s in data.spending)
    declared = data.spent_idr if data.spent_idr is not None else step.amount
    unspent = p.disbursed_idr - total
    if (
        total > p.disbursed_idr
        or (declared is not None and declared != total)
        or (data.unspent_idr is not None and data.unspent_idr != unspent)
    ):
        raise errors.LpjTotalMismatchError(
            f"The LPJ must add up: {p.disbursed_idr} rupiah paid = {total} spent on the RAB lines "
            f"+ {max(unspent, 0)} unspent (returned to the Kas Daerah)",
            rule="lpj_total",
            disbursed_idr=p.disbursed_idr,
            lines_total_idr=total,
        )
    for line, spent in zip(lines, data.spending, strict=True):
        line.spent_idr = spent.spent_idr
    step.extra["spending"] = [s.spent_idr for s in data.spending]
    return total
