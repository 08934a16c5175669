"""HAYU's JSON API: thin routes, one domain call each."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Header, Query, Request, UploadFile
from fastapi import Path as FastPath
from fastapi.responses import JSONResponse, Response

from hayu import (
    accounts,
    applications,
    certificates,
    decisions,
    documents,
    filings,
    lkpm,
    oss,
    oversight,
    reference,
    tracking,
    transitions,
)
from hayu.dependencies import ApplicationId, ContextDep, DocumentId
from hayu.schemas import (
    AccountRead,
    ApplicationCreate,
    ApplicationCreated,
    ApplicationPage,
    ApplicationRead,
    AuditFindingCreate,
    AuditFindingRead,
    AuditSampleCreate,
    AuditSampleRead,
    CertificateTokenRead,
    DocumentRead,
    FilingDecisionRead,
    FilingFacts,
    KbliRead,
    LkpmDueRead,
    OssNibPush,
    OssOutboxRead,
    PermitTypeRead,
    RegionRead,
    RegisterCreate,
    StatsRead,
    TrackRead,
    TransitionCreate,
    VerificationKeyRead,
    VerifyRead,
)
from shared.auth import CurrentPrincipal, Principal, require_roles
from shared.db import SessionDep, standalone_runner
from shared.idempotency import IdempotencyDep
from shared.pagination import CursorQuery, LimitQuery
from shared.problems import problem_responses

router = APIRouter(prefix="/api/v1", tags=["hayu"])

OwnerDep = Annotated[Principal, Depends(require_roles("business_owner"))]
UploaderDep = Annotated[Principal, Depends(require_roles("business_owner", "officer", "inspector"))]
SamplerDep = Annotated[Principal, Depends(require_roles("officer", "admin"))]


@router.get("/permit-types", response_model=list[PermitTypeRead])
async def list_permit_types(ctx: ContextDep) -> list[PermitTypeRead]:
    """The regency's permit type catalogue."""
    return [
        PermitTypeRead(
            **p.model_dump(exclude={"required_documents"}),
            required_documents=[d.model_dump() for d in p.required_documents],
        )
        for p in ctx.hayu.permit_types
    ]


@router.get("/kbli", response_model=list[KbliRead])
async def search_kbli(
    session: SessionDep,
    q: Annotated[str, Query(max_length=100, description="code prefix or words of the title")] = "",
    limit: LimitQuery = 20,
) -> list[KbliRead]:
    """Search the imported KBLI 2020 list by code prefix or title."""
    rows = await reference.search_kbli(session, q, limit)
    return [KbliRead(code=r.code, title=r.title, category=r.category) for r in rows]


@router.get("/regions", response_model=list[RegionRead])
async def search_regions(
    session: SessionDep,
    ctx: ContextDep,
    q: Annotated[str, Query(max_length=100, description="code prefix or part of the name")] = "",
    limit: LimitQuery = 20,
) -> list[RegionRead]:
    """Search the imported region codes inside this regency."""
    rows = await reference.search_regions(session, q, ctx.config.regency.code, limit)
    return [RegionRead(code=r.code, name=r.name, level=r.level) for r in rows]


@router.post(
    "/auth/register",
    status_code=201,
    response_model=AccountRead,
    responses=problem_responses(409, 422),
)
async def register_owner(
    request: Request, data: RegisterCreate, session: SessionDep, idem: IdempotencyDep
) -> JSONResponse:
    """Create a business owner account (with an e-mail, a verification link is mailed)."""
    account = await accounts.register_owner(session, data, request.app.state)
    return await idem.respond(account, 201)


@router.get("/filing-decision", response_model=FilingDecisionRead, responses=problem_responses(422))
async def filing_decision(
    session: SessionDep, ctx: ContextDep, facts: Annotated[FilingFacts, Query()]
) -> FilingDecisionRead:
    """Tell, before filing, whether the business will be registered at once or must apply: the
    checks a filing runs, on the facts given (`kbli_codes` may repeat; all but the permit type
    and capital are optional)."""
    return await decisions.filing_decision(session, ctx, facts)


@router.post(
    "/applications",
    status_code=201,
    response_model=ApplicationCreated,
    responses=problem_responses(401, 403, 409, 422),
)
async def file_application(
    data: ApplicationCreate,
    session: SessionDep,
    ctx: ContextDep,
    principal: OwnerDep,
    idem: IdempotencyDep,
) -> JSONResponse:
    """File a business: registered at once below the threshold, else a permit application."""
    created, stored = await filings.file_and_record(
        session, ctx, principal, data, idem, standalone=standalone_runner(session)
    )
    if stored:  # the idempotency record was written (and committed) by the filing statement
        return JSONResponse(created.model_dump(mode="json"), status_code=201)
    return await idem.respond(created, 201)


