"""Uploaded documents (checked by content, stored content-addressed) and generated PDFs with QR."""

from __future__ import annotations

import hashlib
from pathlib import Path

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.concurrency import run_in_threadpool

from sabilulungan import errors
from sabilulungan.domain import get_proposal
from sabilulungan.models import AuditEvent, Document, IssuedDocument, Proposal
from sabilulungan.public import decree_annex_rows, find_issued
from sabilulungan.runtime import Runtime
from sabilulungan.schemas import DocumentRead, VerificationRead
from shared.audit import record_event
from shared.auth import Principal
from shared.db import utcnow
from shared.money import format_rupiah, terbilang
from shared.signing import SignatureError, verify_payload
from shared.uploads import MAX_PIXELS, image_pixels, is_plain_filename, sniff


def media_type_of(content: bytes) -> str:
    media_type = sniff(content)
    if media_type is not None:
        return media_type
    raise errors.UnsupportedFileError(
        "Only PDF, JPEG and PNG files are accepted (checked by content)"
    )


def _store(upload_dir: Path, digest: str, content: bytes) -> None:
    target = upload_dir / digest[:2] / digest
    if target.exists():
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".part")
    tmp.write_bytes(content)
    tmp.replace(target)


async def upload_document(
    session: AsyncSession,
    rt: Runtime,
    principal: Principal,
    proposal_id: int,
    *,
    checklist_item: str,
    filename: str,
    content: bytes,
) -> DocumentRead:
    proposal = await get_proposal(session, principal, proposal_id)
    officer = bool(principal.roles & {"clerk", "admin"})
    if not officer and proposal.owner_id != principal.account_id:
        raise errors.NotYourProposalError("Only the applicant or Tata Usaha may upload documents")
    if checklist_item not in rt.config.checklist_items:
        raise errors.UnknownChecklistItemError(
            f"'{checklist_item}' is not a checklist item; use one of: "
            + ", ".join(rt.config.checklist_items),
            allowed=list(rt.config.checklist_items),
        )
    if len(content) > rt.upload_max_bytes:
        raise errors.FileTooLargeError(
            f"The file is larger than the limit of {rt.upload_max_bytes} bytes"
        )
    if not content:
        raise errors.UnsupportedFileError("The file is empty")
    if filename and not is_plain_filename(filename):
        raise errors.UploadNameError(
            "The file name must be a plain name without folders or control characters"
        )
    media_type = media_type_of(content)
    pixels = image_pixels(content, media_type)
    if pixels is not None and pixels > MAX_PIXELS:
        raise errors.UploadImageTooLargeError(
            f"The image has {pixels:,} pixels; at most {MAX_PIXELS:,} are accepted"
        )
    digest = hashlib.sha256(content).hexdigest()
    await run_in_threadpool(_store, rt.upload_dir, digest, content)
    now = utcnow()
    safe_name = Path(filename or "berkas").name[:200]
    doc_id = (
        await session.execute(
            insert(Document)
            .values(
                proposal_id=proposal.id,
                checklist_item=checklist_item,
                filename=safe_name,
                content_type=media_type,
                size_bytes=len(content),
                sha256=digest,
                uploaded_by=principal.username,
                uploaded_at=now,
            )
            .returning(Document.id)
        )
    ).scalar_one()
    await record_event(
        session,
        AuditEvent,
        actor=principal,
        action="document.uploaded",
        entity_type="proposal",
        entity_id=proposal.id,
        after={"document_id": doc_id, "item": checklist_item, "sha256": digest},
    )
    return DocumentRead(
        id=doc_id,
        proposal_id=proposal.id,
        checklist_item=checklist_item,
        filename=safe_name,
        content_type=media_type,
        size_bytes=len(content),
        sha256=digest,
        uploaded_at=now,
    )


async def list_documents(
    session: AsyncSession, principal: Principal, proposal_id: int
) -> list[DocumentRead]:
    proposal = await get_proposal(session, principal, proposal_id)
    rows = (
        await session.execute(
            select(Document).where(Document.proposal_id == proposal.id).order_by(Document.id)
        )
    ).scalars()
    return [_document_read(d) for d in rows]


def _document_read(d: Document) -> DocumentRead:
    return DocumentRead(
        id=d.id,
        proposal_id=d.proposal_id,
        checklist_item=d.checklist_item,
        filename=d.filename,
        content_type=d.content_type,
        size_bytes=d.size_bytes,
        sha256=d.sha256,
        uploaded_at=d.uploaded_at,
    )


async def read_document(
    session: AsyncSession, rt: Runtime, principal: Principal, proposal_id: int, document_id: int
) -> tuple[DocumentRead, bytes]:
    """An uploaded file; documents hold KTPs and bank statements, so every reading is audited."""
    proposal = await get_proposal(session, principal, proposal_id)
    doc = (
        await session.execute(
            select(Document).where(Document.id == document_id, Document.proposal_id == proposal.id)
        )
    ).scalar_one_or_none()
    if doc is None:
        raise errors.DocumentNotFoundError(f"Proposal {proposal_id} has no document {document_id}")
    path = rt.upload_dir / doc.sha256[:2] / doc.sha256
    try:
        content = await run_in_threadpool(path.read_bytes)
    except FileNotFoundError:
        raise errors.DocumentNotFoundError(
            "The stored file is missing from the upload volume; ask the administrator"
        ) from None
    await record_event(
        session,
        AuditEvent,
        actor=principal,
        action="document.read",
        entity_type="proposal",
        entity_id=proposal.id,
        after={"document_id": doc.id, "item": doc.checklist_item},
    )
    return _document_read(doc), content


