"""Issued documents (NPHD, decree annex): issuing them, the PDFs an official signs, and the public
verification of their number and QR token."""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

from sqlalchemy import and_, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.concurrency import run_in_threadpool

from sabilulungan import errors
from sabilulungan.dependencies import Context
from sabilulungan.models import AuditEvent, BoardMember, BudgetLine, IssuedDocument, Proposal
from sabilulungan.proposals import get_proposal
from sabilulungan.public import LEDGER_COLUMNS
from sabilulungan.schemas import VerificationRead
from shared.audit import record_event
from shared.auth import Principal
from shared.money import format_rupiah, terbilang
from shared.signing import SignatureError, verify_payload


async def issue_document(
    session: AsyncSession,
    *,
    number: str,
    doc_type: str,
    proposal: Proposal | None,
    official_number: str,
    amount: int,
    now: dt.datetime,
    fiscal_year: int | None = None,
    kind: str | None = None,
) -> None:
    await session.execute(
        insert(IssuedDocument).values(
            number=number,
            doc_type=doc_type,
            proposal_id=proposal.id if proposal else None,
            fiscal_year=proposal.fiscal_year if proposal else fiscal_year,
            kind=proposal.kind if proposal else kind,
            official_number=official_number,
            amount_idr=amount,
            issued_at=now,
            revoked=False,
        )
    )


async def issue_decree_annex(
    session: AsyncSession,
    ctx: Context,
    principal: Principal,
    *,
    decree_number: str,
    fiscal_year: int,
) -> IssuedDocument:
    """Issue (once) the verifiable annex listing every proposal approved under a decree."""
    existing = (
        await session.execute(
            select(IssuedDocument).where(
                IssuedDocument.doc_type == "decree_annex",
                IssuedDocument.official_number == decree_number,
            )
        )
    ).scalar_one_or_none()
    if existing is not None:
        return existing
    total = await session.scalar(
        select(func.coalesce(func.sum(Proposal.approved_amount_idr), 0)).where(
            Proposal.decree_number == decree_number,
            Proposal.fiscal_year == fiscal_year,
            Proposal.status.not_in(ctx.not_recipient_states),
        )
    )
    if not total:
        raise errors.DocumentNotAvailableError(
            f"No proposal of fiscal year {fiscal_year} is approved under decree {decree_number}"
        )
    digest = hashlib.sha256(decree_number.encode()).hexdigest()[:10].upper()
    doc = IssuedDocument(
        number=f"KEP-{fiscal_year}-{digest}",
        doc_type="decree_annex",
        proposal_id=None,
        fiscal_year=fiscal_year,
        kind=None,
        official_number=decree_number,
        amount_idr=int(total),
        issued_at=ctx.now,
        revoked=False,
    )
    session.add(doc)
    await session.flush()
    await record_event(
        session,
        AuditEvent,
        actor=principal,
        action="document.issued",
        entity_type="issued_document",
        entity_id=doc.id,
        after={"number": doc.number, "doc_type": doc.doc_type, "official_number": decree_number},
    )
    return doc


async def find_issued(session: AsyncSession, number: str) -> tuple[IssuedDocument, Proposal | None]:
    doc = (
        await session.execute(select(IssuedDocument).where(IssuedDocument.number == number.upper()))
    ).scalar_one_or_none()
    if doc is None or doc.revoked:
        raise errors.DocumentNotFoundError(f"No valid document has the number {number}")
    proposal = None
    if doc.proposal_id is not None:
        proposal = await session.get(Proposal, doc.proposal_id)
    return doc, proposal


async def decree_annex_rows(
    session: AsyncSession, ctx: Context, decree_number: str, fiscal_year: int
) -> list[Any]:
    return list(
        (
            await session.execute(
                select(*LEDGER_COLUMNS)
                .where(
                    and_(
                        Proposal.decree_number == decree_number,
                        Proposal.fiscal_year == fiscal_year,
                        Proposal.status.not_in(ctx.not_recipient_states),
                    )
                )
                .order_by(Proposal.id)
            )
        ).all()
    )


def verify_url(ctx: Context, base_url: str, doc: IssuedDocument) -> str:
    token = ctx.signer.sign_payload(
        {
            "n": doc.number,
            "t": doc.doc_type,
            "a": doc.amount_idr,
            "y": doc.fiscal_year,
            "k": ctx.signer.key_id(),
        }
    )
    base = ctx.public_url or base_url.rstrip("/")
    return f"{base}/verify/{doc.number}?t={token}"


def signature_valid(ctx: Context, number: str, token: str | None) -> bool | None:
    """Whether the QR's signed token was made by this service for this document (None: no token)."""
    if not token:
        return None
    try:
        payload = verify_payload(token, ctx.signer.public_key_b64())
    except (SignatureError, ValueError):
        return False
    return payload.get("n") == number


