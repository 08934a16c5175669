"""Evidence before movement: which documents a file needs at which step, and when uploads lock.

The category's required documents must be on file before "Berkas lengkap"; the LPJ evidence before
"Serahkan LPJ" and "Terima LPJ"; a refund needs its deposit slip. Applicants (and Tata Usaha) may
upload the completeness documents only while the file is being completed (first check or
revision) and the LPJ evidence only while the LPJ is due; at every other stage uploads are locked.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from sabilulungan import errors
from sabilulungan.config import DEFAULT_CATEGORY, RuleSet
from sabilulungan.dependencies import Context
from sabilulungan.models import Document, Proposal

REFUND_RECEIPT = "refund_receipt"
# Where money paid out comes back: the LPJ under review, a paid file cancelled.
REFUND_STATES = frozenset({"reported", "recovery"})


def unspent_idr(p: Proposal) -> int:
    """What the LPJ reports as paid but not spent (to be returned to the Kas Daerah)."""
    return p.disbursed_idr - (p.spent_idr if p.spent_idr is not None else p.disbursed_idr)


def required_documents(rule: RuleSet, p: Proposal) -> list[str]:
    name = p.recipient_category or DEFAULT_CATEGORY.get((p.kind, p.applicant_type))
    category = rule.recipient_categories.get(name or "")
    return list(category.required_documents) if category else []


async def present_items(session: AsyncSession, proposal_id: int) -> set[str]:
    rows = await session.scalars(
        select(Document.checklist_item).where(Document.proposal_id == proposal_id).distinct()
    )
    return set(rows)


async def missing(session: AsyncSession, p: Proposal, needed: list[str]) -> list[str]:
    if not needed:
        return []
    present = await present_items(session, p.id)
    return [item for item in needed if item not in present]


def refuse_missing(ctx: Context, action: str, items: list[str], rule: RuleSet) -> None:
    if items:
        labels = [ctx.config.checklist_items.get(i, i) for i in items]
        raise errors.MissingDocumentsError(
            f"'{action}' needs these documents first: " + "; ".join(labels),
            missing=items,
            labels=labels,
            rule_version=rule.version,
        )


def upload_phase(ctx: Context, p: Proposal) -> str | None:
    """'completeness', 'lpj', 'refund' or None (locked), from the stage the file is in."""
    if ctx.is_final(p.status):
        return None
    holder = ctx.holder(p.status)
    if p.disbursed_idr > 0:
        if p.status in REFUND_STATES:
            return "refund"  # LPJ under review or a paid file cancelled: only the deposit slip
        return "lpj" if holder == "applicant" else None
    if p.status == ctx.workflow.initial_state or (holder == "applicant" and not p.approved_at):
        return "completeness"
    return None


def check_upload_open(ctx: Context, rule: RuleSet, p: Proposal, item: str) -> None:
    phase = upload_phase(ctx, p)
    lpj_items = {*rule.lpj_documents, *rule.tranche_report_documents, REFUND_RECEIPT}
    if phase == "completeness" and item not in lpj_items:
        return
    if phase == "lpj" and item in lpj_items:
        return
    if phase == "refund" and item == REFUND_RECEIPT:
        return
    raise errors.UploadsLockedError(
        f"'{item}' cannot be uploaded while the file is at '{ctx.state_label(p.status)}': "
        "uploads are open for the completeness documents until the file is checked "
        "(or returned for revision), and for the LPJ evidence after disbursement",
        state=p.status,
        item=item,
    )


def next_step_documents(ctx: Context, rule: RuleSet, p: Proposal) -> list[str]:
    """What the file's next step asks for (shown on the page before the button is pressed)."""
    if p.status == ctx.workflow.initial_state or ctx.holder(p.status) == "applicant":
        if p.disbursed_idr > 0:
            return list(rule.lpj_documents)
        return required_documents(rule, p)
    if p.status == "reported":
        # "Terima LPJ" waits for the unspent money, recorded against its deposit slip.
        refund = [REFUND_RECEIPT] if unspent_idr(p) > p.refunded_idr else []
        return [*rule.lpj_documents, *refund]
    if p.status in REFUND_STATES and p.disbursed_idr > p.refunded_idr:
        return [REFUND_RECEIPT]
    return []
