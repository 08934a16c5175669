"""Pytest plumbing shared by the services' tests (loaded with `pytest_plugins`).

The backend comes from `TEST_BACKEND` (`sqlite`, the default, or `postgres`); PostgreSQL is reached
at
`TEST_DATABASE_URL` (default: the local server's `test` database). Each test gets a fresh app on a
migrated database: on SQLite a copy of a migrated template file, on PostgreSQL the service's schema
migrated once per session and emptied after each test. The app runs its real transaction handling
(one commit per request), so tests see what a client would.

This module knows no service: the tests' conftest hands it each service's `main` module and
`Settings` class with `register_service`, and the fixtures then find them by the service's name
(`make_app(name)`).
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest
from fastapi import APIRouter, FastAPI, Request
from pydantic import BaseModel, Field
from sqlalchemy import text

from shared import migrations
from shared.app import create_service_app
from shared.audit import record_event
from shared.auth import use_fast_hashing_for_tests
from shared.cli import create_account
from shared.db import SessionDep, create_engine
from shared.idempotency import IdempotencyDep
from shared.problems import problem_responses
from shared.settings import ServiceSettings

BACKEND = os.environ.get("TEST_BACKEND", "sqlite")
PG_URL = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
REFERENCE_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"

use_fast_hashing_for_tests()


def reference_data(name: str) -> Path:
    """A file of ../shared/data (beside the repository); the test is skipped where it is absent."""
    path = REFERENCE_DATA / name
    if not path.exists():
        pytest.skip(f"reference data {path} is not present (it lives beside the repository)")
    return path


@dataclass(frozen=True)
class ServiceUnderTest:
    """What the fixtures need of a service: its `main` module (`create_app(settings)`,
    `build_spec(settings)`, `app` for uvicorn) and its `Settings` class."""

    main: ModuleType
    settings: type[ServiceSettings]

    @property
    def name(self) -> str:
        """Its `service_name`: the PostgreSQL schema and the key of the fixtures."""
        return str(self.settings.model_fields["service_name"].default)

    @property
    def package_dir(self) -> Path:
        return Path(str(self.main.__file__)).parent

    @property
    def asgi_target(self) -> str:
        return f"{self.main.__name__}:app"

    @property
    def env_prefix(self) -> str:
        return str(self.settings.model_config.get("env_prefix") or "").upper()


# The services under test, by name, in the order registered; filled by the tests' conftest.
REGISTERED: dict[str, ServiceUnderTest] = {}
SERVICES: list[str] = []  # their names, for `pytest.mark.parametrize("service", SERVICES)`


def register_service(main: ModuleType, settings: type[ServiceSettings]) -> ServiceUnderTest:
    """Make a service known to the fixtures (call it from a conftest, before collection)."""
    service = ServiceUnderTest(main, settings)
    if service.name not in REGISTERED:
        SERVICES.append(service.name)
    REGISTERED[service.name] = service
    return service


def service_under_test(name: str) -> ServiceUnderTest:
    try:
        return REGISTERED[name]
    except KeyError:
        raise LookupError(
            f"service {name!r} is not registered: call shared.testing.register_service "
            "from the tests' conftest"
        ) from None


def migrations_dir(service: str) -> Path:
    return service_under_test(service).package_dir / "migrations"


async def _tables(url: str, schema: str) -> list[str]:
    engine = create_engine(url, schema=schema, pool_size=1, max_overflow=0)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(
                text(
                    "SELECT tablename FROM pg_tables WHERE schemaname = :s "
                    "AND tablename <> 'alembic_version'"
                ),
                {"s": schema},
            )
            return [r[0] for r in rows]
    finally:
        await engine.dispose()


async def empty_schema(url: str, schema: str, tables: Sequence[str]) -> None:
    if not tables:
        return
    engine = create_engine(url, schema=schema, pool_size=1, max_overflow=0)
    try:
        async with engine.begin() as conn:
            names = ", ".join(f'"{schema}"."{t}"' for t in tables)
            # the audit tables refuse TRUNCATE by trigger; a test database is emptied around it
            await conn.execute(text("SET LOCAL session_replication_role = replica"))
            await conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    finally:
        await engine.dispose()


class Databases:
    """Migrated databases for the session, handed out one clean database per test."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.templates: dict[str, Path] = {}
        self.pg_ready: dict[str, list[str]] = {}
        self.counter = 0

    async def url_for(self, service: str) -> str:
        if BACKEND == "postgres":
            if service not in self.pg_ready:
                engine = create_engine(PG_URL, schema=service, pool_size=1, max_overflow=0)
                async with engine.begin() as conn:
                    await conn.execute(text(f'DROP SCHEMA IF EXISTS "{service}" CASCADE'))
                await engine.dispose()
                migrations.upgrade(migrations_dir(service), PG_URL)
                self.pg_ready[service] = await _tables(PG_URL, service)
            return PG_URL
        template = self.templates.get(service)
        if template is None:
            template = self.root / "templates" / f"{service}.db"
            migrations.upgrade(migrations_dir(service), f"sqlite:///{template}")
            self.templates[service] = template
        self.counter += 1
        target = self.root / f"t{self.counter}" / f"{service}.db"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(template, target)
        return f"sqlite:///{target}"

    async def reset(self, service: str) -> None:
        if BACKEND == "postgres" and service in self.pg_ready:
            await empty_schema(PG_URL, service, self.pg_ready[service])


