"""A citizen's contact: e-mail (verified by a signed link) and phone, the password reset by e-mail,
and the channel choices, with their pages (Bahasa Indonesia).

E-mail and phone are personal data: stored encrypted with the service's data key, the e-mail also
as a blind index (to find the account for a reset), never logged. Links carry a token signed with
the service's Ed25519 key (`shared.signing`), with an expiry, and a fingerprint of what they
confirm: the verification link names a hash of the address it was sent to (a changed address
voids it); the reset link names a hash of the password hash it replaces, so it works once (the
new password changes the hash) and a password change voids it. A new password raises the
account's token epoch (the database trigger), ending every session, as a password change does.

Asking for a reset answers the same whether or not the account exists; asking is counted per
address and per username like failed logins (`password_reset_max_per_address`).
"""

from __future__ import annotations

import hashlib
import re
import time
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import or_, select

from shared.audit import record_event
from shared.auth import OptionalPrincipal, hash_password_async
from shared.crypto import FieldCipher
from shared.db import utcnow
from shared.login_guard import LoginGuard
from shared.network import client_address
from shared.problems import AppError, UnprocessableError
from shared.signing import SignatureError, Signer, verify_payload
from shared.web import render, root_of

EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
PHONE_RE = re.compile(r"^\+?[0-9]{8,15}$")


class ContactError(UnprocessableError):
    title = "Contact not valid"
    type = "contact-invalid"


def normalize_email(value: str | None) -> str | None:
    text = (value or "").strip()
    if not text:
        return None
    if len(text) > 254 or not EMAIL_RE.match(text):
        raise ContactError("The e-mail address is not valid", field="email")
    local, _, domain = text.rpartition("@")
    return f"{local}@{domain.lower()}"


def normalize_phone(value: str | None) -> str | None:
    text = re.sub(r"[\s().-]", "", value or "")
    if not text:
        return None
    if not PHONE_RE.match(text):
        raise ContactError("The phone number is not valid", field="phone")
    if text.startswith("0"):
        text = "+62" + text[1:]
    elif not text.startswith("+"):
        text = "+" + text
    return text


def email_index(cipher: FieldCipher, email: str) -> str:
    return cipher.blind_index(email.casefold(), purpose="account-email")


def set_contact(account: Any, cipher: FieldCipher, *, email: str | None, phone: str | None) -> None:
    """Store (encrypted) the normalized e-mail and phone; a new e-mail is unverified."""
    if email is not None:
        account.email_encrypted = cipher.encrypt(email, context="account.email")
        account.email_index = email_index(cipher, email)
        account.email_verified_at = None
    if phone is not None:
        account.phone_encrypted = cipher.encrypt(phone, context="account.phone")


