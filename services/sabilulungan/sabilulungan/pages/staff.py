"""Staff screens: the start page after login, the queue's search and filters, the decree numbers
an annex can be issued for, and the auditor's audit-event browser (shared)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from sabilulungan import proposals
from sabilulungan.dependencies import Context
from sabilulungan.models import IssuedDocument, Proposal
from sabilulungan.schemas import ProposalSummary
from shared.audit_browser import AUDIT_BROWSER_ROLES, audit_browser_router
from shared.auth import Principal
from shared.pages import Viewer, page_router
from shared.queue_filters import OVERDUE_CHOICES, read_queue_filter
from shared.web import root_of

router = page_router()
router.include_router(audit_browser_router("sabilulungan"))

APPLICANT_LIST_LIMIT = 200


def is_applicant_only(principal: Principal) -> bool:
    return principal.roles <= {"applicant"}


@router.get("/mulai")
async def start_page(request: Request, principal: Viewer) -> Response:
    """Where a login lands: what waits for me (staff), my own files (applicants), the audit
    events (auditors)."""
    target = "/antrian"
    if principal.roles & AUDIT_BROWSER_ROLES and not principal.roles - AUDIT_BROWSER_ROLES:
        target = "/audit/peristiwa"
    return RedirectResponse(root_of(request) + target, status_code=303)


async def queue_items(
    session: AsyncSession, ctx: Context, principal: Principal
) -> list[ProposalSummary]:
    """An applicant's own files (every stage, so a refusal is found), else the files waiting on
    the caller's desk."""
    if is_applicant_only(principal):
        items, _ = await proposals.list_proposals(
            session,
            ctx,
            principal,
            fiscal_year=None,
            kind=None,
            status=None,
            opd_code=None,
            limit=APPLICANT_LIST_LIMIT,
            cursor=None,
        )
        return items
    return await proposals.work_queue(session, ctx, principal)


async def decree_numbers(session: AsyncSession) -> list[dict[str, Any]]:
    """The decree numbers files were approved under, newest year first, with the annex number
    where one was issued (so nobody types a number)."""
    rows = (
        await session.execute(
            select(Proposal.decree_number, Proposal.fiscal_year)
            .where(Proposal.decree_number.is_not(None))
            .distinct()
            .order_by(Proposal.fiscal_year.desc(), Proposal.decree_number)
            .limit(200)
        )
    ).all()
    issued = dict(
        (
            await session.execute(
                select(IssuedDocument.official_number, IssuedDocument.number).where(
                    IssuedDocument.doc_type == "decree_annex"
                )
            )
        ).all()
    )
    return [
        {"number": r.decree_number, "year": r.fiscal_year, "annex": issued.get(r.decree_number)}
        for r in rows
    ]


async def queue_context(
    session: AsyncSession, ctx: Context, principal: Principal, query: Mapping[str, str]
) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    stages = {s.name: s.label for s in ctx.workflow.states}
    wanted, errors, typed = read_queue_filter(query, stages=stages, with_year=True)
    items = await queue_items(session, ctx, principal)
    shown = [
        s
        for s in items
        if wanted.matches(
            tracking_code=s.tracking_code,
            name=f"{s.applicant_name} {s.title}",
            status=s.status,
            overdue=s.overdue,
            fiscal_year=s.fiscal_year,
        )
    ]
    context = {
        "items": shown,
        "total": len(items),
        "filter": typed,
        "stages": stages,
        "overdue_choices": OVERDUE_CHOICES,
        "decrees": await decree_numbers(session) if not is_applicant_only(principal) else [],
    }
    return context, errors
