"""The app factory every service uses: plumbing, common endpoints and background tasks.

A service gives its name, settings, regency configuration, models and routers; this module adds the
problem handlers, request ids and metrics, `/health`, `/ready`, `/metrics`, the token endpoints, the
audit endpoints and the pages every service shares, and runs the periodic tasks (the audit sealer
first
among them) while the app is up.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import logging
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, cast

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.security import OAuth2PasswordRequestForm
from fastapi.telemetry import TelemetryConfig
from pydantic import BaseModel
from sqlalchemy import exc as sa_exc
from sqlalchemy import select, text

from shared import audit, audit_seal, routing
from shared.audit_routes import audit_router, auditor_router
from shared.auth import (
    AccountMixin,
    CurrentPrincipal,
    login,
    require_roles,
)
from shared.auth_api import auth_router
from shared.calendar import WorkingCalendar
from shared.config import RegencyConfigBase
from shared.context import AppState
from shared.crypto import FieldCipher
from shared.db import Database, SessionDep, utcnow
from shared.folding import declared
from shared.frame import RequestFrame
from shared.idempotency import (
    KEY_PARAMETER,
    IdempotencyRecordMixin,
    StoredResponseReplayError,
    takes_idempotency,
)
from shared.limits import body_limits
from shared.observability import Metrics, configure_logging
from shared.page_errors import crash_page, html_error
from shared.pagination import CursorQuery, LimitQuery, Page, keyset_page
from shared.problems import (
    PROBLEM_MEDIA_TYPE,
    AppError,
    ConflictError,
    ForbiddenError,
    Problem,
    ServiceUnavailableError,
    UnprocessableError,
    install_problem_handlers,
    problem_responses,
)
from shared.security import metrics_allowed
from shared.settings import ServiceSettings, is_production
from shared.setup_auth import install_auth
from shared.signing import Signer
from shared.web import LazyTemplates, StaticAssets, favicon, render, wants_html

logger = logging.getLogger("shared.app")

NO_NATIVE_TELEMETRY: TelemetryConfig = {
    "tracing": False,
    "metrics": False,
    "logs": False,
    "operation_spans": False,
    "auto_configure": False,
}
"""FastAPI's own OpenTelemetry instrumentation, all of it off (`create_app` says why)."""


@dataclass(frozen=True)
class CommonModels:
    account: type[AccountMixin]
    audit_event: type[audit.AuditEventMixin]
    audit_checkpoint: type[audit.AuditCheckpointMixin]
    idempotency: type[IdempotencyRecordMixin]


@dataclass(frozen=True)
class PeriodicTask:
    """A job run every `interval` seconds inside the service process (no broker needed)."""

    name: str
    interval: float
    run: Callable[[FastAPI], Awaitable[None]]


@dataclass
class ServiceSpec:
    name: str
    title: str
    package_dir: Path
    settings: ServiceSettings
    config: RegencyConfigBase
    models: CommonModels
    api_routers: Sequence[APIRouter] = ()
    page_router: APIRouter | None = None
    periodic: Sequence[PeriodicTask] = ()
    username_label: str = "Nama pengguna"
    description: str = ""
    extra_state: dict[str, Any] = field(default_factory=dict)

    @property
    def migrations_dir(self) -> Path:
        return self.package_dir / "migrations"


BAD_TEXT_SQLSTATES = frozenset({"22021", "22P05"})  # character_not_in_repertoire, untranslatable


class InvalidCharactersError(UnprocessableError):
    title = "Text contains characters that cannot be stored"
    type = "invalid-characters"


