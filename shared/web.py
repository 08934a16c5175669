"""Server-rendered pages: Jinja2 in Bahasa Indonesia, the shared layout, login and logout.

Templates are looked up in the service's own folder first, then in the shared one, so a service
extends `base.html`. Links are built from `root` (the mount path), so each app works both alone and
mounted under `/hayu` in the embedded suite.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from shared.auth import SESSION_COOKIE, OptionalPrincipal, Principal, login, tokens_of
from shared.money import format_rupiah, terbilang
from shared.problems import AppError
from shared.security import cookie_secure

if TYPE_CHECKING:
    from fastapi.templating import Jinja2Templates

SHARED_TEMPLATES = Path(__file__).parent / "templates"
SHARED_STATIC = Path(__file__).parent / "static"

MONTHS_ID = (
    "Januari",
    "Februari",
    "Maret",
    "April",
    "Mei",
    "Juni",
    "Juli",
    "Agustus",
    "September",
    "Oktober",
    "November",
    "Desember",
)


def tanggal(value: dt.date | dt.datetime | None, tz: str = "Asia/Jakarta") -> str:
    """A date as Indonesians write it: 5 Januari 2026."""
    if value is None:
        return "—"
    if isinstance(value, dt.datetime):
        value = value.astimezone(ZoneInfo(tz)).date()
    return f"{value.day} {MONTHS_ID[value.month - 1]} {value.year}"


def make_templates(service_dir: Path | None, *, globals_: dict[str, Any]) -> Jinja2Templates:
    from fastapi.templating import Jinja2Templates
    from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape

    loaders = [FileSystemLoader(str(SHARED_TEMPLATES))]
    if service_dir is not None:
        loaders.insert(0, FileSystemLoader(str(service_dir)))
    env = Environment(
        loader=ChoiceLoader(loaders),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    tz = str(globals_.get("timezone", "Asia/Jakarta"))
    zone = ZoneInfo(tz)
    env.filters["rupiah"] = format_rupiah
    env.filters["terbilang"] = terbilang
    env.filters["tanggal"] = lambda v: tanggal(v, tz)
    env.filters["local_datetime"] = lambda v: (
        "—" if v is None else f"{tanggal(v, tz)} {v.astimezone(zone):%H.%M}"
    )
    env.globals.update(globals_)
    return Jinja2Templates(env=env)


class LazyTemplates:
    """A service's templates, built by `make_templates` when the first page is rendered.

    Jinja2 (and its environment) are not needed to answer the API, `/health` or `/ready`, so a
    process that serves no page never loads them; the first page pays about 50 ms once.
    """

    def __init__(self, service_dir: Path | None, *, globals_: dict[str, Any]) -> None:
        self._service_dir = service_dir
        self._globals = globals_
        self._templates: Jinja2Templates | None = None

    def get(self) -> Jinja2Templates:
        if self._templates is None:
            self._templates = make_templates(self._service_dir, globals_=self._globals)
        return self._templates


def templates_of(request: Request) -> Jinja2Templates:
    """The app's templates (`state.templates`: built eagerly or a `LazyTemplates`)."""
    templates: Jinja2Templates | LazyTemplates = request.app.state.templates
    return templates.get() if isinstance(templates, LazyTemplates) else templates


def root_of(request: Request) -> str:
    return str(request.scope.get("root_path", "")).rstrip("/")


def render(
    request: Request,
    name: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
    principal: Principal | None = None,
    messages: Sequence[tuple[str, str]] = (),
) -> HTMLResponse:
    templates = templates_of(request)
    principal = principal or getattr(request.state, "principal", None)
    token = request.cookies.get(SESSION_COOKIE)
    if principal is None and token:
        # Pages without an auth dependency still show who is logged in.
        with contextlib.suppress(AppError):
            principal = request.app.state.token_verifier.verify(token)
    ctx: dict[str, Any] = {
        "request": request,
        "root": root_of(request),
        "principal": principal,
        "csrf_token": tokens_of(request).csrf_token(token) if token else "",
        "messages": list(messages),
    }
    ctx.update(context or {})
    return templates.TemplateResponse(request, name, ctx, status_code=status_code)


def wants_html(request: Request) -> bool:
    path = request.url.path[len(root_of(request)) :]
    if path.startswith("/api/") or path in ("/health", "/ready", "/metrics", "/openapi.json"):
        return False
    return "text/html" in request.headers.get("accept", "")


TITLES_ID = {
    400: "Permintaan tidak valid",
    401: "Perlu masuk",
    403: "Tidak diizinkan",
    404: "Halaman tidak ditemukan",
    405: "Metode tidak diizinkan",
    409: "Terjadi konflik",
    413: "Berkas terlalu besar",
    415: "Jenis berkas tidak diterima",
    422: "Data belum benar",
    429: "Terlalu banyak percobaan",
    500: "Terjadi kesalahan",
    503: "Layanan sedang sibuk",
}


def html_error(request: Request, status: int, detail: str | None) -> Response:
    """The page a person sees instead of a problem+json body."""
    if status == 401:
        target = root_of(request) + "/login?next=" + request.url.path
        return RedirectResponse(target, status_code=303)
    return render(
        request,
        "error.html",
        {
            "title": TITLES_ID.get(status, "Terjadi kesalahan"),
            "detail": detail or "Silakan coba lagi.",
            "status": status,
            "request_id": getattr(request.state, "request_id", None),
        },
        status_code=status,
    )


def safe_next(request: Request, target: str | None) -> str:
    """Only redirect within this site, never to another host."""
    root = root_of(request)
    if (
        not target
        or urlsplit(target).netloc
        or not target.startswith("/")
        or target.startswith("//")
    ):
        return root + "/"
    return target


def auth_pages(
    *,
    account_model: Callable[[], type[Any]],
    username_label: str = "Nama pengguna",
) -> APIRouter:
    """GET/POST /login and POST /logout for the pages (cookie session)."""
    router = APIRouter(include_in_schema=False)

    @router.get("/login")
    async def login_form(request: Request, next: str | None = None) -> HTMLResponse:
        return render(
            request,
            "login.html",
            {
                "next_url": next or "",
                "username": "",
                "username_label": username_label,
                "error": None,
            },
        )

    @router.post("/login")
    async def login_submit(
        request: Request,
        username: Annotated[str, Form(max_length=64)],
        password: Annotated[str, Form(max_length=256)],
        next: Annotated[str, Form(max_length=500)] = "",
    ) -> Response:
        try:
            token, expires = await login(request, username, password)
        except AppError as exc:
            error = (
                "Terlalu banyak percobaan gagal. Tunggu beberapa menit lalu coba lagi."
                if exc.status == 429
                else "Nama pengguna atau kata sandi salah."
            )
            return render(
                request,
                "login.html",
                {
                    "next_url": next,
                    "username": username,
                    "username_label": username_label,
                    "error": error,
                },
                status_code=exc.status,
            )
        response = RedirectResponse(safe_next(request, next), status_code=303)
        response.set_cookie(
            SESSION_COOKIE,
            token,
            max_age=expires,
            httponly=True,
            samesite="lax",
            secure=cookie_secure(request),
            path=root_of(request) or "/",
        )
        return response

    @router.post("/logout", dependencies=[Depends(_csrf_checked)])
    async def logout(request: Request) -> Response:
        response = RedirectResponse(root_of(request) + "/", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path=root_of(request) or "/")
        return response

    return router


async def _csrf_checked(principal: OptionalPrincipal) -> None:
    # optional_principal verifies the CSRF token of cookie-authenticated form posts.
    _ = principal
