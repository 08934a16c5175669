"""The API of a proposal's papers: its receipt and, when refused, the refusal with the objection
route, as JSON and as PDF. The owner and officials only (others get 404, as for the proposal)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from sabilulungan import letters, proposals
from sabilulungan.dependencies import ContextDep, ProposalId, base_url
from shared.auth import CurrentPrincipal
from shared.db import SessionDep
from shared.letters import (
    Receipt,
    ReceiptRead,
    RefusalRead,
    pdf_response,
    receipt_pdf,
    receipt_read,
    refusal_pdf,
    refusal_read,
)
from shared.problems import problem_responses

router = APIRouter(prefix="/api/v1/proposals", tags=["receipts"])


def track_base(request: Request, public_url: str) -> str:
    return f"{public_url or base_url(request)}/lacak"


async def _receipt(
    request: Request, session: SessionDep, ctx: ContextDep, principal: CurrentPrincipal, pid: int
) -> Receipt:
    return await letters.receipt(
        session,
        ctx,
        principal,
        pid,
        service_title=request.app.title,
        track_url=track_base(request, ctx.public_url),
    )


@router.get(
    "/{proposal_id}/receipt",
    response_model=ReceiptRead,
    responses=problem_responses(401, 404),
)
async def get_receipt(
    request: Request,
    proposal_id: ProposalId,
    session: SessionDep,
    ctx: ContextDep,
    principal: CurrentPrincipal,
) -> ReceiptRead:
    """The receipt (tanda terima): code, what was received, the desk holding it, the due date."""
    return receipt_read(await _receipt(request, session, ctx, principal, proposal_id))


@router.get(
    "/{proposal_id}/receipt.pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}, **problem_responses(401, 404)},
)
async def get_receipt_pdf(
    request: Request,
    proposal_id: ProposalId,
    session: SessionDep,
    ctx: ContextDep,
    principal: CurrentPrincipal,
) -> Response:
    """The receipt as a PDF to print."""
    found = await _receipt(request, session, ctx, principal, proposal_id)
    tz = request.app.state.config.regency.timezone
    content = await run_in_threadpool(receipt_pdf, found, tz)
    return pdf_response(content, f"tanda-terima-{found.tracking_code}")


@router.get(
    "/{proposal_id}/refusal",
    response_model=RefusalRead,
    responses=problem_responses(401, 404),
)
async def get_refusal(
    request: Request,
    proposal_id: ProposalId,
    session: SessionDep,
    ctx: ContextDep,
    principal: CurrentPrincipal,
) -> RefusalRead:
    """Why the proposal was refused and how, by when and to whom to object (404 `not-refused`
    for a proposal that was not)."""
    p = await proposals.read_proposal(session, ctx, principal, proposal_id)
    return refusal_read(letters.refusal(ctx, request.app.state.config, p))


@router.get(
    "/{proposal_id}/refusal.pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}, **problem_responses(401, 404)},
)
async def get_refusal_pdf(
    request: Request,
    proposal_id: ProposalId,
    session: SessionDep,
    ctx: ContextDep,
    principal: CurrentPrincipal,
) -> Response:
    """The refusal letter as a PDF."""
    p = await proposals.read_proposal(session, ctx, principal, proposal_id)
    found = letters.refusal(ctx, request.app.state.config, p)
    refusal_read(found)  # 404 when not refused
    assert found is not None
    track = f"{track_base(request, ctx.public_url)}/{p.tracking_code}"
    content = await run_in_threadpool(
        lambda: refusal_pdf(
            found, service_title=request.app.title, regency_name=ctx.regency_name, track_url=track
        )
    )
    return pdf_response(content, f"surat-penolakan-{p.tracking_code}")
