"""RFC 9457 problem details: typed errors raised by domain code, rendered by one set of handlers.

Domain code raises an `AppError` subclass; routes never build error bodies. Every error path of a
service, including unknown routes, wrong methods, malformed bodies and unexpected exceptions,
answers
`application/problem+json` with `type`, `title`, `status`, `detail` and `instance`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping
from http import HTTPStatus
from typing import Any, ClassVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict
from starlette.exceptions import HTTPException as StarletteHTTPException

logger = logging.getLogger("shared.problems")

PROBLEM_MEDIA_TYPE = "application/problem+json"


class AppError(Exception):
    """An error with an HTTP status, a stable type slug and an optional human-readable detail."""

    status: ClassVar[int] = 400
    title: ClassVar[str] = "Bad request"
    type: ClassVar[str] = "bad-request"
    headers: dict[str, str] | None = None

    def __init__(self, detail: str | None = None, **extensions: Any) -> None:
        super().__init__(detail or self.title)
        self.detail = detail
        self.extensions = extensions


class BadRequestError(AppError):
    status = 400
    title = "Bad request"
    type = "bad-request"


class UnauthorizedError(AppError):
    status = 401
    title = "Authentication required"
    type = "unauthorized"
    headers = {"WWW-Authenticate": "Bearer"}  # noqa: RUF012 - read-only default


class ForbiddenError(AppError):
    status = 403
    title = "Forbidden"
    type = "forbidden"


class NotFoundError(AppError):
    status = 404
    title = "Not found"
    type = "not-found"


class ConflictError(AppError):
    status = 409
    title = "Conflict"
    type = "conflict"


class UnprocessableError(AppError):
    status = 422
    title = "Unprocessable content"
    type = "unprocessable"


class PayloadTooLargeError(AppError):
    status = 413
    title = "Payload too large"
    type = "payload-too-large"


class UnsupportedMediaTypeError(AppError):
    status = 415
    title = "Unsupported media type"
    type = "unsupported-media-type"


class TooManyRequestsError(AppError):
    status = 429
    title = "Too many requests"
    type = "too-many-requests"

    def __init__(self, detail: str | None = None, *, retry_after: int = 60, **ext: Any) -> None:
        super().__init__(detail, **ext)
        self.headers = {"Retry-After": str(retry_after)}


class ServiceUnavailableError(AppError):
    status = 503
    title = "Service unavailable"
    type = "service-unavailable"

    def __init__(self, detail: str | None = None, *, retry_after: int = 5, **ext: Any) -> None:
        super().__init__(detail, **ext)
        self.headers = {"Retry-After": str(retry_after)}


class UpstreamError(AppError):
    status = 502
    title = "Upstream service failed"
    type = "upstream-error"


class ValidationErrorItem(BaseModel):
    loc: list[str | int]
    msg: str
    type: str


class Problem(BaseModel):
    """The body of every error response (RFC 9457)."""

    model_config = ConfigDict(extra="allow")

    type: str
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    errors: list[ValidationErrorItem] | None = None


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` entries declaring that a route may answer these problem statuses."""
    return {
        status: {
            "model": Problem,
            "description": HTTPStatus(status).phrase,
            "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for status in statuses
    }


class ProblemResponse(JSONResponse):
    media_type = PROBLEM_MEDIA_TYPE


def _type_uri(base: str, slug: str) -> str:
    if slug == "about:blank":
        return slug
    return f"{base.rstrip('/')}/{slug}"


def problem_body(
    request: Request,
    *,
    base: str,
    status: int,
    slug: str,
    title: str,
    detail: str | None,
    extensions: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": _type_uri(base, slug),
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.url.path,
    }
    if extensions:
        for key, value in extensions.items():
            body.setdefault(key, value)
    request_id = getattr(request.state, "request_id", None)
    if request_id:
        body["request_id"] = request_id
    return body


async def send_asgi_problem(
    send: Callable[[dict[str, Any]], Awaitable[None]],
    scope: Mapping[str, Any],
    status: int,
    title: str,
    detail: str,
    *,
    request_id: str | None,
    headers: Iterable[tuple[bytes, bytes]] = (),
) -> None:
    """A problem document sent straight on ASGI, by the request frame before or outside the app
    (no `Request`, no exception handler): its refusals and its answer to a crash."""
    body = {
        "type": "about:blank",
        "title": title,
        "status": status,
        "detail": detail,
        "instance": scope.get("path", ""),
        "request_id": request_id,
    }
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", PROBLEM_MEDIA_TYPE.encode()), *headers],
        }
    )
    await send({"type": "http.response.body", "body": json.dumps(body).encode()})


def _validation_items(errors: Iterable[Any]) -> list[dict[str, Any]]:
    items = []
    for err in errors:
        loc = [part if isinstance(part, int) else str(part) for part in err.get("loc", ())]
        items.append({"loc": loc, "msg": str(err.get("msg", "")), "type": str(err.get("type", ""))})
    return items


# The page shown instead of a problem document: (request, status, detail, the exception).
HtmlRenderer = Callable[[Request, int, "str | None", Exception], Awaitable[Response]]


def install_problem_handlers(
    app: FastAPI,
    *,
    type_base: str,
    html: HtmlRenderer | None = None,
    wants_html: Callable[[Request], bool] | None = None,
) -> None:
    """Render every error path of `app` as application/problem+json (or a page for browsers)."""

    async def respond(
        request: Request,
        exc: Exception,
        body: dict[str, Any],
        status: int,
        headers: Mapping[str, str] | None = None,
    ) -> Response:
        if html is not None and wants_html is not None and wants_html(request):
            page = await html(request, status, body.get("detail"), exc)
            if headers:
                page.headers.update(headers)
            return page
        return ProblemResponse(body, status_code=status, headers=headers)

    async def app_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, AppError)
        body = problem_body(
            request,
            base=type_base,
            status=exc.status,
            slug=exc.type,
            title=exc.title,
            detail=exc.detail,
            extensions=exc.extensions,
        )
        return await respond(request, exc, body, exc.status, exc.headers)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        phrase = HTTPStatus(exc.status_code).phrase
        detail = exc.detail if isinstance(exc.detail, str) and exc.detail != phrase else None
        body = problem_body(
            request,
            base=type_base,
            status=exc.status_code,
            slug="about:blank",
            title=phrase,
            detail=detail,
        )
        return await respond(request, exc, body, exc.status_code, exc.headers)

    async def validation_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        items = _validation_items(exc.errors())
        first = items[0] if items else None
        detail = "The request is not valid"
        if first:
            where = ".".join(str(p) for p in first["loc"])
            detail = f"{where}: {first['msg']}"
        body = problem_body(
            request,
            base=type_base,
            status=422,
            slug="validation-error",
            title="Request validation failed",
            detail=detail,
            extensions={"errors": items},
        )
        return await respond(request, exc, body, 422)

    async def unexpected_error(request: Request, exc: Exception) -> Response:
        logger.exception("unhandled error", exc_info=exc)
        body = problem_body(
            request,
            base=type_base,
            status=500,
            slug="internal-error",
            title="Internal server error",
            detail="An unexpected error occurred. It has been logged; quote the request id.",
        )
        return await respond(request, exc, body, 500)

    app.add_exception_handler(AppError, app_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(Exception, unexpected_error)