async def verification(
    session: AsyncSession, ctx: Context, number: str, token: str | None = None
) -> VerificationRead:
    doc, proposal = await find_issued(session, number)
    return VerificationRead(
        signature_valid=signature_valid(ctx, doc.number, token),
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
    session: AsyncSession, ctx: Context, principal: Principal, number: str, base_url: str
) -> bytes:
    from shared.documents import build_pdf  # reportlab loads on first use

    doc, proposal = await find_issued(session, number)
    if not _can_download(doc, proposal, principal):
        raise errors.DocumentNotFoundError(f"No valid document has the number {number}")
    qr = verify_url(ctx, base_url, doc)
    letterhead = [f"PEMERINTAH {ctx.regency_name.upper()}"]
    site = ctx.public_url or base_url.rstrip("/")
    footer = f"Dokumen {doc.number} · verifikasi: {site}/verify/{doc.number}"
    if doc.doc_type == "nphd" and proposal is not None:
        content = await _nphd_content(session, ctx, proposal, doc)
        return await run_in_threadpool(
            lambda: build_pdf(
                title="NASKAH PERJANJIAN HIBAH DAERAH (NPHD)",
                subtitle=f"Nomor {doc.official_number}",
                rows=content["rows"],
                table=content["table"],
                paragraphs=content["paragraphs"],
                qr_data=qr,
                footer=footer,
                letterhead=letterhead,
            )
        )
    rows = await decree_annex_rows(session, ctx, doc.official_number, doc.fiscal_year)
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
            title=ctx.config.decree_annex_title.replace("Kepala Daerah", ctx.head_title).upper(),
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


async def _nphd_content(
    session: AsyncSession, ctx: Context, p: Proposal, doc: IssuedDocument
) -> dict[str, Any]:
    """What Permendagri 32/2011 Pasal 13 (as amended) asks of an NPHD: the parties and their
    signatories, amount and purpose, the RAB, rights and duties, disbursement (tranches, the
    recipient's account) and the reporting duty with the rule set's deadline."""
    rule = ctx.config.rule_set_on(doc.issued_at.date())
    lines = (
        await session.execute(
            select(BudgetLine.description, BudgetLine.amount_idr)
            .where(BudgetLine.proposal_id == p.id)
            .order_by(BudgetLine.position)
        )
    ).all()
    chair = await session.scalar(
        select(BoardMember.name)
        .where(BoardMember.proposal_id == p.id)
        .order_by(BoardMember.position)
    )
    account = ctx.cipher.decrypt(p.bank_account_enc, context="bank") if p.bank_account_enc else "—"
    due = p.lpj_due_date or dt.date(p.fiscal_year + 1, rule.lpj_due_month, rule.lpj_due_day)
    giver = ctx.config.signatory_name or f"{ctx.config.signatory_position} {ctx.regency_name}"
    return {
        "rows": [
            ("Nomor dokumen", doc.number),
            ("Nomor Keputusan", p.decree_number or "—"),
            ("Pihak Pertama (pemberi)", f"Pemerintah {ctx.regency_name}"),
            ("Ditandatangani oleh", f"{giver}, atas nama {ctx.head_title}"),
            ("Pihak Kedua (penerima)", p.applicant_name),
            ("Ditandatangani oleh", f"{chair or p.applicant_name}, Ketua/Pimpinan"),
            ("Nomor badan hukum", p.legal_entity_number or "—"),
            ("Alamat penerima", p.public_address or "—"),
            ("Tahun anggaran", str(p.fiscal_year)),
            ("Jumlah hibah", format_rupiah(doc.amount_idr)),
            ("Terbilang", terbilang(doc.amount_idr)),
            ("Pencairan", _schedule_text(p.tranche_plan or rule.tranche_amounts(doc.amount_idr))),
            ("Rekening penerima", account),
            ("Batas LPJ", f"{due.day} {_MONTHS[due.month - 1]} {due.year}"),
            ("Kode pelacakan", p.tracking_code),
        ],
        "table": [["No", "Rincian RAB", "Jumlah"]]
        + [[str(i), d, format_rupiah(a)] for i, (d, a) in enumerate(lines, start=1)],
        "paragraphs": [
            f"Hibah diberikan untuk: {p.purpose}",
            "Hak Pihak Kedua: menerima dana hibah sesuai jumlah dan tahap di atas ke rekening "
            "atas nama lembaga. Kewajiban Pihak Kedua: menggunakan dana sesuai RAB, tidak "
            "mengalihkannya kepada pihak lain, menyetor sisa dana yang tidak digunakan ke Kas "
            "Daerah, dan menyampaikan laporan pertanggungjawaban (LPJ) berisi laporan "
            "penggunaan, surat pernyataan tanggung jawab, bukti pengeluaran dan foto kegiatan "
            f"kepada {ctx.head_title} paling lambat {due.day} {_MONTHS[due.month - 1]} "
            f"{due.year}.",
            "Hak Pihak Pertama: memantau dan mengevaluasi penggunaan dana. Kewajiban Pihak "
            "Pertama: mencairkan dana sesuai NPHD ini.",
            "Penyalahgunaan dana hibah dikenai sanksi sesuai ketentuan peraturan "
            f"perundang-undangan. Dasar: {rule.basis}.",
        ],
    }


def _schedule_text(plan: list[int]) -> str:
    steps = "; ".join(f"tahap {i} {format_rupiah(a)}" for i, a in enumerate(plan, start=1))
    return f"transfer (LS) dalam {len(plan)} tahap: {steps}"


_MONTHS = (
    "Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September",
    "Oktober", "November", "Desember",
)  # fmt: skip
