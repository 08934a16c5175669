"""The applicant's papers: the receipt (page and PDF) and the refusal letter (PDF)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from hayu import applications, letters
from hayu.dependencies import ApplicationId, ContextDep
from shared.auth import OptionalPrincipal
from shared.db import SessionDep
from shared.letters import pdf_response, receipt_pdf, refusal_pdf
from shared.web import render, root_of

router = APIRouter(include_in_schema=False)


def _login(request: Request) -> Response:
    from fastapi.responses import RedirectResponse

    return RedirectResponse(f"{root_of(request)}/login?next={request.url.path}", status_code=303)


@router.get("/berkas/{application_id}/tanda-terima")
async def receipt_page(
    request: Request,
    application_id: ApplicationId,
    session: SessionDep,
    ctx: ContextDep,
    principal: OptionalPrincipal,
) -> Response:
    if principal is None:
        return _login(request)
    found = await letters.receipt(session, ctx, principal, application_id, request.app.title)
    root = root_of(request)
    return render(
        request,
        "receipt.html",
        {
            "r": found,
            "track_path": f"{root}/lacak?kode={found.tracking_code}",
            "pdf_path": f"{root}/berkas/{application_id}/tanda-terima.pdf",
            "back_path": f"{root}/berkas/{application_id}",
        },
        principal=principal,
    )


@router.get("/berkas/{application_id}/tanda-terima.pdf")
async def receipt_download(
    request: Request,
    application_id: ApplicationId,
    session: SessionDep,
    ctx: ContextDep,
    principal: OptionalPrincipal,
) -> Response:
    if principal is None:
        return _login(request)
    found = await letters.receipt(session, ctx, principal, application_id, request.app.title)
    content = await run_in_threadpool(receipt_pdf, found, ctx.config.regency.timezone)
    return pdf_response(content, f"tanda-terima-{found.tracking_code}")


@router.get("/berkas/{application_id}/surat-penolakan.pdf")
async def refusal_download(
    request: Request,
    application_id: ApplicationId,
    session: SessionDep,
    ctx: ContextDep,
    principal: OptionalPrincipal,
) -> Response:
    if principal is None:
        return _login(request)
    a = await applications.read_application(session, ctx, principal, application_id)
    found = letters.refusal(ctx, a)
    if found is None:
        detail = "Berkas ini tidak ditolak; tidak ada surat penolakan."
        page = {"title": "Surat tidak tersedia", "detail": detail, "status": 404}
        return render(request, "error.html", page, status_code=404)
    content = await run_in_threadpool(
        lambda: refusal_pdf(
            found,
            service_title=request.app.title,
            regency_name=ctx.config.regency.name,
            track_url=letters.track_url(ctx, a.tracking_code),
        )
    )
    return pdf_response(content, f"surat-penolakan-{a.tracking_code}")
