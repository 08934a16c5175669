"""Server-rendered pages: Jinja2 in Bahasa Indonesia, the shared layout, login and logout.

Templates are looked up in the service's own folder first, then in the shared one, so a service
extends `base.html`. Links are built from `root` (the mount path), so each app works both alone and
mounted under `/hayu` in the embedded suite.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gzip
import hashlib
import mimetypes
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import urlencode, urlsplit
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.datastructures import Headers
from starlette.types import Receive, Scope, Send

from shared.auth import (
    SESSION_COOKIE,
    OptionalPrincipal,
    Principal,
    end_sessions,
    login,
    tokens_of,
)
from shared.money import format_rupiah, terbilang
from shared.problems import AppError, UnprocessableError
from shared.sessions import apply_renewal, clear_session_cookie, set_session_cookie

if TYPE_CHECKING:
    from fastapi.templating import Jinja2Templates

SHARED_TEMPLATES = Path(__file__).parent / "templates"
SHARED_STATIC = Path(__file__).parent / "static"
# A versioned static URL (`?v=<content hash>`) never changes: browsers keep it a year. An
# unversioned one is revalidated with its ETag on each use, so an upgrade shows at once.
CACHE_VERSIONED = "public, max-age=31536000, immutable"
CACHE_UNVERSIONED = "no-cache"
COMPRESSIBLE = frozenset({".css", ".js", ".svg", ".txt", ".json", ".html"})

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


@dataclass(frozen=True)
class Asset:
    """A static file held in memory with its gzip form: a few small files, read once each."""

    body: bytes
    gzipped: bytes | None
    media_type: str
    version: str  # the first 12 hex digits of the content's SHA-256
    mtime_ns: int

    @property
    def etag(self) -> str:
        return f'"{self.version}"'


_ASSETS: dict[Path, Asset] = {}


def _load_asset(path: Path) -> Asset | None:
    try:
        mtime_ns = path.stat().st_mtime_ns
    except OSError:
        return None
    cached = _ASSETS.get(path)
    if cached is not None and cached.mtime_ns == mtime_ns:
        return cached
    body = path.read_bytes()
    gzipped = None
    if path.suffix in COMPRESSIBLE:
        packed = gzip.compress(body, compresslevel=9, mtime=0)
        gzipped = packed if len(packed) < len(body) else None
    media_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    if media_type.startswith("text/") or path.suffix == ".js":
        media_type += "; charset=utf-8"
    asset = Asset(body, gzipped, media_type, hashlib.sha256(body).hexdigest()[:12], mtime_ns)
    _ASSETS[path] = asset
    return asset


def find_asset(directories: Sequence[Path], name: str) -> Asset | None:
    """The file `name` in the first of `directories` that has it (never outside them)."""
    if not name or name.startswith("/") or any(part in ("", ".", "..") for part in name.split("/")):
        return None
    for directory in directories:
        path = directory / name
        if path.is_file():
            return _load_asset(path)
    return None


def static_directories(service_static: Path | None) -> list[Path]:
    """Where a service's static files are looked up: its own folder first, then the shared one."""
    dirs = [service_static] if service_static is not None else []
    return [d for d in (*dirs, SHARED_STATIC) if d.is_dir()]


def bilangan(value: float | int | None) -> str:
    """A count as Indonesians write it, thousands with a dot: 6300 → "6.300"."""
    if value is None:
        return "—"
    return f"{round(value):,}".replace(",", ".")


def desimal(value: float | int | None, digits: int = 2) -> str:
    """A number with a decimal comma and a thousands dot: 1234.5 → "1.234,50"."""
    if value is None:
        return "—"
    return f"{value:,.{digits}f}".replace(",", " ").replace(".", ",").replace(" ", ".")


def persen(value: float | int | None, digits: int = 2) -> str:
    """A percentage the same way: 2.85 → "2,85 %"."""
    return "—" if value is None else f"{desimal(value, digits)} %"


