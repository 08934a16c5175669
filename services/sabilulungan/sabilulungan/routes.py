"""SABILULUNGAN's JSON API."""

from __future__ import annotations

import csv
import io
import re
from typing import Annotated, Literal

from fastapi import APIRouter, File, Form, Path, Query, Request, UploadFile
from fastapi.responses import JSONResponse, Response

from sabilulungan import (
    accounts,
    budgets,
    documents,
    issued,
    proposals,
    public,
    submission,
    transitions,
)
from sabilulungan.dependencies import (
    MAX_ID,
    Applicant,
    BudgetSetter,
    ContextDep,
    DecreeIssuer,
    FiscalYear,
    ProposalId,
    Reviewer,
    base_url,
)
from sabilulungan.models import Budget
from sabilulungan.schemas import (
    ApplicantRead,
    BudgetCreate,
    BudgetRead,
    BudgetUpdate,
    DataDictionaryRead,
    DecreeAnnexCreate,
    DictionaryField,
    DocumentRead,
    FlagsRead,
    IssuedDocumentRead,
    LedgerPage,
    LedgerRow,
    ProposalCreate,
    ProposalPage,
    ProposalRead,
    PublicBudgetRead,
    RegisterCreate,
    RegisterRead,
    TrackRead,
    TransitionCreate,
    VerificationRead,
)
from shared.auth import CurrentPrincipal
from shared.db import SessionDep, standalone_runner
from shared.idempotency import IdempotencyDep
from shared.pagination import CursorQuery, LimitQuery
from shared.problems import problem_responses
from shared.rows import read_model

router = APIRouter(prefix="/api/v1", tags=["sabilulungan"])
public_router = APIRouter(prefix="/api/v1/public", tags=["public"])


KindQuery = Annotated[Literal["hibah", "bansos"] | None, Query()]


@router.post(
    "/auth/register",
    status_code=201,
    response_model=RegisterRead,
    responses=problem_responses(409, 422),
    tags=["auth"],
)
async def register(
    request: Request, data: RegisterCreate, session: SessionDep, idem: IdempotencyDep
) -> Response:
    """Create an applicant account (with an e-mail, a verification link is mailed)."""
    account = await accounts.register_applicant(session, data, request.app.state)
    return await idem.respond(RegisterRead(username=account.username, roles=account.roles), 201)


def _budget_read(b: Budget) -> BudgetRead:
    return read_model(BudgetRead, b, remaining_idr=b.ceiling_idr - b.approved_idr)


@router.post(
    "/budgets",
    status_code=201,
    response_model=BudgetRead,
    responses=problem_responses(401, 403, 409, 422),
)
async def create_budget(
    data: BudgetCreate, principal: BudgetSetter, session: SessionDep, idem: IdempotencyDep
) -> Response:
    """Set the ceiling of a fiscal year and kind (TAPD)."""
    b = await budgets.create_budget(session, principal, data)
    return await idem.respond(_budget_read(b), 201)


