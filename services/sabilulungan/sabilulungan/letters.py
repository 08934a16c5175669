"""A proposal's receipt (tanda terima) and, when it was refused, its refusal and objection route.

Built from what the applicant may already read (`proposals.read_proposal`, masked), so nothing
here shows NIK, NPWP, bank account or address; the same visibility rule applies (the owner and
officials; anybody else gets "not found").
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from sabilulungan import documents, proposals
from sabilulungan.dependencies import Context
from sabilulungan.pages.common import KIND_LABELS
from sabilulungan.schemas import ProposalRead
from shared.auth import Principal
from shared.config import RegencyConfigBase
from shared.letters import Receipt, Refusal, refusal_of
from shared.workflow import due_at


def subject_of(p: ProposalRead) -> str:
    return f"Usulan {KIND_LABELS.get(p.kind, p.kind).lower()} TA {p.fiscal_year}: {p.title}"


async def receipt(
    session: AsyncSession,
    ctx: Context,
    principal: Principal,
    proposal_id: int,
    *,
    service_title: str,
    track_url: str,
) -> Receipt:
    p = await proposals.read_proposal(session, ctx, principal, proposal_id)
    files = await documents.list_documents(session, principal, proposal_id)
    submitted = next((h.entered_at for h in p.history), p.status_since)
    due = due_at(ctx.workflow, p.status, p.status_since, ctx.calendar)
    state = next((s for s in ctx.workflow.states if s.name == p.status), None)
    sla = state.sla_working_days if state else None
    holder = ctx.config.desk_labels.get(p.holder or "", p.holder or "") or "—"
    return Receipt(
        service_title=service_title,
        regency_name=ctx.regency_name,
        tracking_code=p.tracking_code,
        subject=subject_of(p),
        applicant_name=p.applicant.name,
        received_at=submitted,
        stage_label=p.status_label,
        holder_label=holder,
        due_date=due,
        due_basis=f"{sla} hari kerja tahap {p.status_label}" if sla else "",
        track_url=f"{track_url}/{p.tracking_code}",
        documents=[
            f"Isian usulan dan RAB ({len(p.budget_lines)} baris)",
            *(
                f"{ctx.config.checklist_items.get(f.checklist_item, f.checklist_item)}: "
                f"{f.filename}"
                for f in files
            ),
        ],
    )


def refusal(ctx: Context, config: RegencyConfigBase, p: ProposalRead) -> Refusal | None:
    """The refusal of a rejected proposal (None for any other), with the objection route."""
    if p.status not in ctx.refused_states:
        return None
    entry = next((h for h in reversed(p.history) if h.state == p.status), None)
    decided = entry.entered_at if entry else p.status_since
    return refusal_of(
        config,
        ctx.calendar,
        tracking_code=p.tracking_code,
        subject=subject_of(p),
        applicant_name=p.applicant.name,
        decided_on=ctx.calendar.local_date(decided),
        reason=(entry.note if entry else None) or "",
    )
