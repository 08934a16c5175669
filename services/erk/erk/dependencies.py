"""The one request context of e-RK and its `Annotated` aliases.

`Context` is what a request (or the CLI, the demo, a periodic task) reasons with: the regency's
configuration, its working calendar and the moment the work happens. The clock is
`app.state.clock` (tests replace it to fix "today"); domain code reads `ctx.now` and `ctx.today`
and never the system clock.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Path, Request

from erk.config import ErkConfig, ErkSection
from erk.schemas import PERIOD_PATTERN
from shared.auth import require_roles
from shared.calendar import WorkingCalendar
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
        return dataclasses.replace(self, now=now)


def context_of(app_state: Any, base_url: str = "") -> Context:
    clock: Clock = getattr(app_state, "clock", utcnow)
    return Context(
        config=app_state.config,
        calendar=app_state.calendar,
        now=clock(),
        base_url=base_url.rstrip("/"),
    )


# async: a plain function dependency would be sent through the thread pool on every request.
async def get_context(request: Request) -> Context:
    root = str(request.scope.get("root_path", "")).rstrip("/")
    return context_of(request.app.state, f"{request.base_url.scheme}://{request.url.netloc}{root}")


ContextDep = Annotated[Context, Depends(get_context)]
PeriodPath = Annotated[str, Path(pattern=PERIOD_PATTERN, description="month as YYYY-MM")]

AdminRoles = Depends(require_roles("hr_admin", "admin"))
UnitAdminRoles = Depends(require_roles("unit_admin", "hr_admin", "admin"))
RecapReaders = Depends(require_roles("unit_admin", "hr_admin", "auditor", "admin"))
DelegatorRoles = Depends(require_roles("employee", "hr_admin", "admin"))
EmployeeRole = Depends(require_roles("employee"))
# Rencana Aksi: employees their own; unit admins for their unit's current employees; HR for all.
ActionPlanImporters = Depends(require_roles("employee", "unit_admin", "hr_admin", "admin"))