@router.put(
    "/budgets/{fiscal_year}/{kind}",
    response_model=BudgetRead,
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def change_ceiling(
    fiscal_year: FiscalYear,
    kind: Literal["hibah", "bansos"],
    data: BudgetUpdate,
    principal: BudgetSetter,
    session: SessionDep,
) -> BudgetRead:
    """Change a ceiling (APBD Perubahan), never below the approved total (TAPD)."""
    b = await budgets.change_ceiling(session, principal, fiscal_year, kind, data.ceiling_idr)
    return _budget_read(b)


@router.post(
    "/proposals",
    status_code=201,
    response_model=ProposalRead,
    responses=problem_responses(401, 403, 409, 422),
)
async def create_proposal(
    data: ProposalCreate,
    principal: Applicant,
    session: SessionDep,
    ctx: ContextDep,
    idem: IdempotencyDep,
) -> Response:
    """Submit a hibah or bansos proposal."""
    # One write stores the proposal, its children, the audit event and the idempotency record,
    # on PostgreSQL as one statement committed on its own (`standalone_runner`).
    body = await submission.submit_proposal(
        session, ctx, principal, data, idem, standalone=standalone_runner(session)
    )
    return JSONResponse(body, status_code=201)


@router.get(
    "/proposals",
    response_model=ProposalPage,
    responses=problem_responses(400, 401),
)
async def list_proposals(
    principal: CurrentPrincipal,
    session: SessionDep,
    ctx: ContextDep,
    fiscal_year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
    kind: KindQuery = None,
    status: Annotated[str | None, Query(max_length=64)] = None,
    opd_code: Annotated[str | None, Query(max_length=64)] = None,
    limit: LimitQuery = 20,
    cursor: CursorQuery = None,
) -> ProposalPage:
    """Proposals the caller may see, newest first."""
    items, next_cursor = await proposals.list_proposals(
        session,
        ctx,
        principal,
        fiscal_year=fiscal_year,
        kind=kind,
        status=status,
        opd_code=opd_code,
        limit=limit,
        cursor=cursor,
    )
    return ProposalPage(items=items, next_cursor=next_cursor)


@router.get(
    "/proposals/{proposal_id}",
    response_model=ProposalRead,
    responses=problem_responses(401, 404),
)
async def read_proposal(
    proposal_id: ProposalId, principal: CurrentPrincipal, session: SessionDep, ctx: ContextDep
) -> ProposalRead:
    """One proposal, personal data masked."""
    return await proposals.read_proposal(session, ctx, principal, proposal_id)


@router.get(
    "/proposals/{proposal_id}/personal-data",
    response_model=ApplicantRead,
    responses=problem_responses(401, 403, 404),
)
async def read_personal_data(
    proposal_id: ProposalId, principal: CurrentPrincipal, session: SessionDep, ctx: ContextDep
) -> ApplicantRead:
    """The applicant's personal data in clear (audited; clerk, OPD, finance, auditor)."""
    return await proposals.reveal_personal_data(session, ctx, principal, proposal_id)


@router.post(
    "/proposals/{proposal_id}/transitions",
    response_model=ProposalRead,
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def transition_proposal(
    proposal_id: ProposalId,
    data: TransitionCreate,
    principal: CurrentPrincipal,
    session: SessionDep,
    ctx: ContextDep,
) -> ProposalRead:
    """Take a workflow action on a proposal."""
    return await transitions.apply_transition(session, ctx, principal, proposal_id, data)


@router.get(
    "/proposals/{proposal_id}/flags",
    response_model=FlagsRead,
    responses=problem_responses(401, 403, 404),
)
async def read_flags(
    proposal_id: ProposalId, principal: Reviewer, session: SessionDep, ctx: ContextDep
) -> FlagsRead:
    """Integrity flags for reviewers and auditors."""
    flags = await proposals.proposal_flags(session, ctx, principal, proposal_id)
    return FlagsRead(proposal_id=proposal_id, flags=flags)


@router.post(
    "/proposals/{proposal_id}/documents",
    status_code=201,
    response_model=DocumentRead,
    responses=problem_responses(401, 403, 404, 413, 415, 422),
)
async def upload_document(
    proposal_id: ProposalId,
    item: Annotated[str, Form(max_length=64, description="checklist item name")],
    file: Annotated[UploadFile, File()],
    principal: CurrentPrincipal,
    session: SessionDep,
    ctx: ContextDep,
) -> DocumentRead:
    """Upload a document for one checklist item (PDF, JPEG or PNG)."""
    return await documents.upload_file(
        session, ctx, principal, proposal_id, checklist_item=item, file=file
    )


@router.get(
    "/proposals/{proposal_id}/documents",
    response_model=list[DocumentRead],
    responses=problem_responses(401, 404),
)
async def list_documents(
    proposal_id: ProposalId, principal: CurrentPrincipal, session: SessionDep
) -> list[DocumentRead]:
    """The documents uploaded for a proposal."""
    return await documents.list_documents(session, principal, proposal_id)


@router.get(
    "/proposals/{proposal_id}/documents/{document_id}",
    response_class=Response,
    responses={
        200: {"content": {"application/pdf": {}, "image/jpeg": {}, "image/png": {}}},
        **problem_responses(401, 404),
    },
)
async def download_document(
    proposal_id: ProposalId,
    document_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    principal: CurrentPrincipal,
    session: SessionDep,
    ctx: ContextDep,
) -> Response:
    """One uploaded file (the reading is audited)."""
    doc, content = await documents.read_document(session, ctx, principal, proposal_id, document_id)
    return Response(
        content,
        media_type=doc.content_type,
        headers={"Content-Disposition": content_disposition(doc.filename, doc.content_type)},
    )


_EXTENSIONS = {"application/pdf": ".pdf", "image/jpeg": ".jpg", "image/png": ".png"}


def content_disposition(filename: str, content_type: str) -> str:
    """The original name (ASCII-safe) with the extension its content has."""
    ext = _EXTENSIONS.get(content_type, "")
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", filename.rsplit(".", 1)[0])[:150] or "berkas"
    return f'attachment; filename="{stem}{ext}"'


@router.get(
    "/proposals/{proposal_id}/nphd.pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}, **problem_responses(401, 404, 409)},
)
async def nphd_pdf(
    proposal_id: ProposalId,
    request: Request,
    principal: CurrentPrincipal,
    session: SessionDep,
    ctx: ContextDep,
) -> Response:
    """The signed grant agreement (NPHD) as a PDF with a verification QR."""
    number = await issued.nphd_number(session, principal, proposal_id)
    pdf = await issued.document_pdf(session, ctx, principal, number, base_url(request))
    return Response(pdf, media_type="application/pdf")


@router.post(
    "/decrees/annex",
    status_code=201,
    response_model=IssuedDocumentRead,
    responses=problem_responses(401, 403, 409, 422),
)
async def issue_decree_annex(
    data: DecreeAnnexCreate,
    request: Request,
    principal: DecreeIssuer,
    session: SessionDep,
    ctx: ContextDep,
    idem: IdempotencyDep,
) -> Response:
    """Issue the verifiable annex of a decree: every recipient and amount approved under it."""
    doc = await issued.issue_decree_annex(
        session, ctx, principal, decree_number=data.decree_number, fiscal_year=data.fiscal_year
    )
    read = read_model(
        IssuedDocumentRead,
        doc,
        verify_url=issued.verify_url(ctx, base_url(request), doc),
        pdf_url=f"{base_url(request)}/api/v1/documents/{doc.number}.pdf",
    )
    return await idem.respond(read, 201)


@router.get(
    "/documents/{document_number}.pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}, **problem_responses(401, 404)},
)
async def issued_pdf(
    document_number: Annotated[str, Path(max_length=64)],
    request: Request,
    principal: CurrentPrincipal,
    session: SessionDep,
    ctx: ContextDep,
) -> Response:
    """A generated document (NPHD or decree annex) as a PDF."""
    pdf = await issued.document_pdf(session, ctx, principal, document_number, base_url(request))
    return Response(pdf, media_type="application/pdf")


# ------------------------------------------------------------------------------------------------
# Public (no login, no personal data)
# ------------------------------------------------------------------------------------------------


@public_router.get("/budgets/{fiscal_year}", response_model=PublicBudgetRead)
async def read_public_budget(
    fiscal_year: FiscalYear, session: SessionDep, ctx: ContextDep
) -> PublicBudgetRead:
    """Per kind: ceiling, proposed, recommended, approved, disbursed, reported, refunded,
    released and remaining."""
    return await budgets.public_budget(session, ctx, fiscal_year)


@public_router.get(
    "/track/{tracking_code}", response_model=TrackRead, responses=problem_responses(404)
)
async def track_proposal(
    tracking_code: Annotated[str, Path(max_length=40)], session: SessionDep, ctx: ContextDep
) -> TrackRead:
    """Status, current desk and stage timeline of a proposal, by tracking code."""
    return await public.track(session, ctx, tracking_code)


@public_router.get("/proposals", response_model=LedgerPage, responses=problem_responses(400))
async def read_ledger(
    session: SessionDep,
    ctx: ContextDep,
    fiscal_year: Annotated[int, Query(ge=2000, le=2100)],
    kind: KindQuery = None,
    limit: LimitQuery = 20,
    cursor: CursorQuery = None,
) -> LedgerPage:
    """The public ledger of a fiscal year (no NIK, bank account or individual's address)."""
    items, next_cursor = await public.ledger_page(
        session, ctx, fiscal_year=fiscal_year, kind=kind, limit=limit, cursor=cursor
    )
    return LedgerPage(items=items, next_cursor=next_cursor)


@public_router.get(
    "/proposals.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}}},
)
async def read_ledger_csv(
    session: SessionDep,
    ctx: ContextDep,
    fiscal_year: Annotated[int, Query(ge=2000, le=2100)],
    kind: KindQuery = None,
) -> Response:
    """The public ledger of a fiscal year as CSV (open data)."""
    rows = await public.ledger_all(session, ctx, fiscal_year=fiscal_year, kind=kind)
    out = io.StringIO()
    writer = csv.writer(out)
    fields = list(LedgerRow.model_fields)
    writer.writerow(fields)
    for row in rows:
        data = row.model_dump()
        writer.writerow(["" if data[f] is None else public.csv_safe(data[f]) for f in fields])
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="sabilulungan-{fiscal_year}.csv"'},
    )


DICTIONARY = DataDictionaryRead(
    dataset="Sabilulungan: usulan hibah dan bansos per tahun anggaran",
    license="CC BY 4.0",
    privacy=(
        "Tidak memuat NIK, NPWP, nomor rekening, telepon, atau alamat perorangan; untuk penerima "
        "perorangan kode wilayah hanya sampai kecamatan, nama hanya setelah ditetapkan dalam "
        "Keputusan, dan kebutuhan (judul usulan) tidak pernah ditampilkan (UU 27/2022). Sel "
        "yang diawali = + - @, tab atau carriage return (CR) diberi tanda kutip agar tidak "
        "dijalankan sebagai rumus."
    ),
    fields=[
        DictionaryField(name="tracking_code", type="string", description="Kode pelacakan usulan"),
        DictionaryField(name="fiscal_year", type="integer", description="Tahun anggaran"),
        DictionaryField(name="kind", type="string", description="hibah atau bansos"),
        DictionaryField(
            name="recipient_type", type="string", description="individual atau organization"
        ),
        DictionaryField(
            name="recipient_name",
            type="string",
            description="Nama penerima; usulan ditolak atau dicabut tidak menyebut nama pemohon",
        ),
        DictionaryField(
            name="recipient_address",
            type="string|null",
            description="Alamat lembaga; kosong untuk perorangan",
        ),
        DictionaryField(
            name="region_code",
            type="string",
            description="Kode wilayah Kemendagri (perorangan: sampai kecamatan)",
        ),
        DictionaryField(name="title", type="string", description="Judul usulan"),
        DictionaryField(name="status", type="string", description="Tahap alur kerja saat ini"),
        DictionaryField(name="opd_code", type="string|null", description="OPD pengevaluasi"),
        DictionaryField(name="requested_idr", type="integer", description="Usulan (rupiah)"),
        DictionaryField(
            name="recommended_idr", type="integer|null", description="Rekomendasi OPD (rupiah)"
        ),
        DictionaryField(
            name="approved_idr", type="integer|null", description="Ditetapkan (rupiah)"
        ),
        DictionaryField(name="disbursed_idr", type="integer", description="Dicairkan (rupiah)"),
        DictionaryField(name="reported", type="boolean", description="LPJ sudah diserahkan"),
        DictionaryField(
            name="decree_number", type="string|null", description="Nomor Keputusan Kepala Daerah"
        ),
        DictionaryField(
            name="refunded_idr", type="integer", description="Sisa dana disetor ke Kas Daerah"
        ),
        DictionaryField(
            name="released_idr",
            type="integer",
            description="Jumlah ditetapkan yang tidak dicairkan dan dikembalikan ke pagu",
        ),
        DictionaryField(name="report_late", type="boolean", description="LPJ terlambat"),
    ],
)


@public_router.get("/data-dictionary", response_model=DataDictionaryRead)
async def read_data_dictionary() -> DataDictionaryRead:
    """What each column of the public ledger and CSV means."""
    return DICTIONARY


@public_router.get(
    "/verify/{document_number}",
    response_model=VerificationRead,
    responses=problem_responses(404),
)
async def verify_document(
    document_number: Annotated[str, Path(max_length=64)],
    session: SessionDep,
    ctx: ContextDep,
    t: Annotated[str | None, Query(max_length=2000, description="signed QR token")] = None,
) -> VerificationRead:
    """Whether a generated NPHD or decree annex is genuine, and what it says."""
    return await issued.verification(session, ctx, document_number, t)
