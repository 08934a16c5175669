"""Certificates: the PDF, the signed QR payload, and the public verification of a number."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.concurrency import run_in_threadpool

from hayu import errors
from hayu.common import (
    CERTIFICATE_ROLES,
    SELF_REPORT,
    mask_name,
)
from hayu.config import RISK_LABELS
from hayu.dependencies import Context
from hayu.models import (
    Application,
    Business,
    KbliCode,
)
from hayu.schemas import (
    VerifyRead,
)
from shared.auth import Principal
from shared.money import format_rupiah, terbilang
from shared.signing import SignatureError, verify_payload
from shared.validators import mask

# --------------------------------------------------------------------------------------------------
# Certificates and verification
# --------------------------------------------------------------------------------------------------


def number_candidates(typed: str) -> list[str]:
    """What a typed certificate number may stand for: case, surrounding blanks and the separator
    people type (space, dot, underscore for the template's dash or slash) do not matter."""
    text = typed.strip()
    upper = text.upper()
    spaced = re.sub(r"[\s._\-/]+", " ", upper).strip()
    found = {text, upper, spaced.replace(" ", "-"), spaced.replace(" ", "/")}
    return sorted(c for c in found if c)


async def _by_number(session: AsyncSession, number: str) -> tuple[Application, Business]:
    row = (
        await session.execute(
            select(Application, Business)
            .join(Business, Business.id == Application.business_id)
            .where(Application.number.in_(number_candidates(number)))
            .order_by(Application.id)
            .limit(1)
        )
    ).first()
    if row is None:
        raise errors.PermitNotFoundError(f"No permit or registration has the number {number}")
    return row[0], row[1]


def verification_status(application: Application, today: dt.date) -> str:
    if application.status == "revoked":
        return "revoked"
    if application.valid_until is not None and application.valid_until < today:
        return "expired"
    return "active"


def certificate_payload(
    ctx: Context, application: Application, business: Business
) -> dict[str, Any]:
    """What the QR code carries, signed: enough to check a printed certificate offline."""
    assert application.number is not None
    assert application.issued_at is not None
    return {
        "v": 1,
        "svc": "hayu",
        "kid": ctx.signer.key_id(),
        "no": application.number,
        "kind": application.kind,
        "type": application.permit_type_code,
        "biz": business.name,
        "holder": mask_name(business.owner_name),
        "kbli": list(business.kbli_codes),
        "iss": ctx.calendar.local_date(application.issued_at).isoformat(),
        "until": application.valid_until.isoformat() if application.valid_until else None,
        "deemed": application.deemed_approved,
    }


def certificate_token(ctx: Context, application: Application, business: Business) -> str:
    # Ed25519 is deterministic: the same record always gives the same token, so nothing is stored.
    return ctx.signer.sign_payload(certificate_payload(ctx, application, business))


def verification_url(ctx: Context, number: str, token: str | None = None) -> str:
    url = f"{ctx.base_url}/verify/{quote(number, safe='/')}"
    return f"{url}?t={token}" if token else url


async def certificate_token_for(
    session: AsyncSession, ctx: Context, principal: Principal, number: str
) -> tuple[str, str]:
    application, business = await _by_number(session, number)
    _check_certificate_access(principal, application)
    token = certificate_token(ctx, application, business)
    return token, verification_url(ctx, number, token)


def _check_certificate_access(principal: Principal, application: Application) -> None:
    if principal.has_any(*CERTIFICATE_ROLES):
        return
    if application.applicant_account_id != principal.account_id:
        raise errors.PermitNotFoundError(
            f"No permit or registration has the number {application.number}"
        )


async def verify_number(
    session: AsyncSession, ctx: Context, number: str, now: dt.datetime, token: str | None = None
) -> VerifyRead:
    """The public check of a certificate; one round trip."""
    application, business = await _by_number(session, number)
    status = verification_status(application, ctx.calendar.local_date(now))
    permit_type = ctx.hayu.permit_type(application.permit_type_code)
    signature_valid: bool | None = None
    if token:
        try:
            payload = verify_payload(token, ctx.signer.public_key_b64())
            signature_valid = payload.get("no") == application.number
        except (SignatureError, ValueError):
            signature_valid = False
    assert application.issued_at is not None
    return VerifyRead(
        valid=status == "active",
        status=status,
        number=application.number or number,
        kind=application.kind,
        permit_type=permit_type.name if permit_type else application.permit_type_code,
        business_name=business.name,
        holder_name_masked=mask_name(business.owner_name),
        issued_at=application.issued_at,
        valid_until=application.valid_until,
        deemed_approved=application.deemed_approved,
        revoked_at=application.revoked_at,
        signature_checked=token is not None,
        signature_valid=signature_valid,
    )


async def kbli_titles(session: AsyncSession, codes: Sequence[str]) -> dict[str, str]:
    rows = (
        await session.execute(
            select(KbliCode.code, KbliCode.title).where(KbliCode.code.in_(list(codes)))
        )
    ).all()
    return {r.code: r.title for r in rows}


async def certificate_pdf(
    session: AsyncSession, ctx: Context, principal: Principal, number: str, now: dt.datetime
) -> bytes:
    application, business = await _by_number(session, number)
    _check_certificate_access(principal, application)
    if application.issued_at is None:
        raise errors.NoCertificateError("This file has no certificate yet")
    titles = await kbli_titles(session, business.kbli_codes)
    permit_type = ctx.hayu.permit_type(application.permit_type_code)
    type_name = permit_type.name if permit_type else application.permit_type_code
    token = certificate_token(ctx, application, business)
    regency = ctx.config.regency
    calendar = ctx.calendar
    self_report = application.kind == SELF_REPORT
    title = "SERTIFIKAT PENDAFTARAN USAHA" if self_report else type_name.upper()
    rows = [
        ("Nomor", application.number or ""),
        ("Nama usaha", business.name),
        ("Pemilik / penanggung jawab", business.owner_name),
        (
            "NIK pemilik",
            mask(ctx.cipher.decrypt(business.owner_nik_encrypted, context="owner-nik")),
        ),
        (
            "KBLI 2020",
            "\n".join(f"{c} {titles.get(c, '')}".strip() for c in business.kbli_codes),
        ),
        ("Alamat usaha", f"{business.address} (kode wilayah {business.region_code})"),
        (
            "Modal usaha",
            f"{format_rupiah(business.capital_idr)} ({terbilang(business.capital_idr)})",
        ),
        ("Tenaga kerja", f"{business.workforce} orang"),
        ("Jenis perizinan", type_name),
        (
            "Tingkat risiko",
            RISK_LABELS.get(permit_type.risk_level, "") if permit_type else "",
        ),
        ("Tanggal terbit", _tanggal(calendar.local_date(application.issued_at))),
        (
            "Berlaku sampai",
            _tanggal(application.valid_until)
            if application.valid_until
            else "Selama usaha berjalan",
        ),
    ]
    paragraphs = []
    if self_report:
        paragraphs.append(
            "Usaha ini terdaftar melalui lapor mandiri karena modal usahanya di bawah batas yang "
            "ditetapkan. Kebenaran data menjadi tanggung jawab pelapor dan dapat diperiksa "
            "kembali melalui audit pascapendaftaran."
        )
    if application.deemed_approved:
        paragraphs.append(
            "Izin ini terbit karena batas waktu keputusan terlampaui tanpa keputusan "
            "(fiktif positif, PP 28/2025)."
        )
    if application.status == "revoked":
        paragraphs.append(
            f"DICABUT pada {_tanggal(calendar.local_date(application.revoked_at or now))}: "
            f"{application.revoke_reason or ''}"
        )
    paragraphs.append(f"Versi aturan yang dipakai: {application.rule_version}.")
    url = verification_url(ctx, application.number or "", token)
    letterhead = [f"PEMERINTAH {regency.name.upper()}", ctx.hayu.office_name.upper()]
    if regency.address:
        letterhead.append(regency.address)
    # reportlab is imported on the first certificate, not at start-up (15 MB, 0.1 s).
    from shared.documents import build_pdf

    return await run_in_threadpool(
        lambda: build_pdf(
            title=title,
            subtitle=f"Nomor: {application.number}",
            rows=rows,
            paragraphs=paragraphs,
            qr_data=url,
            footer=(
                "Dokumen elektronik HAYU. Keaslian dapat diperiksa dengan memindai kode QR atau "
                f"membuka {verification_url(ctx, application.number or '')}"
            ),
            letterhead=letterhead,
        )
    )


def _tanggal(day: dt.date) -> str:
    from shared.web import tanggal

    return tanggal(day)