@pytest.fixture(scope="session")
def backend() -> str:
    return BACKEND


@pytest.fixture(scope="session")
def databases(tmp_path_factory: pytest.TempPathFactory) -> Databases:
    return Databases(tmp_path_factory.mktemp("db"))


AppFactory = Callable[..., Awaitable[FastAPI]]

PROBE_SECRET = "database password is hunter2"


class ProbeCreate(BaseModel):
    name: str = Field(min_length=1, max_length=50)
    amount_idr: int = Field(ge=0)


class ProbeRead(BaseModel):
    name: str
    amount_idr: int


def probe_router() -> APIRouter:
    """Routes that exercise the plumbing itself: a create endpoint and one that crashes."""
    router = APIRouter(prefix="/api/v1/probe")

    @router.post("/things", status_code=201, responses=problem_responses(409, 422))
    async def create_thing(
        body: ProbeCreate, request: Request, session: SessionDep, idem: IdempotencyDep
    ) -> Any:
        await record_event(
            session,
            request.app.state.models.audit_event,
            actor="tester",
            action="thing.created",
            entity_type="thing",
            entity_id=body.name,
            after=body.model_dump(),
        )
        return await idem.respond(ProbeRead(**body.model_dump()), 201)

    @router.get("/boom")
    async def boom() -> None:
        raise RuntimeError(PROBE_SECRET)

    return router


@pytest.fixture
async def make_app(databases: Databases, tmp_path: Path) -> AsyncIterator[AppFactory]:
    """`await make_app(name, config_toml="...", **settings)`: a fresh app on a clean database."""
    made: list[tuple[str, FastAPI]] = []

    async def factory(
        service: str,
        *,
        config_toml: str | None = None,
        extra_routers: Sequence[APIRouter] = (),
        **overrides: Any,
    ) -> FastAPI:
        under_test = service_under_test(service)
        module = under_test.main
        url = await databases.url_for(service)
        if config_toml is not None:
            config_path = tmp_path / f"{service}-regency.toml"
            config_path.write_text(config_toml, encoding="utf-8")
            overrides.setdefault("regency_config", config_path)
        overrides.setdefault("upload_dir", tmp_path / "uploads")
        settings = under_test.settings(
            database_url=url, environment="test", background_tasks=False, **overrides
        )
        if extra_routers:
            spec = module.build_spec(settings)
            spec.api_routers = [*spec.api_routers, *extra_routers]
            app: FastAPI = create_service_app(spec)
        else:
            app = module.create_app(settings)
        made.append((service, app))
        return app

    yield factory
    for service, app in made:
        await app.state.db.dispose()
        await databases.reset(service)


def client_for(app: FastAPI, **kwargs: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, raise_app_exceptions=False),
        base_url="http://test",
        **kwargs,
    )


async def add_account(
    app: FastAPI,
    username: str,
    roles: Sequence[str],
    *,
    password: str = "password-123",
    name: str = "",
    unit: str | None = None,
) -> None:
    async with app.state.db.sessionmaker.begin() as session:
        await create_account(
            session, app.state.models, username, password, roles, name=name, unit=unit
        )


