"""The API of a file's papers: its receipt and, when refused, the refusal with the objection
route, as JSON and as PDF. The owner and staff only (as for the file itself)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from hayu import applications, letters
from hayu.dependencies import ApplicationId, ContextDep
from shared.auth import CurrentPrincipal
from shared.db import SessionDep
from shared.letters import (
    ReceiptRead,
    RefusalRead,
    pdf_response,
    receipt_pdf,
    receipt_read,
    refusal_pdf,
    refusal_read,
)
from shared.problems import problem_responses

router = APIRouter(prefix="/api/v1/applications", tags=["receipts"])
PDF_RESPONSES = {200: {"content": {"application/pdf": {}}}, **problem_responses(401, 403, 404)}


@router.get(
    "/{application_id}/receipt",
    response_model=ReceiptRead,
    responses=problem_responses(401, 403, 404),
)
async def get_receipt(
    request: Request,
    application_id: ApplicationId,
    session: SessionDep,
    ctx: ContextDep,
    principal: CurrentPrincipal,
) -> ReceiptRead:
    """The receipt (tanda terima): code, what was received, the desk holding it, the SLA date."""
    found = await letters.receipt(session, ctx, principal, application_id, request.app.title)
    return receipt_read(found)


@router.get("/{application_id}/receipt.pdf", response_class=Response, responses=PDF_RESPONSES)
async def get_receipt_pdf(
    request: Request,
    application_id: ApplicationId,
    session: SessionDep,
    ctx: ContextDep,
    principal: CurrentPrincipal,
) -> Response:
    """The receipt as a PDF to print."""
    found = await letters.receipt(session, ctx, principal, application_id, request.app.title)
    content = await run_in_threadpool(receipt_pdf, found, ctx.config.regency.timezone)
    return pdf_response(content, f"tanda-terima-{found.tracking_code}")


@router.get(
    "/{application_id}/refusal",
    response_model=RefusalRead,
    responses=problem_responses(401, 403, 404),
)
async def get_refusal(
    application_id: ApplicationId,
    session: SessionDep,
    ctx: ContextDep,
    principal: CurrentPrincipal,
) -> RefusalRead:
    """Why the file was refused and how, by when and to whom to object (404 `not-refused` for a
    file that was not)."""
    a = await applications.read_application(session, ctx, principal, application_id)
    return refusal_read(letters.refusal(ctx, a))


@router.get("/{application_id}/refusal.pdf", response_class=Response, responses=PDF_RESPONSES)
async def get_refusal_pdf(
    request: Request,
    application_id: ApplicationId,
    session: SessionDep,
    ctx: ContextDep,
    principal: CurrentPrincipal,
) -> Response:
    """The refusal letter as a PDF."""
    a = await applications.read_application(session, ctx, principal, application_id)
    found = letters.refusal(ctx, a)
    refusal_read(found)  # 404 when not refused
    assert found is not None
    content = await run_in_threadpool(
        lambda: refusal_pdf(
            found,
            service_title=request.app.title,
            regency_name=ctx.config.regency.name,
            track_url=letters.track_url(ctx, a.tracking_code),
        )
    )
    return pdf_response(content, f"surat-penolakan-{a.tracking_code}")
