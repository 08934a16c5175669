"""HAYU's pages, in Bahasa Indonesia: they work without JavaScript and call the same domain code."""

from __future__ import annotations

import re
from functools import partial
from typing import Annotated, Any, TypeVar

from fastapi import Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from hayu import (
    applications,
    certificates,
    common,
    decisions,
    documents,
    filings,
    letters,
    oss,
    oversight,
    tracking,
    transitions,
)
from hayu.config import RISK_LABELS
from hayu.dependencies import ApplicationId, Context, ContextDep, DocumentId
from hayu.pages import lookup, receipts, registration, staff
from hayu.pages.lookup import regency_regions
from hayu.schemas import ApplicationCreate, TransitionCreate
from hayu.workflow import ROLE_LABELS, STAFF_ROLES
from shared.auth import Principal
from shared.db import SessionDep
from shared.login_guard import GuessGuard
from shared.network import client_address
from shared.pages import Viewer, attempt, outcome, page_router, viewer_with
from shared.pesan import FieldError, field_errors, problem_id
from shared.problems import AppError, TooManyRequestsError
from shared.web import render, root_of

T = TypeVar("T")
router = page_router()
StaffViewer = Annotated[
    Principal, Depends(viewer_with(*STAFF_ROLES, detail="Antrean hanya untuk petugas."))
]

# Form field id and its label, by the last matching part of a pydantic error location.
FIELDS: dict[tuple[str, ...], tuple[str, str]] = {
    ("permit_type_code",): ("permit_type_code", "Jenis perizinan"),
    ("business", "name"): ("name", "Nama usaha"),
    ("owner", "name"): ("owner_name", "Nama pemilik"),
    ("nik",): ("nik", "NIK pemilik"),
    ("phone",): ("phone", "Nomor telepon"),
    ("kbli_codes",): ("kbli_codes", "Kode KBLI"),
    ("address",): ("address", "Alamat usaha"),
    ("region_code",): ("region_code", "Kode wilayah"),
    ("capital_idr",): ("capital_idr", "Modal usaha"),
    ("workforce",): ("workforce", "Jumlah tenaga kerja"),
    ("nib",): ("nib", "NIB"),
    ("annual_sales_idr",): ("annual_sales_idr", "Hasil penjualan tahunan"),
    ("username",): ("username", "Nama pengguna"),
    ("password",): ("password", "Kata sandi"),
    ("full_name",): ("full_name", "Nama lengkap"),
    ("note",): ("note", "Catatan"),
    ("inspection_date",): ("inspection_date", "Tanggal pemeriksaan"),
    ("findings",): ("findings", "Hasil pemeriksaan"),
    ("inspection_result",): ("inspection_result", "Kesimpulan pemeriksaan"),
}


def _field_of(loc: tuple[Any, ...]) -> tuple[str | None, str]:
    names = tuple(str(p) for p in loc if not isinstance(p, int))
    for size in (2, 1):
        if len(names) >= size and names[-size:] in FIELDS:
            return FIELDS[names[-size:]]
    return None, ""


def _documents_missing(exc: AppError) -> str:
    missing = exc.extensions.get("missing") or []
    return (
        "Dokumen belum lengkap: " + ", ".join(missing) + "."
        if missing
        else "Dokumen belum lengkap."
    )