def _fingerprint(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def email_token(signer: Signer, account: Any, email: str, hours: int) -> str:
    exp = int(time.time()) + hours * 3600
    return signer.sign_payload({"p": "email", "u": account.id, "e": _fingerprint(email), "x": exp})


def reset_token(signer: Signer, account: Any, minutes: int) -> str:
    exp = int(time.time()) + minutes * 60
    fp = _fingerprint(account.password_hash)
    return signer.sign_payload({"p": "reset", "u": account.id, "h": fp, "x": exp})


def _payload(signer: Signer, token: str, purpose: str) -> dict[str, Any] | None:
    try:
        payload = verify_payload(token, signer.public_key_b64())
    except (SignatureError, ValueError):
        return None
    if payload.get("p") != purpose or int(payload.get("x", 0)) < time.time():
        return None
    return payload


def account_link(app: Any, account: Any, kind: str) -> str:
    """The link an account-level mail carries (verification or reset), signed now."""
    from shared.notifications import base_url, contact_of

    settings = app.state.settings
    signer: Signer = app.state.signer
    if kind == "password_reset":
        token = reset_token(signer, account, settings.password_reset_minutes)
        return f"{base_url(app)}/atur-ulang-sandi?token={token}"
    email, _ = contact_of(app.state.cipher, account)
    token = email_token(signer, account, email or "", settings.email_link_hours)
    return f"{base_url(app)}/verifikasi-email?token={token}"


def _reset_guard(request: Request) -> LoginGuard:
    state = request.app.state
    guard: LoginGuard | None = getattr(state, "reset_guard", None)
    if guard is None:
        settings = state.settings
        guard = state.reset_guard = LoginGuard(
            max_per_pair=3,
            max_per_address=settings.password_reset_max_per_address,
            window_seconds=float(settings.login_lockout_seconds),
        )
    return guard


RESET_SENT = (
    "Jika nama pengguna atau e-mail itu terdaftar dengan e-mail yang dapat dihubungi, kami telah "
    "mengirim tautan untuk mengatur ulang kata sandi. Periksa kotak masuk (dan folder spam) Anda."
)


def contact_pages(*, account_model: Any, event_model: Any) -> APIRouter:
    """/verifikasi-email, /lupa-sandi, /atur-ulang-sandi and /pengaturan-notifikasi."""
    router = APIRouter(include_in_schema=False)
    _verification_routes(router, account_model, event_model)
    _reset_routes(router, account_model, event_model)
    _settings_routes(router, account_model, event_model)
    return router


def _verification_routes(router: APIRouter, account_model: Any, event_model: Any) -> None:

    @router.get("/verifikasi-email")
    async def verify_email(request: Request, token: str = "") -> HTMLResponse:
        payload = _payload(request.app.state.signer, token[:2000], "email")
        ok = False
        if payload is not None:
            from shared.notifications import contact_of

            async with request.app.state.db.sessionmaker.begin() as session:
                account = await session.get(account_model, int(payload["u"]))
                if account is not None and account.active:
                    email, _ = contact_of(request.app.state.cipher, account)
                    if email and _fingerprint(email) == payload.get("e"):
                        ok = True
                        if account.email_verified_at is None:
                            account.email_verified_at = utcnow()
                            await record_event(
                                session,
                                event_model,
                                actor=account.username,
                                action="account.email_verified",
                                entity_type="account",
                                entity_id=account.id,
                            )
        return render(request, "email_verified.html", {"ok": ok}, status_code=200 if ok else 400)


def _reset_routes(router: APIRouter, account_model: Any, event_model: Any) -> None:
    @router.get("/lupa-sandi")
    async def forgot_form(request: Request) -> HTMLResponse:
        return render(request, "password_forgot.html", {"identifier": "", "sent": False})

    @router.post("/lupa-sandi")
    async def forgot_submit(
        request: Request, identifier: Annotated[str, Form(max_length=254)] = ""
    ) -> Response:
        ident = identifier.strip()
        if not ident:
            return render(
                request,
                "password_forgot.html",
                {"identifier": "", "sent": False, "error": "Isi nama pengguna atau e-mail."},
                status_code=422,
            )
        guard, address = _reset_guard(request), client_address(request)
        try:
            guard.check(ident, address)
        except AppError as exc:
            response = render(
                request,
                "password_forgot.html",
                {
                    "identifier": ident,
                    "sent": False,
                    "error": "Terlalu banyak permintaan. Tunggu beberapa menit lalu coba lagi.",
                },
                status_code=exc.status,
            )
            response.headers.update(exc.headers or {})
            return response
        guard.failed(ident, address)  # every request counts, found or not
        cipher: FieldCipher = request.app.state.cipher
        async with request.app.state.db.sessionmaker.begin() as session:
            conditions = [account_model.username == ident]
            if "@" in ident:
                conditions.append(
                    account_model.email_index == email_index(cipher, ident.casefold())
                )
            account = (
                await session.execute(select(account_model).where(or_(*conditions)).limit(1))
            ).scalar_one_or_none()
            if account is not None and account.active and account.email_encrypted:
                await record_event(
                    session,
                    event_model,
                    actor=account.username,
                    action="account.password_reset_requested",
                    entity_type="account",
                    entity_id=account.id,
                )
        return render(request, "password_forgot.html", {"identifier": "", "sent": True})

    @router.get("/atur-ulang-sandi")
    async def reset_form(request: Request, token: str = "") -> HTMLResponse:
        ok = _payload(request.app.state.signer, token[:2000], "reset") is not None
        return render(
            request,
            "password_reset.html",
            {"token": token if ok else "", "invalid": not ok},
            status_code=200 if ok else 400,
        )

    @router.post("/atur-ulang-sandi")
    async def reset_submit(
        request: Request,
        token: Annotated[str, Form(max_length=2000)] = "",
        password: Annotated[str, Form(max_length=256)] = "",
        password_again: Annotated[str, Form(max_length=256)] = "",
    ) -> Response:
        payload = _payload(request.app.state.signer, token, "reset")
        if payload is None:
            return render(
                request, "password_reset.html", {"token": "", "invalid": True}, status_code=400
            )
        if len(password) < 10 or password != password_again:
            return render(
                request,
                "password_reset.html",
                {
                    "token": token,
                    "invalid": False,
                    "error": "Kata sandi minimal 10 karakter dan kedua isian harus sama.",
                },
                status_code=422,
            )
        new_hash = await hash_password_async(password)
        async with request.app.state.db.sessionmaker.begin() as session:
            account = await session.get(account_model, int(payload["u"]), with_for_update=True)
            if (
                account is None
                or not account.active
                or _fingerprint(account.password_hash) != payload.get("h")
            ):
                return render(
                    request, "password_reset.html", {"token": "", "invalid": True}, status_code=400
                )
            account.password_hash = new_hash  # the trigger raises the token epoch
            account.must_change_password = False
            await record_event(
                session,
                event_model,
                actor=account.username,
                action="account.password_reset",
                entity_type="account",
                entity_id=account.id,
            )
        return RedirectResponse(f"{root_of(request)}/login?sandi=baru", status_code=303)


def _settings_routes(router: APIRouter, account_model: Any, event_model: Any) -> None:
    @router.get("/pengaturan-notifikasi")
    async def settings_form(request: Request, principal: OptionalPrincipal) -> Response:
        if principal is None:
            return RedirectResponse(
                f"{root_of(request)}/login?next={root_of(request)}/pengaturan-notifikasi", 303
            )
        async with request.app.state.db.sessionmaker() as session:
            account = await session.get(account_model, principal.account_id)
        return render(
            request, "notification_settings.html", _settings_view(account), principal=principal
        )

    @router.post("/pengaturan-notifikasi")
    async def settings_submit(
        request: Request,
        principal: OptionalPrincipal,
        notify_email: Annotated[str, Form(max_length=5)] = "",
        notify_phone: Annotated[str, Form(max_length=5)] = "",
    ) -> Response:
        if principal is None:
            return RedirectResponse(f"{root_of(request)}/login", 303)
        async with request.app.state.db.sessionmaker.begin() as session:
            account = await session.get(account_model, principal.account_id)
            if account is not None:
                account.notify_email = notify_email == "1"
                account.notify_phone = notify_phone == "1"
                await record_event(
                    session,
                    event_model,
                    actor=principal,
                    action="account.notification_channels",
                    entity_type="account",
                    entity_id=account.id,
                    after={"email": account.notify_email, "phone": account.notify_phone},
                )
        return render(
            request,
            "notification_settings.html",
            _settings_view(account),
            principal=principal,
            messages=[("success", "Pengaturan notifikasi tersimpan.")],
        )


def _settings_view(account: Any) -> dict[str, Any]:
    if account is None:
        return {"has_email": False, "has_phone": False, "verified": False}
    return {
        "has_email": bool(account.email_encrypted),
        "has_phone": bool(account.phone_encrypted),
        "verified": account.email_verified_at is not None,
        "notify_email": account.notify_email,
        "notify_phone": account.notify_phone,
    }
