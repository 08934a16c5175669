"""Certificates: the PDF, the signed QR payload, and the public verification of a number."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from sqlalchemy import String, bindparam, select
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
    ApplicationEvent,
    Business,
    KbliCode,
)
from hayu.schemas import (
    VerifyRead,
)
from shared.auth import Principal
from shared.db import read_alone
from shared.money import format_rupiah, terbilang
from shared.signing import SignatureError, verify, verify_payload
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


NUMBER_SPELLINGS = 4
"""At most this many candidates: the typed text, upper-cased, with dashes, with slashes."""


def number_parameters(typed: str) -> dict[str, str] | None:
    """The candidates bound to `_VERIFY`'s fixed parameters (the last one repeated to fill
    them): the statement's text stays the same for every number. None: nothing but blanks
    was typed, no number can match."""
    found = number_candidates(typed)
    if not found:
        return None
    return {f"number_{i}": found[min(i, len(found) - 1)] for i in range(NUMBER_SPELLINGS)}


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


# The public check's statement, built once: the columns the answer shows, not two whole rows
# (the lookup binds only the candidate spellings of the number).
_VERIFY = (
    select(
        Application.number,
        Application.status,
        Application.valid_until,
        Application.kind,
        Application.permit_type_code,
        Application.issued_at,
        Application.deemed_approved,
        Application.revoked_at,
        Business.name.label("business_name"),
        Business.owner_name,
    )
    .join(Business, Business.id == Application.business_id)
    # fixed parameters, not an expanding list: the text is compiled once and sent the same
    .where(
        Application.number.in_(
            [bindparam(f"number_{i}", type_=String()) for i in range(NUMBER_SPELLINGS)]
        )
    )
    .order_by(Application.id)
    .limit(1)
)


def verification_status(application: Any, today: dt.date) -> str:
    """`application`: an `Application` or a row with its `status` and `valid_until`."""
    if application.status == "revoked":
        return "revoked"
    if application.valid_until is not None and application.valid_until < today:
        return "expired"
    return "active"


TOKEN_VERSION = "2"


def _yyyymmdd(day: dt.date | None) -> str:
    return day.strftime("%Y%m%d") if day else "0"


def name_digest(name: str) -> str:
    """Six hex characters binding the printed business name to the signature."""
    return hashlib.sha256(" ".join(name.split()).upper().encode()).hexdigest()[:6]


def certificate_payload(ctx: Context, application: Application, business: Business) -> str:
    """What the QR code carries, compact so the QR stays at version 10 or below (level M):
    `2-<key id>-<issued YYYYMMDD>-<valid until or 0>-<deemed 0/1>-<name digest>`. The number is
    in the URL; the signature covers `hayu|<number>|<payload>`."""
    assert application.number is not None
    assert application.issued_at is not None
    return "-".join(
        [
            TOKEN_VERSION,
            ctx.signer.key_id(),
            _yyyymmdd(ctx.calendar.local_date(application.issued_at)),
            _yyyymmdd(application.valid_until),
            "1" if application.deemed_approved else "0",
            name_digest(business.name),
        ]
    )


def _signed_message(number: str, payload: str) -> bytes:
    return f"hayu|{number}|{payload}".encode()


def certificate_token(ctx: Context, application: Application, business: Business) -> str:
    # Ed25519 is deterministic: the same record always gives the same token, so nothing is stored.
    payload = certificate_payload(ctx, application, business)
    assert application.number is not None
    return f"{payload}.{ctx.signer.sign(_signed_message(application.number, payload))}"


def verify_token(token: str, number: str, public_key_b64: str) -> dict[str, Any]:
    """Offline check of a QR token against the number in its URL; what a verifier app does.

    Returns the signed fields, or raises `SignatureError`. Tokens of the former JSON format
    (`shared.signing.sign_payload`, version 1) are still accepted.
    """
    if not token.startswith(TOKEN_VERSION + "-"):
        payload = verify_payload(token, public_key_b64)
        if payload.get("no") != number:
            raise SignatureError("the token belongs to another number")
        return payload
    body, _, signature = token.rpartition(".")
    parts = body.split("-")
    if len(parts) != 6 or not verify(_signed_message(number, body), signature, public_key_b64):
        raise SignatureError("the token's signature does not match")
    _v, kid, issued, until, deemed, digest = parts
    return {
        "v": 2,
        "kid": kid,
        "no": number,
        "iss": issued,
        "until": None if until == "0" else until,
        "deemed": deemed == "1",
        "name_digest": digest,
    }


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
    session: AsyncSession, ctx: Context, number: str, token: str | None = None
) -> VerifyRead:
    """The public check of a certificate; one round trip."""
    now = ctx.now
    parameters = number_parameters(number)
    found = await read_alone(session, _VERIFY, parameters) if parameters is not None else []
    application = found[0] if found else None
    if application is None:
        raise errors.PermitNotFoundError(f"No permit or registration has the number {number}")
    status = verification_status(application, ctx.calendar.local_date(now))
    permit_type = ctx.hayu.permit_type(application.permit_type_code)
    signature_valid: bool | None = None
    if token:
        try:
            verify_token(token, application.number or "", ctx.signer.public_key_b64())
            signature_valid = True
        except (SignatureError, ValueError):
            signature_valid = False
    assert application.issued_at is not None
    return VerifyRead(
        valid=status == "active",
        status=status,
        number=application.number or number,
        kind=application.kind,
        permit_type=permit_type.name if permit_type else application.permit_type_code,
        business_name=application.business_name,
        holder_name_masked=mask_name(application.owner_name),
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


async def _decided_risk(session: AsyncSession, application: Application) -> str:
    """The risk level the filing decision recorded (from the KBLI risk list in force then), not
    the permit type's default: a low-risk KBLI under a higher-risk type prints its own level."""
    details = await session.scalar(
        select(ApplicationEvent.details)
        .where(
            ApplicationEvent.application_id == application.id,
            ApplicationEvent.action.in_(("register", "submit")),
        )
        .order_by(ApplicationEvent.id)
        .limit(1)
    )
    return str((details or {}).get("risk_level") or "")