@router.get(
    "/applications",
    response_model=ApplicationPage,
    responses=problem_responses(400, 401, 403),
)
async def list_applications(
    session: SessionDep,
    ctx: ContextDep,
    principal: CurrentPrincipal,
    status: Annotated[str | None, Query(max_length=64)] = None,
    permit_type_code: Annotated[str | None, Query(max_length=32)] = None,
    overdue: bool | None = None,
    owner_nik: Annotated[str | None, Query(max_length=16, min_length=16)] = None,
    limit: LimitQuery = 20,
    cursor: CursorQuery = None,
) -> ApplicationPage:
    """Applications, newest first: staff see all, a business owner their own."""
    items, next_cursor = await applications.list_applications(
        session,
        ctx,
        principal,
        status=status,
        permit_type_code=permit_type_code,
        overdue=overdue,
        owner_nik=owner_nik,
        limit=limit,
        cursor=cursor,
    )
    return ApplicationPage(items=items, next_cursor=next_cursor)


@router.get(
    "/applications/{application_id}",
    response_model=ApplicationRead,
    responses=problem_responses(401, 403, 404),
)
async def read_application(
    application_id: ApplicationId,
    session: SessionDep,
    ctx: ContextDep,
    principal: CurrentPrincipal,
    reveal_personal_data: Annotated[
        bool, Query(description="officers and auditors: show NIK and phone (audited)")
    ] = False,
) -> ApplicationRead:
    """One application with its business, checklist, documents and the actions open to you."""
    return await applications.read_application(
        session,
        ctx,
        principal,
        application_id,
        reveal_personal_data=reveal_personal_data,
    )


@router.post(
    "/applications/{application_id}/documents",
    status_code=201,
    response_model=DocumentRead,
    responses=problem_responses(401, 403, 404, 409, 413, 415, 422),
)
async def upload_document(
    application_id: ApplicationId,
    session: SessionDep,
    ctx: ContextDep,
    principal: UploaderDep,
    checklist_item: Annotated[str, Form(max_length=40)],
    file: Annotated[UploadFile, File(description="PDF, JPEG or PNG")],
) -> DocumentRead:
    """Upload one checklist document (PDF, JPEG or PNG, checked by content)."""
    return await documents.upload_file(
        session, ctx, principal, application_id, checklist_item, file
    )


@router.get(
    "/applications/{application_id}/documents/{document_id}",
    response_class=Response,
    responses={
        200: {"content": {"application/pdf": {}, "image/png": {}, "image/jpeg": {}}},
        **problem_responses(401, 404),
    },
)
async def download_document(
    application_id: ApplicationId,
    document_id: DocumentId,
    session: SessionDep,
    ctx: ContextDep,
    principal: CurrentPrincipal,
) -> Response:
    """An uploaded document, for its applicant and the file's officials (audited)."""
    found = await documents.open_document(session, ctx, principal, application_id, document_id)
    return Response(
        found.content, media_type=found.content_type, headers=documents.download_headers(found)
    )


@router.post(
    "/applications/{application_id}/transitions",
    response_model=ApplicationRead,
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def apply_transition(
    application_id: ApplicationId,
    data: TransitionCreate,
    session: SessionDep,
    ctx: ContextDep,
    principal: CurrentPrincipal,
) -> ApplicationRead:
    """Move an application by a workflow action (wrong state 409, wrong role 403)."""
    return await transitions.apply_transition(session, ctx, principal, application_id, data)


@router.get(
    "/public/track/{tracking_code}", response_model=TrackRead, responses=problem_responses(404)
)
async def track(tracking_code: str, session: SessionDep, ctx: ContextDep) -> TrackRead:
    """Where a file is, who holds it and how long each stage took (no personal data)."""
    return await tracking.track(session, ctx, tracking_code)


@router.get(
    "/permits/{number:path}/certificate.pdf",
    response_class=Response,
    responses={
        200: {"content": {"application/pdf": {}}, "description": "The certificate"},
        **problem_responses(401, 404, 409),
    },
)
async def certificate_pdf(
    number: str, session: SessionDep, ctx: ContextDep, principal: CurrentPrincipal
) -> Response:
    """The certificate PDF with its signed QR code (holder and officers)."""
    pdf = await certificates.certificate_pdf(session, ctx, principal, number)
    filename = "sertifikat-" + "".join(c if c.isalnum() else "-" for c in number) + ".pdf"
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{filename}"'},
    )