PROBLEMS: dict[str, Any] = {
    "permit-type-not-found": "Jenis perizinan tidak dikenal; pilih dari daftar.",
    "kbli-not-found": lambda e: (
        f"Kode KBLI {', '.join(re.findall(r'[0-9]{5}', e.detail or ''))} tidak ada dalam daftar "
        "KBLI 2020. Periksa kembali kodenya."
    ),
    "region-not-found": "Kode wilayah tidak ada dalam daftar wilayah kabupaten/kota ini.",
    "outside-jurisdiction": (
        "Lokasi usaha berada di luar wilayah kabupaten/kota ini. Ajukan ke pemerintah daerah "
        "tempat usaha berada."
    ),
    "documents-missing": _documents_missing,
    "inspection-required": "Izin ini wajib diperiksa di lapangan: jadwalkan pemeriksaan.",
    "inspection-date-invalid": "Tanggal pemeriksaan tidak boleh sebelum hari ini.",
    "upload-closed": "Dokumen hanya dapat diunggah selama berkas diperiksa atau diperbaiki.",
    "checklist-item-invalid": "Jenis dokumen ini tidak termasuk persyaratan izin ini.",
    "payload-too-large": "Berkas terlalu besar.",
    "upload-type": "Hanya berkas PDF, JPEG atau PNG (tidak kosong) yang diterima.",
    "upload-name-invalid": "Nama berkas tidak valid; ganti nama berkas lalu unggah lagi.",
    "upload-image-too-large": "Ukuran gambar terlalu besar; kecilkan resolusinya lalu unggah lagi.",
    "tracking-code-not-found": "Kode lacak tidak ditemukan. Periksa kembali penulisannya.",
    "not-your-application": "Anda tidak berwenang melihat data ini.",
    "separation-of-duties": (
        "Pemisahan tugas: tindakan ini harus dilakukan petugas lain (Anda pemohon berkas ini "
        "atau sudah memeriksanya)."
    ),
    "inspection-photo-missing": (
        "Unggah minimal satu foto lokasi sebelum mencatat hasil pemeriksaan."
    ),
    "document-not-found": "Dokumen tidak ditemukan.",
}
PROBLEM_FIELDS = {
    "kbli-not-found": "kbli_codes",
    "region-not-found": "region_code",
    "outside-jurisdiction": "region_code",
}


def _problem(exc: AppError) -> str:
    return problem_id(exc, PROBLEMS)


PATTERN_HINTS = {
    "username": "gunakan huruf kecil, angka, titik atau tanda hubung; minimal 3 karakter"
}


def _errors_id(exc: ValidationError) -> list[FieldError]:
    return field_errors(exc, _field_of, PATTERN_HINTS)


def _problem_errors(exc: AppError) -> list[FieldError]:
    return [FieldError(PROBLEM_FIELDS.get(exc.type), "", _problem(exc))]


@router.get("/")
async def home(request: Request, ctx: ContextDep) -> HTMLResponse:
    return render(
        request,
        "index.html",
        {"threshold": ctx.hayu.threshold_on(ctx.today)},
    )


# --- Owner account ------------------------------------------------------------------------------


# --- Filing -------------------------------------------------------------------------------------


def _filing_form(raw: dict[str, str]) -> dict[str, Any]:
    def as_int(value: str) -> Any:
        cleaned = (
            value.strip().removeprefix("Rp").removeprefix("rp").replace(".", "").replace(" ", "")
        )
        return int(cleaned) if cleaned.isdigit() else value

    return {
        "permit_type_code": raw.get("permit_type_code", ""),
        "business": {
            "name": raw.get("name", ""),
            "owner": {
                "nik": raw.get("nik", "").strip(),
                "name": raw.get("owner_name", ""),
                "phone": raw.get("phone", ""),
            },
            "kbli_codes": [c.strip() for c in raw.get("kbli_codes", "").split(",") if c.strip()],
            "address": raw.get("address", ""),
            "region_code": raw.get("region_code", "").strip(),
            "capital_idr": as_int(raw.get("capital_idr", "")),
            "workforce": as_int(raw.get("workforce", "")),
            **({"nib": raw["nib"].strip()} if raw.get("nib", "").strip() else {}),
            **(
                {"annual_sales_idr": as_int(raw["annual_sales_idr"])}
                if raw.get("annual_sales_idr", "").strip()
                else {}
            ),
        },
    }


FILING_FIELDS = (
    "permit_type_code",
    "name",
    "nik",
    "owner_name",
    "phone",
    "kbli_codes",
    "address",
    "region_code",
    "capital_idr",
    "workforce",
    "nib",
    "annual_sales_idr",
)


async def _form_values(request: Request) -> dict[str, str]:
    form = await request.form()
    return {k: str(form.get(k, ""))[:500] for k in FILING_FIELDS}