class TokenResponse(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int


class MeRead(BaseModel):
    username: str
    name: str
    roles: list[str]
    unit: str | None


class AuditEventRead(BaseModel):
    id: int
    occurred_at: str
    actor: str
    actor_role: str
    action: str
    entity_type: str
    entity_id: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    request_id: str | None
    seal_position: int | None
    seal_hash: str | None


def build_calendar(config: RegencyConfigBase) -> WorkingCalendar:
    cal = config.calendar
    extra = dict.fromkeys(cal.extra_holidays, "Libur daerah")
    if cal.include_cuti_bersama:
        extra.update(dict.fromkeys(cal.cuti_bersama, "Cuti bersama"))
    return WorkingCalendar(
        timezone=config.regency.timezone,
        extra_holidays=extra,
        extra_working_days=cal.extra_working_days,
        include_cuti_bersama=cal.include_cuti_bersama,
    )


_REVISION = re.compile(r"^revision(?::[^=]*)?=\s*[\"']([^\"']+)[\"']", re.MULTILINE)
_DOWN = re.compile(r"^down_revision(?::[^=]*)?=\s*(.+)$", re.MULTILINE)


def migration_head(migrations_dir: Path) -> str | None:
    """The head revision, read from the migration files' `revision`/`down_revision` lines.

    Alembic itself would cost ~38 MB of resident memory in every serving process just to answer
    /ready; `tests/shared/test_migrations.py` checks that this agrees with Alembic.
    """
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (migrations_dir / "versions").glob("*.py"):
        text_ = path.read_text(encoding="utf-8")
        found = _REVISION.search(text_)
        if found is None:
            continue
        revisions.add(found.group(1))
        down = _DOWN.search(text_)
        if down is not None:
            parents.update(re.findall(r"[\"']([^\"']+)[\"']", down.group(1)))
    heads = revisions - parents
    if len(heads) > 1:
        raise RuntimeError(f"several migration heads in {migrations_dir}: {sorted(heads)}")
    return heads.pop() if heads else None


async def seal_once(app: FastAPI) -> int:
    """Seal the audit events written since the last run (one replica at a time)."""
    state = app.state
    async with state.db.sessionmaker.begin() as session:
        return await audit_seal.seal_pending(
            session,
            state.models.audit_event,
            state.models.audit_checkpoint,
            signer=state.signer,
            service=state.service_name,
            schema=state.db.schema,
        )


async def _run_periodic(app: FastAPI, task: PeriodicTask) -> None:
    while True:
        await asyncio.sleep(task.interval)
        try:
            await task.run(app)
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("periodic task %s failed", task.name)


async def _seal_task(app: FastAPI) -> None:
    await seal_once(app)


def _common_router(spec: ServiceSpec) -> APIRouter:
    router = APIRouter()
    models = spec.models
    auditor = Depends(require_roles("auditor", "admin"))

    @router.get("/health", tags=["operations"])
    async def health() -> dict[str, str]:
        """The process is alive."""
        return {"status": "ok", "service": spec.name}

    @router.get("/ready", tags=["operations"], responses=problem_responses(503))
    async def ready(request: Request) -> dict[str, str]:
        """The database answers and its migrations are at head."""
        state = request.app.state
        if state.migration_head is None:
            state.migration_head = migration_head(spec.migrations_dir) or ""
        try:
            async with state.db.engine.connect() as conn:
                current = await conn.scalar(
                    text(f'SELECT version_num FROM "{state.db.schema}".alembic_version')
                )
        except Exception:
            raise ServiceUnavailableError(
                "The database cannot be reached or is not migrated"
            ) from None
        if current != state.migration_head:
            raise ServiceUnavailableError(
                f"The database is at migration {current}, the code expects {state.migration_head}"
            )
        return {"status": "ready", "service": spec.name, "migration": str(current)}

    @router.get("/metrics", tags=["operations"], response_class=PlainTextResponse)
    async def metrics(request: Request) -> Response:
        """Prometheus metrics of this service (allowed networks or the metrics token)."""
        if not metrics_allowed(request):
            raise ForbiddenError("The metrics are for the monitoring system only")
        return Response(request.app.state.metrics.render(), media_type="text/plain; version=0.0.4")

    @router.post(
        "/api/v1/auth/token",
        tags=["auth"],
        response_model=TokenResponse,
        responses=problem_responses(401, 422, 429, 503),
    )
    async def issue_token(
        request: Request, form: Annotated[OAuth2PasswordRequestForm, Depends()]
    ) -> TokenResponse:
        """Exchange a username and password for a bearer token."""
        token, expires = await login(request, form.username, form.password)
        return TokenResponse(access_token=token, expires_in=expires)

    @router.get(
        "/api/v1/auth/me", tags=["auth"], response_model=MeRead, responses=problem_responses(401)
    )
    async def me(principal: CurrentPrincipal) -> MeRead:
        """Who the token belongs to."""
        return MeRead(
            username=principal.username,
            name=principal.name,
            roles=sorted(principal.roles),
            unit=principal.unit,
        )

    @router.get(
        "/api/v1/audit/events",
        tags=["audit"],
        response_model=Page[AuditEventRead],
        responses=problem_responses(400, 401, 403),
        dependencies=[auditor],
    )
    async def list_audit_events(
        session: SessionDep,
        entity_type: Annotated[str | None, Query(max_length=64)] = None,
        entity_id: Annotated[str | None, Query(max_length=64)] = None,
        limit: LimitQuery = 20,
        cursor: CursorQuery = None,
    ) -> Page[AuditEventRead]:
        """Audit events, newest first (auditors)."""
        model = models.audit_event
        stmt = select(model)
        if entity_type:
            stmt = stmt.where(model.entity_type == entity_type)
        if entity_id:
            stmt = stmt.where(model.entity_id == entity_id)
        rows, next_cursor = await keyset_page(
            session,
            stmt,
            keys=[model.id],
            limit=limit,
            cursor=cursor,
        )
        return Page[AuditEventRead](
            items=[
                AuditEventRead(
                    id=r.id,
                    occurred_at=r.occurred_at.isoformat(),
                    actor=r.actor,
                    actor_role=r.actor_role,
                    action=r.action,
                    entity_type=r.entity_type,
                    entity_id=r.entity_id,
                    before=r.before,
                    after=r.after,
                    request_id=r.request_id,
                    seal_position=r.seal_position,
                    seal_hash=r.seal_hash,
                )
                for r in rows
            ],
            next_cursor=next_cursor,
        )

    @router.get("/audit", include_in_schema=False)
    async def audit_page(request: Request, session: SessionDep) -> Response:
        cp = await audit_seal.latest_checkpoint(
            session, models.audit_checkpoint, signer=request.app.state.signer, service=spec.name
        )
        return render(request, "audit.html", {"checkpoint": cp})

    return router


def _document_idempotency_key(app: FastAPI, schema: dict[str, Any]) -> None:
    """The Idempotency-Key header on every operation whose route takes the idempotency handle:
    the handle reads the header itself (`shared.idempotency.get_idempotency`), so FastAPI no
    longer sees a header parameter to describe. Where FastAPI then listed no 422 (an operation
    without any other parameter or body), the header's own refusal adds it."""
    paths = schema.get("paths", {})
    for context in iter_route_contexts(app.router.routes):  # nested inclusions too
        route = context.original_route
        if not isinstance(route, APIRoute) or not route.include_in_schema:
            continue
        if not takes_idempotency(declared(route)):
            continue
        for method in route.methods or ():
            operation = paths.get(context.path_format, {}).get(method.lower())
            if operation is None:
                continue
            parameters = operation.setdefault("parameters", [])
            if not any(
                p.get("in") == "header" and p.get("name") == KEY_PARAMETER["name"]
                for p in parameters
            ):
                parameters.append(copy.deepcopy(KEY_PARAMETER))
            operation.setdefault("responses", {}).setdefault("422", {})


def _problem_openapi(app: FastAPI) -> Callable[[], dict[str, Any]]:
    """Declare every validation failure as a problem document, as the handlers send it."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes
        )
        _document_idempotency_key(app, schema)
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components["Problem"] = Problem.model_json_schema(
            ref_template="#/components/schemas/{model}"
        )
        for defs_name, defs in components["Problem"].pop("$defs", {}).items():
            components.setdefault(defs_name, defs)
        problem_content = {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}
        for path_item in schema.get("paths", {}).values():
            for operation in path_item.values():
                responses = operation.setdefault("responses", {})
                if "422" in responses:
                    responses["422"] = {
                        "description": "Validation error",
                        "content": problem_content,
                    }
                if "requestBody" in operation:
                    # A body that cannot be parsed at all (not UTF-8, broken multipart) is a 400.
                    responses.setdefault(
                        "400", {"description": "Unreadable body", "content": problem_content}
                    )
                responses.setdefault(
                    "500", {"description": "Internal server error", "content": problem_content}
                )
        components.pop("HTTPValidationError", None)
        components.pop("ValidationError", None)
        app.openapi_schema = schema
        return schema

    return openapi


def create_service_app(spec: ServiceSpec) -> FastAPI:
    settings = spec.settings
    configure_logging(settings.log_level)
    db = Database.create(
        settings.resolved_database_url(),
        schema=spec.name,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_timeout=settings.db_pool_timeout,
    )
    periodic: list[PeriodicTask] = [
        PeriodicTask("audit-seal", settings.seal_interval_seconds, _seal_task)
    ]
    if settings.witness_urls():
        from shared.audit_witness import witness_task

        periodic.append(PeriodicTask("audit-witness", settings.seal_interval_seconds, witness_task))
    periodic.extend(spec.periodic)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        tasks = []
        if settings.background_tasks:
            tasks = [asyncio.create_task(_run_periodic(app, t), name=t.name) for t in periodic]
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await db.dispose()

    docs = settings.api_docs if settings.api_docs is not None else not is_production(settings)
    app = FastAPI(
        title=spec.title,
        description=spec.description,
        version="0.1.0",
        lifespan=lifespan,
        docs_url="/docs" if docs else None,
        redoc_url="/redoc" if docs else None,
        openapi_url="/openapi.json" if docs else None,
        # FastAPI's own OpenTelemetry export stays off, whatever the environment says
        # (FASTAPI_OTEL_AUTO_CONFIGURE, a global provider): its logs carry the body of a
        # request that failed validation (a NIK, an address) and exception messages to a
        # collector outside the regency's logs. The services' metrics are Prometheus's
        # (`/metrics`) and their request log the JSON access line. Off, it also costs no
        # provider lookups (environment reads) per request.
        telemetry=NO_NATIVE_TELEMETRY,
    )
    app.state = state = AppState()  # read on every request: plain attributes (shared.context)
    state.service_name = spec.name
    state.username_label = spec.username_label
    state.settings = settings
    state.config = spec.config
    state.db = db
    state.models = spec.models
    state.clock = utcnow  # the services' contexts read it on every request; tests replace it
    state.idempotency_model = spec.models.idempotency
    install_auth(app, settings, db, spec.models.account)
    state.signer = Signer.from_seed_b64(
        __import__("base64").urlsafe_b64encode(settings.signing_seed_bytes()).decode()
    )
    state.calendar = build_calendar(spec.config)
    state.cipher = FieldCipher(settings.data_key_bytes())
    state.metrics = Metrics(spec.name)
    state.migration_head = None
    state.periodic = periodic
    state.templates = LazyTemplates(
        spec.package_dir / "templates",
        globals_={
            "service_title": spec.title,
            "regency_name": spec.config.regency.name,
            "timezone": spec.config.regency.timezone,
            "help_desk": spec.config.regency.help,
        },
    )
    for key, value in spec.extra_state.items():
        setattr(state, key, value)

    install_problem_handlers(
        app,
        type_base=f"{settings.problem_type_base}/{spec.name}",
        html=html_error,
        wants_html=wants_html,
    )

    async def replay(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StoredResponseReplayError)
        return JSONResponse(
            exc.body, status_code=exc.status_code, headers={"Idempotent-Replayed": "true"}
        )

    render_app_error = cast(
        Callable[[Request, Exception], Awaitable[Response]], app.exception_handlers[AppError]
    )

    async def integrity(request: Request, exc: Exception) -> Response:
        # A unique or foreign-key violation at flush or commit: the whole request was rolled back.
        logger.warning("integrity error: %s", type(exc.__cause__ or exc).__name__)
        return await render_app_error(
            request,
            ConflictError("The change conflicts with data already stored; nothing was saved"),
        )

    async def unavailable(request: Request, exc: Exception) -> Response:
        # Pool exhausted, database down or locked: answer fast with Retry-After instead of stalling.
        logger.warning("database unavailable: %s", type(exc).__name__)
        return await render_app_error(
            request, ServiceUnavailableError("The service is busy; try again in a few seconds")
        )

    async def bad_text(request: Request, exc: Exception) -> Response:
        # PostgreSQL refuses a NUL byte or an unencodable character in text: the client's input.
        if getattr(getattr(exc, "orig", None), "sqlstate", None) not in BAD_TEXT_SQLSTATES:
            raise exc  # any other database error is a 500, answered by the middleware
        return await render_app_error(
            request,
            InvalidCharactersError(
                "The request contains a NUL byte or another character that cannot be stored"
            ),
        )

    app.add_exception_handler(StoredResponseReplayError, replay)
    app.add_exception_handler(sa_exc.DBAPIError, bad_text)
    app.add_exception_handler(sa_exc.IntegrityError, integrity)
    app.add_exception_handler(sa_exc.TimeoutError, unavailable)
    app.add_exception_handler(sa_exc.OperationalError, unavailable)
    app.add_exception_handler(sa_exc.InterfaceError, unavailable)
    app.add_exception_handler(ConnectionError, unavailable)

    app.include_router(_common_router(spec))
    app.include_router(audit_router(spec.name))
    app.include_router(auditor_router(spec.name))
    app.include_router(auth_router())
    for router in spec.api_routers:
        app.include_router(router)
    if spec.page_router is not None:
        app.include_router(spec.page_router)
    from shared.web import auth_pages

    app.include_router(
        auth_pages(account_model=lambda: spec.models.account, username_label=spec.username_label)
    )
    app.mount("/static", StaticAssets(spec.package_dir / "static"), name="static")
    app.add_api_route("/favicon.ico", favicon, include_in_schema=False)
    app.add_middleware(
        RequestFrame,
        metrics=state.metrics,
        logger_name=f"{spec.name}.access",
        body_limits=body_limits(settings),
        max_in_flight=settings.max_in_flight or settings.db_pool_size + settings.db_max_overflow,
        max_wait=settings.admission_wait_seconds,
        public_url=settings.public_url,
        error_page=crash_page,
    )
    app.openapi = _problem_openapi(app)  # type: ignore[method-assign]
    routing.optimise(app)  # the leaf routes in one list, tried by their leading segments
    return app
