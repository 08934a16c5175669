"""Applicants' pages: registering an account and filing a proposal."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from sabilulungan import accounts, submission
from sabilulungan.dependencies import Context, ContextDep
from sabilulungan.pages.common import (
    LINE_ROWS,
    PROBLEM_FIELDS,
    RULE_MESSAGES,
    field_of,
    problem,
)
from sabilulungan.schemas import ProposalCreate, RegisterCreate
from shared.contact import ContactError
from shared.pages import Viewer, page_router
from shared.pesan import FieldError, field_errors
from shared.problems import AppError
from shared.web import render, root_of

router = page_router()


@router.get("/daftar")
async def register_form(request: Request) -> HTMLResponse:
    return render(request, "register.html", _register_view(request, {}))


def _register_view(request: Request, form: dict[str, str]) -> dict[str, Any]:
    return {"form": form, "email_required": request.app.state.settings.email_required}


CONTACT_MESSAGES = {
    "email": "Alamat e-mail tidak valid (contoh: nama@contoh.id).",
    "phone": "Nomor telepon tidak valid: 8–15 angka, misalnya 081234567890.",
}


@router.post("/daftar")
async def register_submit(
    request: Request,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=256)],
    full_name: Annotated[str, Form(max_length=200)],
    email: Annotated[str, Form(max_length=254)] = "",
    phone: Annotated[str, Form(max_length=32)] = "",
) -> Response:
    form = {"username": username, "full_name": full_name, "email": email, "phone": phone}
    try:
        data = RegisterCreate(
            username=username,
            password=password,
            full_name=full_name,
            email=email or None,
            phone=phone or None,
        )
        async with request.app.state.db.sessionmaker.begin() as session:
            await accounts.register_applicant(session, data, request.app.state)
    except ValidationError:
        return render(
            request,
            "register.html",
            _register_view(request, form),
            status_code=422,
            messages=[
                (
                    "error",
                    "Nama pengguna 3–64 huruf/angka, kata sandi minimal 10 karakter, "
                    "nama lengkap wajib diisi.",
                )
            ],
        )
    except ContactError as exc:
        field = str(exc.extensions.get("field", "email"))
        message = CONTACT_MESSAGES[field]
        if field == "email" and not email.strip():
            message = "Alamat e-mail wajib diisi."
        return render(
            request,
            "register.html",
            {**_register_view(request, form), "field_errors": {field: message}},
            status_code=422,
            messages=[("error", message)],
        )
    except AppError:
        return render(
            request,
            "register.html",
            _register_view(request, form),
            status_code=409,
            messages=[("error", "Nama pengguna sudah dipakai; pilih yang lain.")],
        )
    return render(
        request,
        "register_done.html",
        {
            "username": data.username,
            "email_sent": data.email is not None,
            "next_url": f"{root_of(request)}/ajukan",
        },
    )


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
            "social_risk": opt("social_risk"),
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
                "registered_on": opt("registered_on"),
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
    rule = ctx.config.rule_set_on(ctx.today)
    purposes: dict[str, str] = {}
    for category in rule.recipient_categories.values():
        for code in category.purposes:
            purposes[code] = PURPOSE_LABELS.get(code, code)
    risks = {
        code: code.replace("_", " ").capitalize()
        for category in rule.recipient_categories.values()
        for code in category.social_risks
    }
    categories = {k: f"{c.label} ({c.kind})" for k, c in rule.recipient_categories.items()}
    return {"purposes": purposes, "categories": categories, "social_risks": risks}


@router.get("/ajukan")
async def apply_form(request: Request, principal: Viewer, ctx: ContextDep) -> Response:
    return render(
        request,
        "apply.html",
        {
            "form": {"fiscal_year": ctx.today.year + 1},
            "rows": range(LINE_ROWS),
            "errors": [],
            **_apply_choices(ctx),
        },
        principal=principal,
    )


@router.post("/ajukan")
async def apply_submit(request: Request, principal: Viewer, ctx: ContextDep) -> Response:
    form = dict((await request.form()).items())
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
            errors = field_errors(exc, field_of)
        except AppError as exc:
            rule = str(getattr(exc, "extensions", {}).get("rule", ""))
            if rule in RULE_MESSAGES:
                errors = [FieldError(RULE_MESSAGES[rule][0], "", RULE_MESSAGES[rule][1])]
            else:
                field, _ = PROBLEM_FIELDS.get(exc.type, (None, ""))
                errors = [FieldError(field, "", problem(exc))]
    form.pop("csrf_token", None)
    return render(
        request,
        "apply.html",
        {"form": form, "rows": range(LINE_ROWS), "errors": errors, **_apply_choices(ctx)},
        status_code=422,
        principal=principal,
    )
