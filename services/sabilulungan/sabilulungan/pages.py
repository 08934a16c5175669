"""SABILULUNGAN's pages, in Bahasa Indonesia; every form works without JavaScript."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Path, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

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
from sabilulungan.dependencies import Context, context_of
from sabilulungan.schemas import ProposalCreate, RegisterCreate, TransitionCreate
from sabilulungan.workflow import REVIEWER_ROLES
from shared.auth import OptionalPrincipal, Principal
from shared.db import SessionDep
from shared.money import format_rupiah
from shared.pesan import FieldError, field_errors, problem_id
from shared.problems import AppError
from shared.web import render, root_of, tanggal

router = APIRouter(include_in_schema=False)
ProposalId = Annotated[int, Path(ge=1, le=2**53)]

KIND_LABELS = {"hibah": "Hibah", "bansos": "Bantuan sosial"}
LINE_ROWS = 5
# Form field id and its label, by the last matching parts of a pydantic error location.
FIELDS: dict[tuple[str, ...], tuple[str, str]] = {
    ("kind",): ("kind", "Jenis bantuan"),
    ("fiscal_year",): ("fiscal_year", "Tahun anggaran"),
    ("title",): ("title", "Judul usulan"),
    ("purpose",): ("purpose", "Tujuan penggunaan dana"),
    ("requested_amount_idr",): ("requested_amount_idr", "Jumlah yang diusulkan"),
    ("budget_lines",): ("line_description_0", "Rincian anggaran (RAB)"),
    ("applicant", "type"): ("applicant_type", "Pemohon adalah"),
    ("applicant", "name"): ("applicant_name", "Nama pemohon"),
    ("applicant", "nik"): ("nik", "NIK"),
    ("npwp",): ("npwp", "NPWP"),
    ("phone",): ("phone", "Nomor telepon"),
    ("region_code",): ("region_code", "Kode wilayah"),
    ("address",): ("address", "Alamat"),
    ("bank_account",): ("bank_account", "Nomor rekening bank"),
    ("legal_entity_number",): ("legal_entity_number", "Nomor badan hukum"),
    ("note",): ("note", "Catatan"),
    ("amount_idr",): ("amount_idr", "Jumlah"),
    ("decree_number",): ("decree_number", "Nomor Keputusan"),
    ("agreement_number",): ("agreement_number", "Nomor NPHD"),
    ("opd_code",): ("opd_code", "Kode OPD"),
}


def _field_of(loc: tuple[Any, ...]) -> tuple[str | None, str]:
    parts = tuple(str(p) for p in loc)
    if len(parts) >= 3 and parts[0] == "budget_lines":
        what = "line_amount" if parts[2] == "amount_idr" else "line_description"
        label = "Jumlah" if parts[2] == "amount_idr" else "Uraian"
        return f"{what}_{parts[1]}", f"RAB baris {int(parts[1]) + 1}, {label.lower()}"
    if "board_members" in parts and len(parts) >= 4:
        who = "chair" if parts[-2] == "0" else "secretary"
        field = parts[-1] if parts[-1] in ("name", "nik") else "name"
        role = "ketua" if who == "chair" else "sekretaris"
        return f"{who}_{field}", f"{'NIK' if field == 'nik' else 'Nama'} {role}"
    names = tuple(p for p in parts if not p.isdigit())
    for size in (2, 1):
        if len(names) >= size and names[-size:] in FIELDS:
            return FIELDS[names[-size:]]
    return None, ""


def _rupiah_id(amount: Any) -> str:
    return format_rupiah(int(amount)) if isinstance(amount, int) else str(amount)


def _window_closed(exc: AppError) -> str:
    opens, closes = exc.extensions.get("opens_on"), exc.extensions.get("closes_on")
    if opens and closes:
        return (
            "Usulan untuk tahun anggaran ini hanya diterima dari "
            f"{tanggal(dt.date.fromisoformat(opens))} sampai "
            f"{tanggal(dt.date.fromisoformat(closes))}."
        )
    return "Belum ada masa pengajuan usulan yang dibuka untuk tahun anggaran ini."


PROBLEMS: dict[str, Any] = {
    "ineligible-applicant": (
        "Hibah hanya untuk organisasi berbadan hukum dengan nomor SK Kemenkumham "
        "(UU 23/2014 Pasal 298 ayat 5); perorangan dan kelompok mengajukan bansos dengan NIK."
    ),
    "budget-lines-mismatch": lambda e: (
        f"Jumlah rincian anggaran ({_rupiah_id(e.extensions.get('lines_total_idr'))}) tidak sama "
        f"dengan jumlah yang diusulkan ({_rupiah_id(e.extensions.get('requested_amount_idr'))})."
    ),
    "proposal-window-closed": _window_closed,
    "amount-above-requested": lambda e: (
        "Jumlah tidak boleh melebihi jumlah yang diusulkan "
        f"({_rupiah_id(e.extensions.get('requested_amount_idr'))})."
    ),
    "invalid-amount": "Jumlah harus berupa rupiah bulat lebih dari nol.",
    "freeze-period": lambda e: (
        f"Tindakan ini dihentikan sementara selama masa {e.extensions.get('period', '')} "
        f"({e.extensions.get('starts_on', '')} sampai {e.extensions.get('ends_on', '')})."
    ),
    "budget-ceiling-exceeded": lambda e: (
        "Persetujuan ini melampaui pagu tahun anggaran; sisa pagu "
        f"{_rupiah_id(e.extensions.get('remaining_idr'))}."
    ),
    "budget-not-set": "Pagu untuk jenis bantuan dan tahun anggaran ini belum ditetapkan.",
    "segregation-of-duties": (
        "Pejabat yang merekomendasikan atau menetapkan jumlah tidak boleh juga menyetujuinya."
    ),
    "agreement-required": "Hibah tidak dapat dicairkan sebelum NPHD ditandatangani.",
    "disbursement-exceeds-approved": lambda e: (
        "Pencairan melebihi jumlah yang disetujui; sisa yang dapat dicairkan "
        f"{_rupiah_id(e.extensions.get('remaining_idr'))}."
    ),
    "too-many-tranches": "Jumlah tahap pencairan sudah mencapai batas.",
    "integrity-flag": "Tanda integritas menghalangi persetujuan; periksa bagian Tanda integritas.",
    "not-your-proposal": "Hanya pemohon atau Tata Usaha yang dapat melakukan ini.",
    "opd-mismatch": "Usulan ini ditugaskan kepada OPD lain.",
    "unknown-checklist-item": "Jenis dokumen tidak dikenal; pilih dari daftar.",
    "unsupported-file": "Hanya berkas PDF, JPEG atau PNG (tidak kosong) yang diterima.",
    "file-too-large": "Berkas terlalu besar.",
    "document-not-available": "Dokumen ini belum tersedia.",
    "proposal-not-found": "Usulan tidak ditemukan. Periksa kembali kode pelacakan.",
    "document-not-found": "Dokumen tidak ditemukan.",
    "personal-data-forbidden": "Peran Anda tidak berwenang melihat data pribadi.",
    "missing-documents": "Dokumen persyaratan belum lengkap; lihat daftar dokumen yang kurang.",
    "checklist-incomplete": "Semua butir berita acara evaluasi wajib dijawab dan terpenuhi "
    "sebelum merekomendasikan jumlah; jika tidak, kembalikan atau tolak usulan.",
    "uploads-locked": "Unggahan ditutup pada tahap ini.",
    "outside-fiscal-year": "Pencairan hanya dalam tahun anggaran usulan.",
    "amount-above-recommendation": "Jumlah tidak boleh melebihi rekomendasi sebelumnya.",
    "unknown-opd": "Pilih OPD dari daftar.",
    "not-stage-holder": "Hanya pemegang tahap saat ini yang dapat melakukan tindakan ini.",
    "invalid-refund": "Jumlah pengembalian tidak sah.",
    "unspent-not-returned": "Sisa dana belum disetor kembali ke Kas Daerah.",
    "past-fiscal-year": "Tahun anggaran sudah lewat.",
}
PROBLEM_FIELDS = {
    "budget-lines-mismatch": ("requested_amount_idr", "Jumlah yang diusulkan"),
    "ineligible-applicant": ("legal_entity_number", "Nomor badan hukum"),
    "past-fiscal-year": ("fiscal_year", "Tahun anggaran"),
}
# A refused eligibility rule, in Bahasa Indonesia, next to the field it concerns.
RULE_MESSAGES = {
    "recipient_category": ("category", "Kategori penerima tidak sesuai dengan jenis bantuan "
                           "(hibah hanya untuk pemerintah, BUMN/BUMD dan organisasi berbadan "
                           "hukum; perorangan mengajukan bansos)."),
    "legal_document": ("legal_entity_number", "Nomor badan hukum wajib diisi dengan format yang "
                       "benar, misalnya AHU-0012345.AH.01.04.2019."),
    "registration_age": ("legal_entity_number", "Lembaga belum terdaftar cukup lama."),
    "max_amount": ("requested_amount_idr", "Jumlah melebihi batas untuk kategori penerima ini."),
    "bansos_purpose": ("purpose_code", "Pilih tujuan bansos."),
    "domicile": ("region_code", "Domisili atau kedudukan penerima harus di wilayah daerah ini."),
    "fiscal_year": ("fiscal_year", "Tahun anggaran sudah lewat."),
}  # fmt: skip


def _problem(exc: AppError) -> str:
    return problem_id(exc, PROBLEMS)


def rt_checklist(request: Request) -> dict[str, str]:
    return context_of(request.app.state).config.evaluation_checklist


def _login_redirect(request: Request) -> Response:
    return RedirectResponse(f"{root_of(request)}/login?next={request.url.path}", status_code=303)


def _validation_messages(exc: ValidationError) -> list[tuple[str, str]]:
    return [("error", str(e)) for e in field_errors(exc, _field_of)]


@router.get("/")
async def home(request: Request, principal: OptionalPrincipal) -> HTMLResponse:
    ctx = context_of(request.app.state)
    return render(request, "index.html", {"year": ctx.today().year + 1}, principal=principal)


# ------------------------------------------------------------------------------------------------
# Tracking and transparency (public)
# ------------------------------------------------------------------------------------------------


@router.get("/lacak")
async def track_form(
    request: Request, kode: Annotated[str | None, Query(max_length=40)] = None
) -> Response:
    if kode:
        return RedirectResponse(f"{root_of(request)}/lacak/{kode.strip()}", status_code=303)
    return render(request, "track_form.html", {})


@router.get("/lacak/{code}")
async def track_page(request: Request, code: str, session: SessionDep) -> Response:
    ctx = context_of(request.app.state)
    try:
        tracked = await public.track(session, ctx, code)
    except AppError as exc:
        return render(
            request,
            "track_form.html",
            {"code": code},
            status_code=404,
            messages=[("error", _problem(exc))],
        )
    longest = max([t.working_days for t in tracked.timeline] + [1])
    return render(
        request,
        "track.html",
        {"t": tracked, "longest": longest, "kinds": KIND_LABELS},
    )


@router.get("/transparansi")
async def transparency(
    request: Request,
    session: SessionDep,
    tahun: Annotated[int | None, Query(ge=2000, le=2100)] = None,
) -> HTMLResponse:
    ctx = context_of(request.app.state)
    year = tahun or ctx.today().year + 1
    budget = await budgets.public_budget(session, year)
    rows = await public.ledger_all(session, fiscal_year=year, kind=None)
    return render(
        request,
        "transparency.html",
        {"year": year, "budget": budget, "rows": rows, "kinds": KIND_LABELS, "ctx": ctx},
    )


@router.get("/verify/{number}")
async def verify_page(
    request: Request,
    number: str,
    session: SessionDep,
    t: Annotated[str | None, Query(max_length=2000)] = None,
) -> Response:
    try:
        result = await issued.verification(session, context_of(request.app.state), number, t)
    except AppError:
        return render(request, "verify.html", {"result": None, "number": number}, status_code=404)
    return render(request, "verify.html", {"result": result, "number": number})


# ------------------------------------------------------------------------------------------------
# Applicants
# ------------------------------------------------------------------------------------------------


@router.get("/daftar")
async def register_form(request: Request) -> HTMLResponse:
    return render(request, "register.html", {"form": {}})


@router.post("/daftar")
async def register_submit(
    request: Request,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=256)],
    full_name: Annotated[str, Form(max_length=200)],
) -> Response:
    form = {"username": username, "full_name": full_name}
    try:
        data = RegisterCreate(username=username, password=password, full_name=full_name)
        async with request.app.state.db.sessionmaker.begin() as session:
            await accounts.register_applicant(session, data)
    except ValidationError:
        return render(
            request,
            "register.html",
            {"form": form},
            status_code=422,
            messages=[
                (
                    "error",
                    "Nama pengguna 3–64 huruf/angka, kata sandi minimal 10 karakter, "
                    "nama lengkap wajib diisi.",
                )
            ],
        )
    except AppError:
        return render(
            request,
            "register.html",
            {"form": form},
            status_code=409,
            messages=[("error", "Nama pengguna sudah dipakai; pilih yang lain.")],
        )
    return RedirectResponse(f"{root_of(request)}/login?next={root_of(request)}/ajukan", 303)


def _proposal_from_form(form: dict[str, Any]) -> ProposalCreate:
    def opt(name: str) -> str | None:
        value = str(form.get(name, "")).strip()
        return value or None

    def rupiah(name: str) -> int | str:
        text = str(form.get(name, "")).replace(".", "").replace(" ", "").strip()
        return int(text) if text.isdigit() else text

    lines = []
    for i in range(LINE_ROWS):
        description = opt(f"line_description_{i}")
        amount = opt(f"line_amount_{i}")
        if description or amount:
            lines.append(
                {"description": description or "", "amount_idr": rupiah(f"line_amount_{i}")}
            )
    board = []
    for who in ("chair", "secretary"):
        name, nik = opt(f"{who}_name"), opt(f"{who}_nik")
        if name or nik:
            board.append(
                {
                    "name": name or "",
                    "nik": nik or "",
                    "position": "Ketua" if who == "chair" else "Sekretaris",
                }
            )
    applicant_type = opt("applicant_type") or "individual"
    return ProposalCreate.model_validate(
        {
            "kind": opt("kind"),
            "fiscal_year": opt("fiscal_year"),
            "title": opt("title"),
            "purpose": opt("purpose"),
            "purpose_code": opt("purpose_code"),
            "requested_amount_idr": rupiah("requested_amount_idr"),
            "budget_lines": lines,
            "applicant": {
                "type": applicant_type,
                "name": opt("applicant_name"),
                "nik": opt("nik"),
                "legal_entity_number": opt("legal_entity_number"),
                "npwp": opt("npwp"),
                "address": opt("address"),
                "region_code": opt("region_code"),
                "phone": opt("phone"),
                "bank_account": opt("bank_account"),
                "board_members": board if applicant_type == "organization" else [],
                "category": opt("category"),
            },
        }
    )


PURPOSE_LABELS = {
    "rehabilitasi_sosial": "Rehabilitasi sosial",
    "perlindungan_sosial": "Perlindungan sosial",
    "pemberdayaan_sosial": "Pemberdayaan sosial",
    "jaminan_sosial": "Jaminan sosial",
    "penanggulangan_kemiskinan": "Penanggulangan kemiskinan",
    "penanggulangan_bencana": "Penanggulangan bencana",
}


def _apply_choices(ctx: Context) -> dict[str, Any]:
    rule = ctx.config.rule_set_on(ctx.today())
    purposes: dict[str, str] = {}
    for category in rule.recipient_categories.values():
        for code in category.purposes:
            purposes[code] = PURPOSE_LABELS.get(code, code)
    categories = {k: f"{c.label} ({c.kind})" for k, c in rule.recipient_categories.items()}
    return {"purposes": purposes, "categories": categories}


@router.get("/ajukan")
async def apply_form(request: Request, principal: OptionalPrincipal) -> Response:
    if principal is None:
        return _login_redirect(request)
    ctx = context_of(request.app.state)
    return render(
        request,
        "apply.html",
        {
            "form": {"fiscal_year": ctx.today().year + 1},
            "rows": range(LINE_ROWS),
            "errors": [],
            **_apply_choices(ctx),
        },
        principal=principal,
    )


@router.post("/ajukan")
async def apply_submit(request: Request, principal: OptionalPrincipal) -> Response:
    if principal is None:
        return _login_redirect(request)
    form = dict((await request.form()).items())
    ctx = context_of(request.app.state)
    errors: list[FieldError] = []
    if "applicant" not in principal.roles:
        errors = [FieldError(None, "", "Hanya akun pemohon yang dapat mengajukan usulan.")]
    else:
        try:
            data = _proposal_from_form(form)
            async with request.app.state.db.sessionmaker.begin() as session:
                created = await submission.create_proposal(session, ctx, principal, data)
            return RedirectResponse(
                f"{root_of(request)}/usulan/{created.id}?baru=1", status_code=303
            )
        except ValidationError as exc:
            errors = field_errors(exc, _field_of)
        except AppError as exc:
            rule = str(getattr(exc, "extensions", {}).get("rule", ""))
            if rule in RULE_MESSAGES:
                errors = [FieldError(RULE_MESSAGES[rule][0], "", RULE_MESSAGES[rule][1])]
            else:
                field, _ = PROBLEM_FIELDS.get(exc.type, (None, ""))
                errors = [FieldError(field, "", _problem(exc))]
    form.pop("csrf_token", None)
    return render(
        request,
        "apply.html",
        {"form": form, "rows": range(LINE_ROWS), "errors": errors, **_apply_choices(ctx)},
        status_code=422,
        principal=principal,
    )


# ------------------------------------------------------------------------------------------------
# Proposal detail, actions, uploads, work queue (logged in)
# ------------------------------------------------------------------------------------------------


async def _detail(
    request: Request,
    principal: Principal,
    proposal_id: ProposalId,
    messages: list[tuple[str, str]],
    status_code: int = 200,
) -> Response:
    ctx = context_of(request.app.state)
    async with request.app.state.db.sessionmaker() as session:
        try:
            p = await proposals.read_proposal(session, ctx, principal, proposal_id)
        except AppError as exc:
            return render(
                request,
                "error.html",
                {"title": "Usulan tidak ditemukan", "detail": _problem(exc), "status": 404},
                status_code=404,
            )
        flags = []
        if principal.roles & REVIEWER_ROLES:
            flags = await proposals.proposal_flags(session, ctx, principal, proposal_id)
        files = await documents.list_documents(session, principal, proposal_id)
    uploaded: dict[str, int] = {}
    for f in files:
        uploaded[f.checklist_item] = uploaded.get(f.checklist_item, 0) + 1
    actions = [a for a in ctx.workflow.actions if a.name in p.available_actions]
    return render(
        request,
        "proposal.html",
        {
            "p": p,
            "flags": flags,
            "actions": actions,
            "uploaded": uploaded,
            "files": files,
            "checklist": ctx.config.checklist_items,
            "evaluation": ctx.config.evaluation_checklist,
            "recommend_actions": [a.name for a in actions if ctx.effect(a.name) == "recommend"],
            "kinds": KIND_LABELS,
            "desk": ctx.config.desk_labels,
            "opd_units": ctx.config.opd_units,
            "report_actions": [a.name for a in actions if ctx.effect(a.name) == "submit_report"],
        },
        principal=principal,
        messages=messages,
        status_code=status_code,
    )


@router.get("/usulan/{proposal_id}")
async def proposal_page(
    request: Request,
    proposal_id: ProposalId,
    principal: OptionalPrincipal,
    baru: Annotated[int | None, Query()] = None,
    aksi: Annotated[str | None, Query(max_length=64)] = None,
) -> Response:
    if principal is None:
        return _login_redirect(request)
    messages = []
    if baru:
        messages.append(("success", "Usulan diterima. Simpan kode pelacakan Anda."))
    if aksi:
        messages.append(("success", "Tindakan tersimpan."))
    return await _detail(request, principal, proposal_id, messages)


@router.post("/usulan/{proposal_id}/aksi")
async def proposal_action(
    request: Request, proposal_id: ProposalId, principal: OptionalPrincipal
) -> Response:
    if principal is None:
        return _login_redirect(request)
    form = await request.form()
    raw: dict[str, Any] = {
        k: str(v).strip()
        for k, v in form.items()
        if k
        in ("action", "note", "amount_idr", "decree_number", "agreement_number", "opd_code",
            "spent_idr")
        and str(v).strip()
    }  # fmt: skip
    if "check_present" in form:
        raw["checklist"] = {key: form.get(f"check_{key}") == "ya" for key in rt_checklist(request)}
    for key in ("amount_idr", "spent_idr"):
        if key in raw:
            raw[key] = raw[key].replace(".", "")
    ctx = context_of(request.app.state)
    try:
        data = TransitionCreate.model_validate(raw)
        async with request.app.state.db.sessionmaker.begin() as session:
            await transitions.apply_transition(session, ctx, principal, proposal_id, data)
    except ValidationError as exc:
        return await _detail(request, principal, proposal_id, _validation_messages(exc), 422)
    except AppError as exc:
        return await _detail(
            request, principal, proposal_id, [("error", _problem(exc))], exc.status
        )
    return RedirectResponse(
        f"{root_of(request)}/usulan/{proposal_id}?aksi={raw.get('action', '')}", status_code=303
    )


@router.post("/usulan/{proposal_id}/dokumen")
async def proposal_upload(
    request: Request,
    proposal_id: ProposalId,
    principal: OptionalPrincipal,
    item: Annotated[str, Form(max_length=64)],
    file: Annotated[UploadFile, File()],
) -> Response:
    if principal is None:
        return _login_redirect(request)
    ctx = context_of(request.app.state)
    content = await file.read(ctx.upload_max_bytes + 1)
    try:
        async with request.app.state.db.sessionmaker.begin() as session:
            await documents.upload_document(
                session,
                ctx,
                principal,
                proposal_id,
                checklist_item=item,
                filename=file.filename or "berkas",
                content=content,
            )
    except AppError as exc:
        return await _detail(
            request, principal, proposal_id, [("error", _problem(exc))], exc.status
        )
    return await _detail(request, principal, proposal_id, [("success", "Berkas diunggah.")])


DECREE_ISSUERS = frozenset({"head", "tapd", "admin"})


async def _queue(
    request: Request,
    principal: Principal,
    session: AsyncSession,
    messages: list[tuple[str, str]],
    status_code: int = 200,
) -> Response:
    ctx = context_of(request.app.state)
    items = await proposals.work_queue(session, ctx, principal)
    return render(
        request,
        "queue.html",
        {
            "items": items,
            "kinds": KIND_LABELS,
            "can_issue": bool(principal.roles & DECREE_ISSUERS),
            "year": ctx.today().year + 1,
        },
        principal=principal,
        messages=messages,
        status_code=status_code,
    )


@router.get("/antrian")
async def work_queue(
    request: Request, principal: OptionalPrincipal, session: SessionDep
) -> Response:
    if principal is None:
        return _login_redirect(request)
    return await _queue(request, principal, session, [])


@router.post("/keputusan/lampiran")
async def issue_annex(
    request: Request,
    principal: OptionalPrincipal,
    decree_number: Annotated[str, Form(min_length=1, max_length=100)],
    fiscal_year: Annotated[int, Form(ge=2000, le=2100)],
) -> Response:
    if principal is None:
        return _login_redirect(request)
    db = request.app.state.db
    if not principal.roles & DECREE_ISSUERS:
        messages = [("error", "Hanya kepala daerah, TAPD atau admin yang dapat menerbitkan.")]
        async with db.sessionmaker() as session:
            return await _queue(request, principal, session, messages, 403)
    try:
        async with db.sessionmaker.begin() as session:
            doc = await issued.issue_decree_annex(
                session,
                context_of(request.app.state),
                principal,
                decree_number=decree_number.strip(),
                fiscal_year=fiscal_year,
            )
    except AppError as exc:
        async with db.sessionmaker() as session:
            messages = [("error", _problem(exc))]
            return await _queue(request, principal, session, messages, exc.status)
    return RedirectResponse(f"{root_of(request)}/api/v1/documents/{doc.number}.pdf", 303)
