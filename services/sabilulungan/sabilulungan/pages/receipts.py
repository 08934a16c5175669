"""The applicant's papers: the receipt (page and PDF) and the refusal letter (PDF)."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from sabilulungan import letters, proposals
from sabilulungan.dependencies import ProposalId, base_url, context_of
from sabilulungan.pages.common import problem
from shared.auth import Principal
from shared.letters import Receipt, pdf_response, receipt_pdf, refusal_pdf
from shared.pages import Viewer, page_router
from shared.problems import AppError
from shared.web import render, root_of

router = page_router()


def _not_found(request: Request, exc: AppError) -> Response:
    return render(
        request,
        "error.html",
        {"title": "Usulan tidak ditemukan", "detail": problem(exc), "status": 404},
        status_code=404,
    )


async def _receipt(request: Request, principal: Principal, proposal_id: int) -> Receipt:
    ctx = context_of(request.app.state)
    async with request.app.state.db.sessionmaker() as session:
        return await letters.receipt(
            session,
            ctx,
            principal,
            proposal_id,
            service_title=request.app.title,
            track_url=f"{ctx.public_url or base_url(request)}/lacak",
        )


@router.get("/usulan/{proposal_id}/tanda-terima")
async def receipt_page(request: Request, proposal_id: ProposalId, principal: Viewer) -> Response:
    try:
        found = await _receipt(request, principal, proposal_id)
    except AppError as exc:
        return _not_found(request, exc)
    root = root_of(request)
    return render(
        request,
        "receipt.html",
        {
            "r": found,
            "track_path": f"{root}/lacak/{found.tracking_code}",
            "pdf_path": f"{root}/usulan/{proposal_id}/tanda-terima.pdf",
            "back_path": f"{root}/usulan/{proposal_id}",
        },
        principal=principal,
    )


@router.get("/usulan/{proposal_id}/tanda-terima.pdf")
async def receipt_download(
    request: Request, proposal_id: ProposalId, principal: Viewer
) -> Response:
    try:
        found = await _receipt(request, principal, proposal_id)
    except AppError as exc:
        return _not_found(request, exc)
    tz = request.app.state.config.regency.timezone
    content = await run_in_threadpool(receipt_pdf, found, tz)
    return pdf_response(content, f"tanda-terima-{found.tracking_code}")


@router.get("/usulan/{proposal_id}/surat-penolakan.pdf")
async def refusal_download(
    request: Request, proposal_id: ProposalId, principal: Viewer
) -> Response:
    ctx = context_of(request.app.state)
    try:
        async with request.app.state.db.sessionmaker() as session:
            p = await proposals.read_proposal(session, ctx, principal, proposal_id)
    except AppError as exc:
        return _not_found(request, exc)
    found = letters.refusal(ctx, request.app.state.config, p)
    if found is None:
        detail = "Usulan ini tidak ditolak; tidak ada surat penolakan."
        ctx_page = {"title": "Surat tidak tersedia", "detail": detail, "status": 404}
        return render(request, "error.html", ctx_page, status_code=404)
    track = f"{ctx.public_url or base_url(request)}/lacak/{p.tracking_code}"
    content = await run_in_threadpool(
        lambda: refusal_pdf(
            found,
            service_title=request.app.title,
            regency_name=ctx.regency_name,
            track_url=track,
        )
    )
    return pdf_response(content, f"surat-penolakan-{p.tracking_code}")