def verify_url(rt: Runtime, base_url: str, doc: IssuedDocument) -> str:
    token = rt.signer.sign_payload(
        {
            "n": doc.number,
            "t": doc.doc_type,
            "a": doc.amount_idr,
            "y": doc.fiscal_year,
            "k": rt.signer.key_id(),
        }
    )
    base = rt.public_url or base_url.rstrip("/")
    return f"{base}/verify/{doc.number}?t={token}"


def signature_valid(rt: Runtime, number: str, token: str | None) -> bool | None:
    """Whether the QR's signed token was made by this service for this document (None: no token)."""
    if not token:
        return None
    try:
        payload = verify_payload(token, rt.signer.public_key_b64())
    except (SignatureError, ValueError):
        return False
    return payload.get("n") == number


async def verification(
    session: AsyncSession, rt: Runtime, number: str, token: str | None = None
) -> VerificationRead:
    doc, proposal = await find_issued(session, number)
    return VerificationRead(
        signature_valid=signature_valid(rt, doc.number, token),
        valid=True,
        document_number=doc.number,
        doc_type=doc.doc_type,
        official_number=doc.official_number,
        fiscal_year=doc.fiscal_year,
        kind=doc.kind,
        tracking_code=proposal.tracking_code if proposal else None,
        recipient_name=proposal.applicant_name if proposal else None,
        amount_idr=doc.amount_idr,
        issued_date=doc.issued_at.date(),
    )


def _can_download(doc: IssuedDocument, proposal: Proposal | None, principal: Principal) -> bool:
    if principal.roles & {"clerk", "coordinator", "tapd", "head", "finance", "auditor", "admin"}:
        return True
    return proposal is not None and proposal.owner_id == principal.account_id


async def document_pdf(
    session: AsyncSession, rt: Runtime, principal: Principal, number: str, base_url: str
) -> bytes:
    from shared.documents import build_pdf  # reportlab loads on first use

    doc, proposal = await find_issued(session, number)
    if not _can_download(doc, proposal, principal):
        raise errors.DocumentNotFoundError(f"No valid document has the number {number}")
    qr = verify_url(rt, base_url, doc)
    letterhead = [f"PEMERINTAH {rt.regency_name.upper()}"]
    site = rt.public_url or base_url.rstrip("/")
    footer = f"Dokumen {doc.number} · verifikasi: {site}/verify/{doc.number}"
    if doc.doc_type == "nphd" and proposal is not None:
        return await run_in_threadpool(
            lambda: build_pdf(
                title="NASKAH PERJANJIAN HIBAH DAERAH (NPHD)",
                subtitle=f"Nomor {doc.official_number}",
                rows=[
                    ("Nomor dokumen", doc.number),
                    ("Nomor Keputusan", proposal.decree_number or "—"),
                    ("Penerima hibah", proposal.applicant_name),
                    ("Nomor badan hukum", proposal.legal_entity_number or "—"),
                    ("Alamat penerima", proposal.public_address or "—"),
                    ("Tahun anggaran", str(proposal.fiscal_year)),
                    ("Jumlah hibah", format_rupiah(doc.amount_idr)),
                    ("Terbilang", terbilang(doc.amount_idr)),
                    ("Kode pelacakan", proposal.tracking_code),
                ],
                paragraphs=[
                    f"Hibah diberikan untuk: {proposal.purpose}",
                    "Penerima hibah wajib menggunakan dana sesuai rencana anggaran biaya, tidak "
                    "mengalihkannya kepada pihak lain, dan menyampaikan laporan "
                    "pertanggungjawaban (LPJ) kepada kepala daerah paling lambat tanggal 10 "
                    f"Januari {proposal.fiscal_year + 1}.",
                    "Penyalahgunaan dana hibah dikenai sanksi sesuai ketentuan peraturan "
                    "perundang-undangan.",
                ],
                qr_data=qr,
                footer=footer,
                letterhead=letterhead,
            )
        )
    rows = await decree_annex_rows(session, doc.official_number, doc.fiscal_year)
    table = [["No", "Kode", "Jenis", "Penerima", "Jumlah"]] + [
        [
            str(i),
            r.tracking_code,
            r.kind,
            r.applicant_name,
            format_rupiah(r.approved_amount_idr or 0),
        ]
        for i, r in enumerate(rows, start=1)
    ]
    return await run_in_threadpool(
        lambda: build_pdf(
            title=rt.config.decree_annex_title.upper(),
            subtitle=f"Keputusan Nomor {doc.official_number} · Tahun Anggaran {doc.fiscal_year}",
            rows=[
                ("Nomor dokumen", doc.number),
                ("Jumlah penerima", str(len(rows))),
                ("Jumlah seluruhnya", format_rupiah(doc.amount_idr)),
                ("Terbilang", terbilang(doc.amount_idr)),
            ],
            table=table,
            paragraphs=[],
            qr_data=qr,
            footer=footer,
            letterhead=letterhead,
        )
    )


async def nphd_number(session: AsyncSession, principal: Principal, proposal_id: int) -> str:
    proposal = await get_proposal(session, principal, proposal_id)
    if not proposal.agreement_number:
        raise errors.DocumentNotAvailableError("The NPHD of this proposal has not been signed yet")
    return f"NPHD-{proposal.tracking_code}"