@router.get("/lapor")
async def filing_form(
    request: Request,
    session: SessionDep,
    ctx: ContextDep,
    principal: Viewer,
    nib: Annotated[str, Query(max_length=13)] = "",
) -> Response:
    """The filing form; `?nib=` only fills the NIB in (OSS's data needs the owner's NIK too:
    `POST /lapor/oss`)."""
    return await _empty_filing(request, session, ctx, _nib_only(nib))


def _nib_only(nib: str) -> dict[str, str]:
    """The form with just the NIB filled in, when it has the NIB's shape."""
    return {"nib": nib} if nib.isdigit() and len(nib) == 13 else {}


async def _empty_filing(
    request: Request,
    session: AsyncSession,
    ctx: Context,
    form: dict[str, str],
    oss_notice: str | None = None,
    *,
    status_code: int = 200,
) -> Response:
    """The filing form before any check: `form` prefilled, and OSS's answer if one was asked."""
    return render(
        request,
        "filing.html",
        {
            "types": ctx.hayu.permit_types,
            "form": form,
            "errors": [],
            "decision": None,
            "oss_notice": oss_notice,
            "regions": await regency_regions(session, ctx),
        },
        status_code=status_code,
    )


OSS_NOT_PREFILLED = (
    "Data OSS tidak dapat diisikan. Data hanya diisikan bila NIB dan NIK pemilik sama dengan "
    "data yang dikirim OSS. Periksa kembali isian Anda atau isi formulir sendiri."
)


OSS_TOO_MANY = (
    "Terlalu banyak NIB dan NIK yang tidak cocok dengan data OSS. Tunggu {minutes} menit lalu "
    "coba lagi, atau isi formulir sendiri."
)