def asset_response(asset: Asset, request_headers: Headers, versioned: bool) -> Response:
    """`asset` as the browser asked for it: 304 if it has it, gzip if it accepts it."""
    headers = {
        "ETag": asset.etag,
        "Cache-Control": CACHE_VERSIONED if versioned else CACHE_UNVERSIONED,
        "Vary": "Accept-Encoding",
    }
    if asset.etag in request_headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    accepted = request_headers.get("accept-encoding", "")
    if asset.gzipped is not None and "gzip" in accepted:
        headers["Content-Encoding"] = "gzip"
        return Response(asset.gzipped, media_type=asset.media_type, headers=headers)
    return Response(asset.body, media_type=asset.media_type, headers=headers)


class StaticAssets:
    """The `/static` mount: the service's folder, then the shared one; compressed and cacheable.

    Pages link files through the `asset()` template function, which adds `?v=<content hash>`; such
    a URL is cached for a year, since a changed file gets a new URL.
    """

    def __init__(self, service_static: Path | None) -> None:
        self.directories = static_directories(service_static)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert scope["type"] == "http"
        request = Request(scope)
        if request.method not in ("GET", "HEAD"):
            response: Response = PlainTextResponse("", status_code=405, headers={"Allow": "GET"})
        else:
            # The path below the mount point, whether mounted alone or under `/hayu`.
            path = scope["path"]
            mount = str(scope.get("root_path", ""))
            name = path[len(mount) :] if path.startswith(mount) else path
            asset = find_asset(self.directories, name.lstrip("/"))
            if asset is None:
                response = PlainTextResponse("Berkas tidak ditemukan", status_code=404)
            else:
                versioned = request.query_params.get("v") == asset.version
                response = asset_response(asset, request.headers, versioned)
        await response(scope, receive, send)


async def favicon(request: Request) -> Response:
    """`/favicon.ico`, asked for by browsers on every site: the shared icon (an SVG)."""
    asset = find_asset([SHARED_STATIC], "favicon.svg")
    assert asset is not None
    return asset_response(asset, request.headers, versioned=False)


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
    env.filters["bilangan"] = bilangan
    env.filters["persen"] = persen
    env.filters["desimal"] = desimal
    env.filters["tanggal"] = lambda v: tanggal(v, tz)
    env.filters["local_datetime"] = lambda v: (
        "—" if v is None else f"{tanggal(v, tz)} {v.astimezone(zone):%H.%M}"
    )
    static_dirs = static_directories(service_dir.parent / "static" if service_dir else None)

    def asset(name: str) -> str:
        """`/static/<name>?v=<content hash>` (prefix it with `root`)."""
        found = find_asset(static_dirs, name)
        return f"/static/{name}" + (f"?v={found.version}" if found else "")

    env.globals["asset"] = asset
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
            # Browsing any page is activity. The renewed token keeps its epoch, so a revoked
            # session renewed here is still refused wherever it would be used.
            if getattr(request.state, "renewed_session", None) is None:
                request.state.renewed_session = tokens_of(request).renewal(principal)
    ctx: dict[str, Any] = {
        "request": request,
        "root": root_of(request),
        "principal": principal,
        "csrf_token": tokens_of(request).csrf_token(token) if token else "",
        "messages": list(messages),
    }
    ctx.update(context or {})
    # Messages about the request itself (a query parameter left out, see shared.page_errors).
    ctx["messages"] = [*getattr(request.state, "page_messages", ()), *ctx["messages"]]
    response = templates.TemplateResponse(request, name, ctx, status_code=status_code)
    apply_renewal(request, response)  # a page seen is activity: the session slides on
    return response


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


SESSION_ENDED = "Sesi Anda berakhir. Silakan masuk lagi."
FORM_KEPT = (
    "Sesi Anda berakhir sebelum isian terkirim. Isian Anda disimpan: masuk lagi, lalu kirim ulang."
)
FILES_NOT_KEPT = "Berkas yang dilampirkan perlu dipilih ulang setelah masuk."


def login_again(request: Request) -> Response:
    """A page that needs a login: to the login page, saying so when a session just ended.

    A form posted after its session ended is not lost: the login page carries its text fields,
    and after the login they are offered for sending again (see `login_submit`).
    """
    ended = bool(getattr(request.state, "session_ended", False))
    kept: list[tuple[str, str]] | None = getattr(request.state, "kept_form", None)
    if ended and kept is not None:
        import json

        response: Response = render(
            request,
            "login.html",
            {
                "next_url": referer_path(request) or request.url.path,
                "username": "",
                "username_label": request.app.state.username_label,
                "error": None,
                "notice": FORM_KEPT,
                "kept_form": json.dumps(kept, ensure_ascii=False),
                "kept_action": request.url.path,
                "kept_files": bool(getattr(request.state, "kept_files", False)),
            },
            status_code=401,
        )
    else:
        query = urlencode({"next": request.url.path, **({"sesi": "berakhir"} if ended else {})})
        response = RedirectResponse(root_of(request) + "/login?" + query, status_code=303)
    if ended:
        clear_session_cookie(request, response)
    return response


