"""What a person sees when a page request fails: Indonesian, the service menu, work kept.

The problem handlers (`shared.problems`) call `html_error` instead of sending a problem document
when a browser asked for a page. Then:

- a page address with a wrong query parameter (`/transparansi?tahun=abc`) shows the page itself
  without that parameter, with a message naming it: the request goes once more through the app's
  routes with the bad parameters left out;
- a form the framework refuses (a required field missing, a value too long) comes back as a form
  with every value typed kept, each message next to its field, to correct and send again;
- any other error is an error page with the service's menu and an Indonesian sentence.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData, UploadFile
from starlette.types import Message, Scope

from shared.pesan import FieldError, label_of, message_id, page_error_id
from shared.web import TITLES_ID, login_again, referer_path, render, root_of, wants_html

SECRET_MARKS = ("password", "sandi", "secret", "token")


async def html_error(
    request: Request, status: int, detail: str | None, exc: Exception | None = None
) -> Response:
    """The page a person sees instead of a problem+json body."""
    if status == 401:
        return login_again(request)
    if status in (303, 403) and getattr(request.state, "password_change_required", False):
        return RedirectResponse(root_of(request) + "/ganti-sandi", status_code=303)
    if isinstance(exc, RequestValidationError):
        page = await _page_without_bad_query(request, exc) or await _form_to_correct(request, exc)
        if page is not None:
            return page
    return render(
        request,
        "error.html",
        {
            "title": TITLES_ID.get(status, "Terjadi kesalahan"),
            "detail": page_error_id(status, exc),
            "status": status,
            "request_id": getattr(request.state, "request_id", None),
        },
        status_code=status,
    )


async def crash_page(scope: Scope) -> Response | None:
    """The error page for a request that failed unexpectedly, when a browser asked for a page.

    Called by the request frame (`shared.frame.RequestFrame`) outside the app's routes, after the
    error was logged; if even the page fails, the frame sends its problem document.
    """
    request = Request(scope)
    if "app" not in scope or not wants_html(request):
        return None
    try:
        return await html_error(request, 500, None, None)
    except Exception:
        return None


def _shown(value: Any) -> str:
    text = str(value)
    return text if len(text) <= 40 else text[:39] + "…"


async def _page_without_bad_query(request: Request, exc: RequestValidationError) -> Response | None:
    """The same page without the query parameters that failed, saying which and why."""
    errors = exc.errors()
    if (
        request.method != "GET"
        or getattr(request.state, "bad_query_dropped", False)
        or not errors
        or any(len(err["loc"]) < 2 or err["loc"][0] != "query" for err in errors)
    ):
        return None
    bad: dict[str, str] = {}
    for err in errors:
        name = str(err["loc"][1])
        if name not in bad:
            typed = f" (“{_shown(err['input'])}” tidak dipakai)" if err.get("input") else ""
            bad[name] = f"{label_of(name)}: {message_id(err)}{typed}."
    kept = [(k, v) for k, v in request.query_params.multi_items() if k not in bad]
    state = dict(request.scope.get("state") or {})
    state.update(bad_query_dropped=True, page_messages=[("error", text) for text in bad.values()])
    scope = {**request.scope, "query_string": urlencode(kept).encode(), "state": state}
    started: dict[str, Any] = {}
    chunks: list[bytes] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            started.update(message)
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    try:
        await request.app.router(scope, receive, send)
    except Exception:
        return None  # the error page says it instead
    if not started:
        return None
    status = int(started["status"])
    response = Response(b"".join(chunks), status_code=422 if status == 200 else status)
    response.raw_headers = list(started.get("headers", []))
    return response


@dataclass(frozen=True)
class KeptField:
    name: str
    id: str
    label: str
    value: str
    kind: str  # text, textarea, password or file
    error: str | None


def _kind(name: str, value: Any) -> str:
    if any(mark in name.lower() for mark in SECRET_MARKS):
        return "password"
    if isinstance(value, UploadFile):
        return "file"
    text = str(value or "")
    return "textarea" if len(text) > 80 or "\n" in text else "text"


async def _form_to_correct(request: Request, exc: RequestValidationError) -> Response | None:
    """The posted form again, values kept, each framework message next to its field."""
    if request.method != "POST":
        return None
    body = exc.body
    if not isinstance(body, FormData):
        try:
            body = await request.form()
        except Exception:
            return None
    messages: dict[str, str] = {}
    for err in exc.errors():
        loc = err["loc"]
        if len(loc) >= 2 and loc[0] == "body":
            messages.setdefault(str(loc[1]), message_id(err))
    if not messages:
        return None
    posted = [(k, v) for k, v in body.multi_items() if k != "csrf_token"]
    names = list(dict.fromkeys([*(k for k, _ in posted), *messages]))
    first = dict(reversed(posted))
    fields: list[KeptField] = []
    hidden: list[tuple[str, str]] = []
    for name in names:
        value = first.get(name, "")
        kind = _kind(name, value)
        if name in messages or kind in ("password", "file"):
            shown = "" if kind in ("password", "file") else str(value)
            fields.append(
                KeptField(name, f"isian-{name}", label_of(name), shown, kind, messages.get(name))
            )
        else:
            hidden.extend((k, v) for k, v in posted if k == name and isinstance(v, str))
    errors = [FieldError(f.id, f.label, f.error) for f in fields if f.error]
    query = request.url.query
    return render(
        request,
        "form_to_correct.html",
        {
            "errors": errors,
            "fields": fields,
            "hidden": hidden,
            "action": request.url.path + (f"?{query}" if query else ""),
            "multipart": any(f.kind == "file" for f in fields),
            "back": referer_path(request),
        },
        status_code=422,
    )