@router.get(
    "/permits/{number:path}/qr",
    response_model=CertificateTokenRead,
    responses=problem_responses(401, 404),
)
async def certificate_qr(
    number: str, session: SessionDep, ctx: ContextDep, principal: CurrentPrincipal
) -> CertificateTokenRead:
    """The signed token and URL the certificate's QR code carries (holder and officers)."""
    token, url = await certificates.certificate_token_for(session, ctx, principal, number)
    return CertificateTokenRead(number=number, token=token, url=url)


@router.get(
    "/public/verify/{number:path}", response_model=VerifyRead, responses=problem_responses(404)
)
async def verify_certificate(
    number: str,
    session: SessionDep,
    ctx: ContextDep,
    t: Annotated[str | None, Query(max_length=2000, description="the QR token, if scanned")] = None,
) -> VerifyRead:
    """Check a certificate by its number (and the QR token, if given)."""
    return await certificates.verify_number(session, ctx, number, t)


@router.get("/public/verification-key", response_model=VerificationKeyRead)
async def verification_key(ctx: ContextDep) -> VerificationKeyRead:
    """The Ed25519 public key that checks certificate QR codes offline."""
    return VerificationKeyRead(key_id=ctx.signer.key_id(), public_key=ctx.signer.public_key_b64())


@router.post(
    "/self-reports/audit-sample",
    status_code=201,
    response_model=AuditSampleRead,
    responses=problem_responses(401, 403, 422),
)
async def draw_audit_sample(
    data: AuditSampleCreate,
    session: SessionDep,
    ctx: ContextDep,
    principal: SamplerDep,
    idem: IdempotencyDep,
) -> JSONResponse:
    """Draw and record a random sample of self-reports for post-audit."""
    sample = await oversight.draw_audit_sample(session, ctx, principal, data.percent)
    return await idem.respond(sample, 201)


@router.post(
    "/self-reports/audit-samples/{sample_id}/findings",
    status_code=201,
    response_model=AuditFindingRead,
    responses=problem_responses(401, 403, 409, 422),
)
async def record_audit_finding(
    sample_id: Annotated[int, FastPath(ge=1, le=2**63 - 1)],
    data: AuditFindingCreate,
    session: SessionDep,
    ctx: ContextDep,
    principal: SamplerDep,
) -> AuditFindingRead:
    """Record the post-audit outcome, findings and follow-up of one sampled registration."""
    return await oversight.record_finding(session, ctx, principal, sample_id, data)


@router.get("/public/stats", response_model=StatsRead)
async def public_stats(session: SessionDep, ctx: ContextDep) -> StatsRead:
    """Per permit type: counts, median and 90th percentile working days, share within SLA."""
    return await oversight.public_stats(session, ctx)


AdminDep = Annotated[Principal, Depends(require_roles("admin"))]


@router.post(
    "/oss/receive-nib",
    responses=problem_responses(401, 422),
)
async def oss_receive_nib(
    data: OssNibPush,
    session: SessionDep,
    ctx: ContextDep,
    authorization: Annotated[str | None, Header()] = None,
) -> dict[str, str]:
    """OSS-RBA pushes a NIB (receiveNIB): stored to prefill the business's filing."""
    oss.check_inbound_token(ctx, authorization)
    await oss.receive_nib(session, ctx, data.model_dump(mode="json"))
    return {"status": "received", "nib": data.nib}


@router.get(
    "/oss/outbox",
    response_model=list[OssOutboxRead],
    responses=problem_responses(401, 403),
)
async def oss_outbox(
    session: SessionDep,
    principal: AdminDep,
    dead: bool = False,
    limit: LimitQuery = 20,
) -> list[OssOutboxRead]:
    """Status messages for OSS, newest first; `dead=true`: the dead-letter list."""
    rows = await oss.list_outbox(session, dead=dead, limit=limit)
    return [OssOutboxRead.model_validate(r) for r in rows]


@router.get("/lkpm/due", response_model=list[LkpmDueRead], responses=problem_responses(401, 403))
async def lkpm_due(
    session: SessionDep,
    ctx: ContextDep,
    principal: SamplerDep,
    on: dt.date | None = None,
) -> list[LkpmDueRead]:
    """Businesses whose LKPM reporting window is open on `on` (default today): the reminder list."""
    day = on or ctx.today
    return await lkpm.due_on(session, ctx, day)
