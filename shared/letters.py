"""Receipts (tanda terima) and refusal letters: what every service hands a person on paper.

A receipt says what the service received, under which tracking code, who holds the file now and
by when it is due (working days, from the service's calendar). A refusal says why, and how and by
when the person may object (keberatan), from the regency's configured objection rule
(`RegencyConfigBase.objection_rules`, with its legal basis). Both are shown as a page (printed
with the shared print stylesheet) and as a PDF built with `shared.documents.build_pdf`. Neither
carries NIK, NPWP, bank account or home address.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from fastapi.responses import Response
from pydantic import BaseModel, Field

from shared.calendar import WorkingCalendar
from shared.config import ObjectionRule, RegencyConfigBase
from shared.problems import NotFoundError
from shared.web import tanggal


@dataclass(frozen=True)
class Receipt:
    """What a receipt states; `documents` are the names of what was received."""

    service_title: str
    regency_name: str
    tracking_code: str
    subject: str  # what was filed ("Usulan hibah: ...", "Izin ...")
    applicant_name: str
    received_at: dt.datetime
    stage_label: str
    holder_label: str
    due_date: dt.date | None
    due_basis: str  # "5 hari kerja tahap Pemeriksaan kelengkapan"
    track_url: str
    documents: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Refusal:
    """A refusal and its objection route."""

    tracking_code: str
    subject: str
    applicant_name: str
    decided_on: dt.date
    reason: str
    rule: ObjectionRule
    deadline: dt.date


def refusal_of(
    config: RegencyConfigBase,
    calendar: WorkingCalendar,
    *,
    tracking_code: str,
    subject: str,
    applicant_name: str,
    decided_on: dt.date,
    reason: str,
) -> Refusal:
    """The refusal with the objection rule in force on the day of the decision and the last
    working day to object on."""
    rule = config.objection_rule_on(decided_on)
    return Refusal(
        tracking_code=tracking_code,
        subject=subject,
        applicant_name=applicant_name,
        decided_on=decided_on,
        reason=reason or "Tidak dicatat.",
        rule=rule,
        deadline=calendar.add_working_days(decided_on, rule.working_days),
    )


def _letterhead(regency_name: str, service_title: str) -> list[str]:
    return [f"PEMERINTAH {regency_name.upper()}", service_title]


def receipt_pdf(receipt: Receipt, tz: str = "Asia/Jakarta") -> bytes:
    from zoneinfo import ZoneInfo

    from shared.documents import build_pdf  # reportlab loads on first use

    local = receipt.received_at.astimezone(ZoneInfo(tz))
    rows = [
        ("Kode pelacakan", receipt.tracking_code),
        ("Perihal", receipt.subject),
        ("Pemohon", receipt.applicant_name),
        ("Diterima", f"{tanggal(local)} pukul {local:%H.%M}"),
        ("Tahap saat ini", receipt.stage_label),
        ("Dipegang oleh", receipt.holder_label),
        (
            "Batas waktu",
            f"{tanggal(receipt.due_date)} ({receipt.due_basis})" if receipt.due_date else "—",
        ),
    ]
    table = [["No", "Yang diterima"]] + [
        [str(i), name] for i, name in enumerate(receipt.documents, start=1)
    ]
    return build_pdf(
        title="TANDA TERIMA",
        subtitle=receipt.tracking_code,
        rows=rows,
        table=table if receipt.documents else None,
        paragraphs=[
            "Simpan tanda terima ini. Dengan kode pelacakan di atas Anda dapat melihat tahap "
            f"berkas kapan saja di {receipt.track_url}.",
        ],
        qr_data=receipt.track_url,
        footer=f"Tanda terima {receipt.tracking_code} · {receipt.service_title}",
        letterhead=_letterhead(receipt.regency_name, receipt.service_title),
    )


def refusal_pdf(
    refusal: Refusal, *, service_title: str, regency_name: str, track_url: str
) -> bytes:
    from shared.documents import build_pdf  # reportlab loads on first use

    rule = refusal.rule
    return build_pdf(
        title="SURAT PEMBERITAHUAN PENOLAKAN",
        subtitle=refusal.tracking_code,
        rows=[
            ("Kode pelacakan", refusal.tracking_code),
            ("Perihal", refusal.subject),
            ("Kepada", refusal.applicant_name),
            ("Tanggal keputusan", tanggal(refusal.decided_on)),
            ("Keputusan", "Ditolak"),
            ("Batas pengajuan keberatan", tanggal(refusal.deadline)),
        ],
        paragraphs=[
            f"Alasan penolakan: {refusal.reason}",
            f"Jika Anda tidak setuju, Anda dapat mengajukan keberatan secara tertulis kepada "
            f"{rule.addressed_to} paling lambat {tanggal(refusal.deadline)} "
            f"({rule.working_days} hari kerja sejak keputusan). Dasar: {rule.basis}.",
            *([rule.appeal] if rule.appeal else []),
        ],
        qr_data=track_url,
        footer=f"Pemberitahuan penolakan {refusal.tracking_code} · {service_title}",
        letterhead=_letterhead(regency_name, service_title),
    )


class NotRefusedError(NotFoundError):
    title = "The file was not refused"
    type = "not-refused"


class ReceiptRead(BaseModel):
    """A receipt (tanda terima): what was received, under which code, who holds it, by when."""

    tracking_code: str
    subject: str
    applicant_name: str
    received_at: dt.datetime
    stage_label: str
    holder_label: str
    due_date: dt.date | None = Field(description="last working day of the SLA, if any")
    due_basis: str
    track_url: str
    documents: list[str] = Field(description="what was received, by name")


class RefusalRead(BaseModel):
    """A refusal and its objection (keberatan) route."""

    tracking_code: str
    decided_on: dt.date
    reason: str
    objection_deadline: dt.date = Field(description="last working day to object")
    objection_working_days: int
    objection_addressed_to: str
    basis: str
    appeal: str


def receipt_read(r: Receipt) -> ReceiptRead:
    return ReceiptRead(
        tracking_code=r.tracking_code,
        subject=r.subject,
        applicant_name=r.applicant_name,
        received_at=r.received_at,
        stage_label=r.stage_label,
        holder_label=r.holder_label,
        due_date=r.due_date,
        due_basis=r.due_basis,
        track_url=r.track_url,
        documents=list(r.documents),
    )


def refusal_read(r: Refusal | None) -> RefusalRead:
    if r is None:
        raise NotRefusedError("The file was not refused: there is no refusal letter")
    return RefusalRead(
        tracking_code=r.tracking_code,
        decided_on=r.decided_on,
        reason=r.reason,
        objection_deadline=r.deadline,
        objection_working_days=r.rule.working_days,
        objection_addressed_to=r.rule.addressed_to,
        basis=r.rule.basis,
        appeal=r.rule.appeal,
    )


def pdf_response(content: bytes, name: str) -> Response:
    return Response(
        content,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{name}.pdf"'},
    )
