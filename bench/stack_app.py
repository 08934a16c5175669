"""The per-request floor of the shared stack: a no-op route in a full service app.

    HAYU_DATABASE_URL=... HAYU_BACKGROUND_TASKS=false uvicorn bench.stack_app:app --port 8101

`app` is HAYU's app exactly as `hayu.main:app` builds it (every middleware of `shared.app`: request
id, admission control, body limits, security headers, metrics, the JSON access log, the problem
handlers) with one route more, `GET /api/v1/bench/noop`. The route resolves the dependencies every
service route has (the optional principal and the service's request context) and answers the
same model as the bare app's `GET /noop` (`bench.reference_app`), without touching the database.
The ratio of the two is the cost of the stack itself (`stack.noop` ÷ `reference.noop`).
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI

from bench.reference_app import Noop
from hayu.dependencies import ContextDep
from shared import routing
from shared.auth import OptionalPrincipal

NOOP_PATH = "/api/v1/bench/noop"


def noop_router() -> APIRouter:
    router = APIRouter()

    @router.get(NOOP_PATH, response_model=Noop, include_in_schema=True)
    async def noop(ctx: ContextDep, principal: OptionalPrincipal) -> Noop:
        """The common dependencies, no database, the bare app's answer."""
        return Noop(status="ok")

    return router


def with_noop(app: FastAPI) -> FastAPI:
    """A service app with the no-op route added (the route is matched before the pages)."""
    app.include_router(noop_router())
    # Routes added after the service's own: move the no-op in front of any catch-all page route,
    # then serve it as the service's own routes are served (`shared.routing.optimise` again: a
    # leaf route, its request-only dependencies in one step, a fresh route index).
    app.router.routes.insert(0, app.router.routes.pop())
    routing.optimise(app)
    return app


def create_app() -> FastAPI:
    from hayu.main import create_app as create_hayu

    return with_noop(create_hayu())


def __getattr__(name: str) -> FastAPI:
    # Built on first access, as `hayu.main:app` is: importing this module starts nothing.
    if name == "app":
        application = create_app()
        globals()["app"] = application
        return application
    raise AttributeError(name)