def referer_path(request: Request) -> str:
    """The page the form was on, when the browser says and it is this site's."""
    referer = request.headers.get("referer", "")
    parts = urlsplit(referer)
    if not referer or parts.netloc != request.url.netloc:
        return ""
    return parts.path + (f"?{parts.query}" if parts.query else "")


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
    async def login_form(
        request: Request, next: str | None = None, sesi: str | None = None
    ) -> HTMLResponse:
        return render(
            request,
            "login.html",
            {
                "next_url": next or "",
                "username": "",
                "username_label": username_label,
                "error": None,
                "notice": SESSION_ENDED if sesi == "berakhir" else None,
            },
        )

    @router.post("/login")
    async def login_submit(
        request: Request,
        username: Annotated[str, Form(max_length=64)] = "",
        password: Annotated[str, Form(max_length=256)] = "",
        next: Annotated[str, Form(max_length=500)] = "",
        kept_form: Annotated[str, Form(max_length=200_000)] = "",
        kept_action: Annotated[str, Form(max_length=500)] = "",
    ) -> Response:
        kept = _kept_fields(kept_form)
        try:
            if not username.strip() or not password:
                raise UnprocessableError("Both the username and the password are required")
            token, _ = await login(request, username, password, session=True)
        except AppError as exc:
            error = {
                422: f"Isi {_in_sentence(username_label)} dan kata sandi.",
                429: "Terlalu banyak percobaan gagal. Tunggu beberapa menit lalu coba lagi.",
                503: "Layanan sedang sibuk. Coba lagi beberapa detik lagi.",
            }.get(exc.status, "Nama pengguna atau kata sandi salah.")
            response: Response = render(
                request,
                "login.html",
                {
                    "next_url": next,
                    "username": username,
                    "username_label": username_label,
                    "error": error,
                    "kept_form": kept_form if kept else "",
                    "kept_action": kept_action,
                    "notice": FORM_KEPT if kept else None,
                },
                status_code=exc.status,
            )
            if exc.headers:
                response.headers.update(exc.headers)
            return response
        if kept and kept_action:
            response = render(
                request,
                "resubmit.html",
                {
                    "fields": kept,
                    "action": safe_next(request, kept_action),
                    "back": safe_next(request, next),
                    "csrf_token": tokens_of(request).csrf_token(token),
                },
            )
        else:
            # Without a page to return to, the service's start page (what waits for me).
            start = str(getattr(request.app.state, "start_path", "") or "")
            target = next or (root_of(request) + start if start else "")
            response = RedirectResponse(safe_next(request, target), status_code=303)
        set_session_cookie(request, response, token)
        return response

    @router.post("/logout", dependencies=[Depends(_csrf_checked)])
    async def logout(request: Request, principal: OptionalPrincipal) -> Response:
        if principal is not None:
            await end_sessions(request, principal)
        response = RedirectResponse(root_of(request) + "/", status_code=303)
        clear_session_cookie(request, response)
        return response

    return router


def _in_sentence(label: str) -> str:
    """A label inside a sentence: "Nama pengguna" -> "nama pengguna", "NIP" stays."""
    return label if label[:2].isupper() else label[:1].lower() + label[1:]


def _kept_fields(raw: str) -> list[tuple[str, str]]:
    """The text fields of a form kept across a login (as sent back by the login page)."""
    if not raw:
        return []
    import json

    try:
        items = json.loads(raw)
    except ValueError:
        return []
    if not isinstance(items, list):
        return []
    return [
        (item[0], item[1])
        for item in items
        if isinstance(item, list) and len(item) == 2 and all(isinstance(part, str) for part in item)
    ][:500]


async def _csrf_checked(principal: OptionalPrincipal) -> None:
    # optional_principal verifies the CSRF token of cookie-authenticated form posts.
    _ = principal
