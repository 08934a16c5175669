"""Request-scoped dependencies of Sabilulungan: the one request context (`Runtime`) and its clock.

The runtime is built once per app from `app.state` (configuration, calendar, signer, keys) and is
also built by the demo seeder. Its clock reads `app.state.clock` when set, so tests (and a demo)
can fix "now"; otherwise it is the system clock.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path as FilePath
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Path, Request

from sabilulungan.proposals import REVIEWER_ROLES
from sabilulungan.runtime import Runtime, build_runtime
from shared.auth import Principal, require_roles
from shared.db import utcnow

Clock = Callable[[], dt.datetime]


def app_clock(state: Any) -> Clock:
    """A clock that asks `app.state.clock` on every call (so a test may replace it later)."""

    def now() -> dt.datetime:
        clock: Clock = getattr(state, "clock", utcnow)
        return clock()

    return now


def runtime_of_app(app: FastAPI) -> Runtime:
    state = app.state
    runtime: Runtime | None = getattr(state, "runtime", None)
    if runtime is None:
        runtime = build_runtime(
            state.config,
            calendar=state.calendar,
            signer=state.signer,
            data_key=state.settings.data_key_bytes(),
            upload_dir=FilePath(state.settings.upload_dir),
            upload_max_bytes=state.settings.upload_max_bytes,
            public_url=state.settings.public_url,
            clock=app_clock(state),
        )
        state.runtime = runtime
    return runtime


# async: a plain function dependency would be sent through the thread pool on every request.
async def get_runtime(request: Request) -> Runtime:
    return runtime_of_app(request.app)


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
Applicant = Annotated[Principal, Depends(require_roles("applicant"))]
BudgetSetter = Annotated[Principal, Depends(require_roles("tapd", "admin"))]
Reviewer = Annotated[Principal, Depends(require_roles(*sorted(REVIEWER_ROLES)))]
DecreeIssuer = Annotated[Principal, Depends(require_roles("head", "tapd", "admin"))]
FiscalYear = Annotated[int, Path(ge=2000, le=2100)]
MAX_ID = 2**53  # ids beyond this exist in no table and overflow SQLite integers
ProposalId = Annotated[int, Path(ge=1, le=MAX_ID)]


def base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/") + str(request.scope.get("root_path", ""))