async def certificate_pdf(
    session: AsyncSession,
    ctx: Context,
    principal: Principal,
    number: str,
) -> bytes:
    now = ctx.now
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
    title = "TANDA DAFTAR USAHA (LAPOR MANDIRI)" if self_report else type_name.upper()
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
        ("NIB", business.nib or "belum tercatat (terbitkan melalui OSS-RBA)"),
        ("Jenis perizinan", type_name),
        ("Dasar hukum", permit_type.legal_basis if permit_type else ""),
        ("Tingkat risiko", RISK_LABELS.get(await _decided_risk(session, application), "")),
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
            "Usaha ini terdaftar melalui lapor mandiri menurut ketentuan daerah. Tanda daftar ini "
            "bukan pengganti NIB, yang diterbitkan melalui OSS-RBA. Kebenaran data menjadi "
            "tanggung jawab pelapor dan dapat diperiksa kembali melalui audit pascapendaftaran."
        )
    if application.deemed_approved:
        paragraphs.append(
            "Izin ini terbit karena batas waktu layanan terlampaui tanpa keputusan (fiktif "
            f"positif, {permit_type.deemed_basis if permit_type else 'UU 30/2014 Pasal 53'})."
        )
    if application.status == "revoked":
        paragraphs.append(
            f"DICABUT pada {_tanggal(calendar.local_date(application.revoked_at or now))}: "
            f"{application.revoke_reason or ''}"
        )
    signatory = ctx.hayu.signatory
    head = "Bupati" if regency.kind == "kabupaten" else "Wali Kota"
    paragraphs.append(
        f"a.n. {head} {regency.name.removeprefix('Kabupaten ').removeprefix('Kota ')}, "
        f"{signatory.title} ({signatory.delegation}): "
        f"{signatory.name or '(nama pejabat belum diatur)'}"
        + (f", NIP {signatory.nip}" if signatory.nip else "")
        + ". Ditandatangani secara elektronik; kode QR berisi tanda tangan layanan ini "
        "(bukan sertifikat elektronik PSrE)."
    )
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
