"""The business owner's account pages: registration with e-mail and phone, and (from
`shared.contact`) the e-mail verification, "lupa kata sandi" and "Pengaturan notifikasi"."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from hayu import accounts
from hayu.models import Account, AuditEvent
from hayu.schemas import RegisterCreate
from shared.contact import ContactError, contact_pages
from shared.db import SessionDep
from shared.pesan import FieldError
from shared.problems import AppError
from shared.web import render, root_of

router = APIRouter(include_in_schema=False)
router.include_router(contact_pages(account_model=Account, event_model=AuditEvent))


def _errors_id(exc: ValidationError) -> list[FieldError]:
    from hayu.pages import _errors_id as errors_id

    return errors_id(exc)


@router.get("/daftar")
async def register_form(request: Request) -> HTMLResponse:
    return render(request, "register.html", _register_view(request, {}, []))


def _register_view(request: Request, form: dict[str, str], errors: list[Any]) -> dict[str, Any]:
    return {
        "form": form,
        "errors": errors,
        "email_required": request.app.state.settings.email_required,
    }


CONTACT_ERRORS = {
    "email": FieldError("email", "E-mail", "tidak valid (contoh: nama@contoh.id)"),
    "phone": FieldError("phone", "Nomor telepon", "tidak valid: 8–15 angka, misalnya 0812…"),
}


@router.post("/daftar")
async def register(
    request: Request,
    session: SessionDep,
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
        await accounts.register_owner(session, data, request.app.state)
    except ValidationError as exc:
        return render(
            request,
            "register.html",
            _register_view(request, form, _errors_id(exc)),
            status_code=422,
        )
    except ContactError as exc:
        field = str(exc.extensions.get("field", "email"))
        error = CONTACT_ERRORS[field]
        if field == "email" and not email.strip():
            error = FieldError("email", "E-mail", "wajib diisi")
        return render(
            request, "register.html", _register_view(request, form, [error]), status_code=422
        )
    except AppError:
        taken = [FieldError("username", "Nama pengguna", "sudah dipakai; pilih yang lain")]
        return render(
            request, "register.html", _register_view(request, form, taken), status_code=409
        )
    return render(
        request,
        "register_done.html",
        {
            "username": data.username,
            "email_sent": data.email is not None,
            "next_url": f"{root_of(request)}/lapor",
        },
    )
