"""Request-scoped dependencies of e-RK."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Path, Request

from erk.config import ErkConfig
from erk.domain import Rules
from erk.schemas import PERIOD_PATTERN
from shared.auth import require_roles
from shared.calendar import WorkingCalendar
from shared.db import utcnow

Clock = Callable[[], dt.datetime]


def system_clock() -> dt.datetime:
    return utcnow()


async def rules_of(request: Request) -> Rules:
    """The regency's rules and the local date; tests replace `app.state.clock` to fix "today"."""
    state = request.app.state
    config: ErkConfig = state.config
    calendar: WorkingCalendar = state.calendar
    clock: Clock = getattr(state, "clock", system_clock)
    now = clock()
    return Rules(config=config.erk, calendar=calendar, today=calendar.local_date(now), now=now)


RulesDep = Annotated[Rules, Depends(rules_of)]
PeriodPath = Annotated[str, Path(pattern=PERIOD_PATTERN, description="month as YYYY-MM")]

AdminRoles = Depends(require_roles("hr_admin", "admin"))
UnitAdminRoles = Depends(require_roles("unit_admin", "hr_admin", "admin"))
RecapReaders = Depends(require_roles("unit_admin", "hr_admin", "auditor", "admin"))
DelegatorRoles = Depends(require_roles("employee", "hr_admin", "admin"))
EmployeeRole = Depends(require_roles("employee"))
