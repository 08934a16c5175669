"""The one request context of e-RK and its `Annotated` aliases.

`Context` is what a request (or the CLI, the demo, a periodic task) reasons with: the regency's
configuration, its working calendar and the moment the work happens. The clock is
`app.state.clock` (tests replace it to fix "today"); domain code reads `ctx.now` and `ctx.today`
and never the system clock.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Path, Request

from erk.config import ErkConfig, ErkSection
from erk.schemas import PERIOD_PATTERN
from shared.auth import Principal, require_roles
from shared.calendar import WorkingCalendar
from shared.context import evolve, kept, request_origin
from shared.db import utcnow

Clock = Callable[[], dt.datetime]
system_clock: Clock = utcnow  # the default `app.state.clock`


@dataclass(frozen=True)
class Context:
    config: ErkConfig
    calendar: WorkingCalendar
    now: dt.datetime  # read once from the clock, so one request sees one moment
    base_url: str = ""

    @property
    def erk(self) -> ErkSection:
        return self.config.erk

    @property
    def today(self) -> dt.date:
        """The regency's local date at `now`."""
        return self.calendar.local_date(self.now)

    def at(self, now: dt.datetime) -> Context:
        """The same context at another moment (a task catching up, a test)."""
        return evolve(self, now=now)


def context_of(app_state: Any, base_url: str = "") -> Context:
    """The context at this moment. The configuration and calendar part is built once per state
    and kept on it (`erk_context`), rebuilt when either object is replaced (a test swapping the
    configuration)."""
    clock: Clock = getattr(app_state, "clock", None) or utcnow
    now = clock()  # once: every rule of the request sees the same moment
    fixed = kept(
        app_state,
        "erk_context",
        ("config", "calendar"),
        lambda: Context(config=app_state.config, calendar=app_state.calendar, now=now),
    )
    return evolve(fixed, now=now, base_url=base_url.rstrip("/"))


# async: a plain function dependency would be sent through the thread pool on every request.
async def get_context(request: Request) -> Context:
    # Starlette's reading of the Host header (an invalid one falls back to the server's address)
    return context_of(request.app.state, request_origin(request.scope))


ContextDep = Annotated[Context, Depends(get_context)]
PeriodPath = Annotated[str, Path(pattern=PERIOD_PATTERN, description="month as YYYY-MM")]

AdminRoles = Depends(require_roles("hr_admin", "admin"))
UnitAdminRoles = Depends(require_roles("unit_admin", "hr_admin", "admin"))
RecapReaders = Depends(require_roles("unit_admin", "hr_admin", "auditor", "admin"))
DelegatorRoles = Depends(require_roles("employee", "hr_admin", "admin"))
EmployeeRole = Depends(require_roles("employee"))
# Rencana Aksi: employees their own; unit admins for their unit's current employees; HR for all.
ActionPlanImporters = Depends(require_roles("employee", "unit_admin", "hr_admin", "admin"))

# The role check that also gives the route its caller: one dependency where a route-level
# `dependencies=[...]` check and a `CurrentPrincipal` parameter were two for FastAPI to resolve.
AdminCaller = Annotated[Principal, AdminRoles]
UnitAdminCaller = Annotated[Principal, UnitAdminRoles]
RecapReaderCaller = Annotated[Principal, RecapReaders]
DelegatorCaller = Annotated[Principal, DelegatorRoles]
EmployeeCaller = Annotated[Principal, EmployeeRole]
PlanImporterCaller = Annotated[Principal, ActionPlanImporters]