@router.post("/lapor/oss")
async def filing_prefill(
    request: Request,
    session: SessionDep,
    ctx: ContextDep,
    principal: Viewer,
    nib: Annotated[str, Form(max_length=20)] = "",
    nik: Annotated[str, Form(max_length=30)] = "",
) -> Response:
    """Prefill the form from what OSS-RBA pushed for `nib`, only for the owner OSS named: the
    NIK typed here must be hers (blind index). The answer is the same whether OSS pushed the
    NIB or not, so it reveals neither. Every pair that prefills nothing counts as a failed guess
    for the account and the address (`hayu_oss_owner_*` settings): past the limit the page
    answers 429 without looking, so a pair cannot be brute-forced to learn who owns a NIB."""
    nib = nib.strip()
    guard: GuessGuard = request.app.state.oss_owner_guard
    address = client_address(request)
    try:
        guess = guard.attempt(principal.account_id, address)  # counted as failed until right
    except TooManyRequestsError as exc:
        wait = int((exc.headers or {}).get("Retry-After", "60"))
        notice = OSS_TOO_MANY.format(minutes=max(1, -(-wait // 60)))
        response = await _empty_filing(
            request, session, ctx, _nib_only(nib), notice, status_code=exc.status
        )
        response.headers.update(exc.headers or {})
        return response
    form = await oss.prefill_for(session, ctx, nib, nik)
    if not form:
        return await _empty_filing(request, session, ctx, _nib_only(nib), OSS_NOT_PREFILLED)
    guard.forgive(principal.account_id, address, guess)
    form["nik"] = "".join(ch for ch in nik if ch.isdigit())
    return await _empty_filing(request, session, ctx, form)


@router.post("/lapor/periksa")
async def filing_check(
    request: Request, session: SessionDep, ctx: ContextDep, principal: Viewer
) -> Response:
    """Step 1: tell the owner, before anything is stored, what will happen and why: the very
    checks submission runs (`decisions.assess_filing`), so a yes here is a yes on submit."""
    raw = await _form_values(request)
    context: dict[str, Any] = {
        "types": ctx.hayu.permit_types,
        "form": raw,
        "decision": None,
        "regions": await regency_regions(session, ctx),
    }
    try:
        data = ApplicationCreate.model_validate(_filing_form(raw))
        permit_type, decision = await decisions.assess_filing(session, ctx, data)
        context["decision"] = decisions.decision_read(permit_type, decision)
        context["errors"] = []
    except ValidationError as exc:
        context["errors"] = _errors_id(exc)
    except AppError as exc:
        context["errors"] = _problem_errors(exc)
    return render(request, "filing.html", context, status_code=422 if context["errors"] else 200)


@router.post("/lapor")
async def filing_submit(
    request: Request, session: SessionDep, ctx: ContextDep, principal: Viewer
) -> Response:
    raw = await _form_values(request)
    context: dict[str, Any] = {"types": ctx.hayu.permit_types, "form": raw, "decision": None}
    try:
        data = ApplicationCreate.model_validate(_filing_form(raw))
        if not principal.has_any("business_owner"):
            context["errors"] = [
                FieldError(
                    None, "", "Hanya akun pelaku usaha yang dapat melapor atau mengajukan izin."
                )
            ]
            return render(request, "filing.html", context, status_code=403)
        created = await filings.file_application(session, ctx, principal, data)
    except ValidationError as exc:
        context["errors"] = _errors_id(exc)
        return render(request, "filing.html", context, status_code=422)
    except AppError as exc:
        context["errors"] = _problem_errors(exc)
        return render(request, "filing.html", context, status_code=exc.status)
    return RedirectResponse(f"{root_of(request)}/berkas/{created.id}", status_code=303)


# --- One application ----------------------------------------------------------------------------


async def _show(
    request: Request,
    session: SessionDep,
    ctx: ContextDep,
    principal: Principal,
    application_id: int,
    *,
    error: str | None = None,
    messages: list[tuple[str, str]] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    application = await applications.read_application(session, ctx, principal, application_id)
    workflow = common.workflow_for(ctx, application.kind)
    actions = [workflow.action(name) for name in application.available_actions]
    return render(
        request,
        "application.html",
        {
            "a": application,
            "permit_type": ctx.hayu.permit_type(application.permit_type_code),
            "actions": actions,
            "staff": common.is_staff(principal),
            "role_labels": ROLE_LABELS,
            "risk_labels": RISK_LABELS,
            "state_labels": {st.name: st.label for st in workflow.states},
            "refusal": letters.refusal(ctx, application),
            "refusal_pdf_path": f"{root_of(request)}/berkas/{application_id}/surat-penolakan.pdf",
        },
        messages=[("error", error)] if error else messages or (),
        status_code=status_code,
    )


def _unless_missing(result: T | AppError) -> T | AppError:
    """A file that is not there (or not the caller's) answers the API's 404, not the form again."""
    if isinstance(result, AppError) and result.status == 404:
        raise result
    return result


@router.get("/berkas/{application_id}")
async def application_page(
    request: Request,
    application_id: ApplicationId,
    session: SessionDep,
    ctx: ContextDep,
    principal: Viewer,
) -> Response:
    return await _show(request, session, ctx, principal, application_id)


@router.get("/berkas/{application_id}/dokumen/{document_id}")
async def document_page(
    request: Request,
    application_id: ApplicationId,
    document_id: DocumentId,
    session: SessionDep,
    ctx: ContextDep,
    principal: Viewer,
) -> Response:
    """Open an uploaded document (same rule and audit as the API)."""
    found = await documents.open_document(session, ctx, principal, application_id, document_id)
    return Response(
        found.content, media_type=found.content_type, headers=documents.download_headers(found)
    )


@router.post("/berkas/{application_id}/dokumen")
async def upload_page(
    request: Request,
    application_id: ApplicationId,
    session: SessionDep,
    ctx: ContextDep,
    principal: Viewer,
    checklist_item: Annotated[str, Form(max_length=40)],
    file: Annotated[UploadFile, File()],
) -> Response:
    result = await attempt(
        session,
        lambda: documents.upload_file(
            session, ctx, principal, application_id, checklist_item, file
        ),
    )
    return await outcome(
        _unless_missing(result),
        partial(_show, request, session, ctx, principal, application_id),
        lambda _: RedirectResponse(f"{root_of(request)}/berkas/{application_id}", status_code=303),
        _problem,
    )


@router.post("/berkas/{application_id}/aksi")
async def action_page(
    request: Request,
    application_id: ApplicationId,
    session: SessionDep,
    ctx: ContextDep,
    principal: Viewer,
    action: Annotated[str, Form(max_length=64)],
    note: Annotated[str, Form(max_length=2000)] = "",
    inspection_date: Annotated[str, Form(max_length=10)] = "",
    findings: Annotated[str, Form(max_length=4000)] = "",
    inspection_result: Annotated[str, Form(max_length=20)] = "",
    back: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    try:
        data = TransitionCreate.model_validate(
            {
                "action": action,
                "note": note or None,
                "inspection_date": inspection_date or None,
                "findings": findings or None,
                "inspection_result": inspection_result or None,
            }
        )
    except ValidationError as exc:
        return await _show(
            request,
            session,
            ctx,
            principal,
            application_id,
            messages=[("error", str(m)) for m in _errors_id(exc)],
            status_code=422,
        )
    target = "/antrean" if back == "antrean" else f"/berkas/{application_id}"
    result = await attempt(
        session,
        lambda: transitions.apply_transition(session, ctx, principal, application_id, data),
    )
    return await outcome(
        _unless_missing(result),
        partial(_show, request, session, ctx, principal, application_id),
        lambda _: RedirectResponse(f"{root_of(request)}{target}", status_code=303),
        _problem,
    )


@router.get("/berkas")
async def my_applications(
    request: Request, session: SessionDep, ctx: ContextDep, principal: Viewer
) -> Response:
    if common.is_staff(principal):  # staff's files are those waiting on their desk
        return RedirectResponse(f"{root_of(request)}/antrean", status_code=303)
    items, _ = await applications.list_applications(
        session,
        ctx,
        principal,
        status=None,
        permit_type_code=None,
        overdue=None,
        owner_nik=None,
        limit=100,
        cursor=None,
    )
    return render(request, "applications.html", {"items": items})


# --- Officer queue ------------------------------------------------------------------------------


@router.get("/antrean")
async def queue(
    request: Request, session: SessionDep, ctx: ContextDep, principal: StaffViewer
) -> Response:
    items = await applications.queue_for(session, ctx, principal)
    items, form, bad = staff.filter_queue(ctx, items, request.query_params)
    workflow = ctx.hayu.workflow
    rows = [(item, workflow.available_actions(item.status, principal.roles)) for item in items]
    return render(
        request,
        "queue.html",
        {"rows": rows, "roles": sorted(principal.roles), "role_labels": ROLE_LABELS, **form},
        messages=bad,
        status_code=422 if bad else 200,
    )


# --- Public: tracking, verification, statistics -------------------------------------------------


@router.get("/lacak")
async def track_page(
    request: Request, session: SessionDep, ctx: ContextDep, kode: str = ""
) -> HTMLResponse:
    result = None
    error = None
    if kode.strip():
        try:
            result = await tracking.track(session, ctx, kode[:40])
        except AppError:
            error = "Kode lacak tidak ditemukan. Periksa kembali penulisannya."
    return render(
        request,
        "track.html",
        {"kode": kode[:40], "t": result, "error": error},
        status_code=404 if error else 200,
    )


@router.get("/verify/{number:path}")
async def verify_page(
    request: Request, number: str, session: SessionDep, ctx: ContextDep, t: str | None = None
) -> HTMLResponse:
    try:
        result = await certificates.verify_number(session, ctx, number[:120], t)
    except AppError:
        return render(request, "verify.html", {"v": None, "number": number}, status_code=404)
    return render(request, "verify.html", {"v": result, "number": number})


@router.get("/periksa")
async def verify_lookup(request: Request, nomor: str = "") -> Response:
    if nomor.strip():
        return RedirectResponse(f"{root_of(request)}/verify/{nomor.strip()[:120]}", 303)
    return render(request, "verify.html", {"v": None, "number": "", "ask": True})


@router.get("/statistik")
async def stats_page(request: Request, session: SessionDep, ctx: ContextDep) -> HTMLResponse:
    stats = await oversight.public_stats(session, ctx)
    longest = max(
        [float(r.sla_working_days) for r in stats.items]
        + [r.p90_working_days or 0.0 for r in stats.items]
        + [1.0]
    )
    return render(request, "stats.html", {"stats": stats, "longest": longest})


router.include_router(lookup.router)

router.include_router(registration.router)  # registration, e-mail, password reset, channels
router.include_router(receipts.router)
router.include_router(staff.router)