async def bearer(
    client: httpx.AsyncClient, username: str, password: str = "password-123"
) -> dict[str, str]:
    response = await client.post(
        "/api/v1/auth/token", data={"username": username, "password": password}
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def user_headers(
    app: FastAPI, client: httpx.AsyncClient, username: str, roles: Sequence[str], **kwargs: Any
) -> dict[str, str]:
    """Create an account with `roles` and return the Authorization header of its token."""
    await add_account(app, username, roles, **kwargs)
    return await bearer(client, username)


def assert_problem(
    response: httpx.Response, status: int, type_suffix: str | None = None
) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json"), response.headers
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    if type_suffix is not None:
        assert body["type"].endswith("/" + type_suffix) or body["type"] == type_suffix, body
    return body


# --- Browser tests: the service runs in a real uvicorn process, Chromium drives it. ---------------

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


class LiveService:
    """A service served by uvicorn in a subprocess; `app` is an in-process twin on the same data."""

    def __init__(self, service: str, url: str, app: FastAPI, process: Any) -> None:
        self.service = service
        self.url = url
        self.app = app
        self.process = process


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
async def live_service(
    make_app: AppFactory, tmp_path: Path
) -> AsyncIterator[Callable[..., Awaitable[LiveService]]]:
    import asyncio
    import subprocess
    import sys

    started: list[LiveService] = []

    async def factory(service: str, *, config_toml: str | None = None) -> LiveService:
        app = await make_app(service, config_toml=config_toml)
        settings = app.state.settings
        port = _free_port()
        under_test = service_under_test(service)
        prefix = under_test.env_prefix
        env = {
            **os.environ,
            prefix + "DATABASE_URL": settings.database_url,
            prefix + "ENVIRONMENT": "test",
            prefix + "BACKGROUND_TASKS": "false",
            prefix + "UPLOAD_DIR": str(settings.upload_dir),
        }
        if settings.regency_config:
            env[prefix + "REGENCY_CONFIG"] = str(settings.regency_config)
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                under_test.asgi_target,
                "--port",
                str(port),
                "--log-level",
                "warning",
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=open(tmp_path / f"{service}-server.log", "wb"),  # noqa: SIM115
        )
        url = f"http://127.0.0.1:{port}"
        async with httpx.AsyncClient() as client:
            for _ in range(100):
                try:
                    if (await client.get(url + "/health")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)
            else:
                process.kill()
                raise RuntimeError(f"{service} did not start; see {tmp_path}")
        live = LiveService(service, url, app, process)
        started.append(live)
        return live

    yield factory
    for live in started:
        live.process.terminate()
        try:
            live.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            live.process.kill()


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Any]:
    """Debian's headless Chromium through Playwright; skipped off CI where it is not installed."""
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing: CI must install Debian's chromium")
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        instance = await playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield instance
        await instance.close()


@pytest.fixture
async def page(browser: Any) -> AsyncIterator[Any]:
    context = await browser.new_context(locale="id-ID", viewport={"width": 390, "height": 844})
    page = await context.new_page()
    yield page
    await context.close()


@contextlib.contextmanager
def transactions_begun() -> Iterator[list[int]]:
    """Counts the BEGINs the asyncpg adapter sends (on PostgreSQL each is a round trip of its
    own before the first statement); in autocommit it sends none and none is counted."""
    from sqlalchemy.dialects.postgresql import asyncpg as adapter

    cls = adapter.AsyncAdapt_asyncpg_connection
    real = cls._start_transaction
    begun: list[int] = []

    async def counted(self: Any) -> None:
        if self.isolation_level != "autocommit":
            begun.append(1)
        await real(self)  # type: ignore[no-untyped-call]

    cls._start_transaction = counted  # type: ignore[method-assign]
    try:
        yield begun
    finally:
        cls._start_transaction = real  # type: ignore[method-assign]


@contextlib.contextmanager
def statements_sent(
    app: FastAPI, keep: Callable[[str, Any], bool] | None = None
) -> Iterator[list[str]]:
    """The SQL the app's engine sends while inside the block, in order; with `keep`, only the
    statements for which `keep(statement, execution_context)` is true."""
    from sqlalchemy import event

    sent: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, params: Any, context: Any, *_: Any) -> None:
        if keep is None or keep(statement, context):
            sent.append(statement)

    engine = app.state.db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", record)


def _built_for_this_execution(statement: str, context: Any) -> bool:
    from sqlalchemy.engine.interfaces import CacheStats

    compiled = getattr(context, "compiled", None)
    if compiled is None:  # driver-level SQL (BEGIN on SQLite), nothing compiled
        return False
    return bool(
        context.cache_hit is not CacheStats.CACHE_HIT
        or compiled.post_compile_params
        or compiled.literal_execute_params
    )


def statements_built_per_request(app: FastAPI) -> contextlib.AbstractContextManager[list[str]]:
    """The statements the app's engine executed whose SQL text was built for that execution:
    compiled afresh (not found in SQLAlchemy's compiled cache, or not cacheable) or carrying
    parameters rendered into the text at execution (an expanding `IN`, a literal-execute
    parameter). A hot path's prebuilt statements, once warm, should show none: each is compiled
    once per process and sent as the same text, so its execution only binds values."""
    return statements_sent(app, _built_for_this_execution)
