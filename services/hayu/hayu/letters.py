"""An application's receipt (tanda terima) and, when refused, its refusal and objection route.

Built from `applications.read_application` (masked, with its access rule: the owner and staff;
anybody else is refused), so no NIK, phone or address reaches the paper.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hayu import applications
from hayu.dependencies import Context
from hayu.models import Application
from hayu.schemas import ApplicationRead
from hayu.workflow import ROLE_LABELS
from shared.auth import Principal
from shared.letters import Receipt, Refusal, refusal_of

REFUSED_STATES = frozenset({"rejected"})


def subject_of(ctx: Context, a: ApplicationRead) -> str:
    permit_type = ctx.hayu.permit_type(a.permit_type_code)
    name = permit_type.name if permit_type else a.permit_type_code
    kind = "Lapor mandiri" if a.kind == "self_report" else "Permohonan izin"
    return f"{kind}: {name}"


def track_url(ctx: Context, code: str) -> str:
    return f"{ctx.base_url}/lacak?kode={code}"


async def receipt(
    session: AsyncSession, ctx: Context, principal: Principal, application_id: int, title: str
) -> Receipt:
    a = await applications.read_application(session, ctx, principal, application_id)
    sla_due = await session.scalar(
        select(Application.sla_due_date).where(Application.id == application_id)
    )
    permit_type = ctx.hayu.permit_type(a.permit_type_code)
    labels = {d.code: d.label for d in permit_type.required_documents} if permit_type else {}
    due = sla_due or a.stage_due_date
    basis = ""
    if sla_due and permit_type is not None:
        basis = f"{permit_type.sla_working_days} hari kerja layanan sejak berkas lengkap"
    elif due:
        basis = f"batas tahap {a.status_label}"
    return Receipt(
        service_title=title,
        regency_name=ctx.config.regency.name,
        tracking_code=a.tracking_code,
        subject=subject_of(ctx, a),
        applicant_name=a.business.name,
        received_at=a.submitted_at,
        stage_label=a.status_label,
        holder_label=ROLE_LABELS.get(a.holder or "", a.holder or "") or "— (selesai)",
        due_date=due,
        due_basis=basis,
        track_url=track_url(ctx, a.tracking_code),
        documents=[
            "Isian permohonan (data usaha)",
            *(
                f"{labels.get(d.checklist_item, d.checklist_item)}: {d.filename}"
                for d in a.documents
            ),
        ],
    )


def refusal(ctx: Context, a: ApplicationRead) -> Refusal | None:
    """The refusal of a rejected application (None for any other), with the objection route."""
    if a.status not in REFUSED_STATES:
        return None
    entry = next((h for h in reversed(a.history) if h.to_state == a.status), None)
    decided = entry.occurred_at if entry else a.status_since
    return refusal_of(
        ctx.config,
        ctx.calendar,
        tracking_code=a.tracking_code,
        subject=subject_of(ctx, a),
        applicant_name=a.business.name,
        decided_on=ctx.calendar.local_date(decided),
        reason=(entry.note if entry else None) or a.decision_reason,
    )
