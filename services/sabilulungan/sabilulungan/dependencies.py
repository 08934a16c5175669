"""The one request context of Sabilulungan (`Context`), its clock and the route aliases.

`Context` carries what the rules need besides the session: the rule section, the workflow, the
field cipher, the working calendar, the signer and where uploads go. It is built once per app from
`app.state` by `context_of` (also used by the CLI, the demo seeder and periodic tasks). The clock is
`app.state.clock` (aware UTC; `shared.db.utcnow` unless a test or the demo sets another), read once
per context: every rule a request applies sees the same `now` and `today`, as in HAYU and e-RK.
Domain code never reads the time itself.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path as FilePath
from typing import Annotated, Any

from fastapi import Depends, Path, Request

from sabilulungan.config import EFFECT_NAMES, SabilulunganSection
from sabilulungan.workflow import DECREE_ISSUER_ROLES, DEFAULT_WORKFLOW, REVIEWER_ROLES
from shared.auth import Principal, require_roles
from shared.calendar import WorkingCalendar
from shared.context import evolve, request_origin
from shared.crypto import FieldCipher
from shared.db import utcnow
from shared.signing import Signer
from shared.workflow import WorkflowDef

Clock = Callable[[], dt.datetime]


@dataclass(frozen=True)
class Context:
    config: SabilulunganSection
    workflow: WorkflowDef
    cipher: FieldCipher
    calendar: WorkingCalendar
    signer: Signer
    upload_dir: FilePath
    upload_max_bytes: int
    public_url: str
    regency_name: str
    now: dt.datetime
    """The moment this context was made (aware UTC), from the application's clock."""
    regency_code: str = "32.73"
    head_title: str = "Wali Kota"
    refused_states: frozenset[str] = frozenset()
    """States reached by an action whose effect is `reject` (the refusal letter's states)."""
    withdrawn_states: frozenset[str] = frozenset()
    """States reached by an action whose effect is `withdraw`."""

    @property
    def not_recipient_states(self) -> frozenset[str]:
        """Refused or withdrawn: the applicant is never shown as a recipient, whatever the
        state is called in the regency's workflow (derived, so no copy can hold a stale one)."""
        return self.refused_states | self.withdrawn_states

    @property
    def today(self) -> dt.date:
        """`now` as a date in the regency's time zone."""
        return self.calendar.local_date(self.now)

    def at(self, now: dt.datetime) -> Context:
        """The same context at another moment (a task catching up, a test)."""
        return evolve(self, now=now)

    def effect(self, action: str) -> str:
        if action in self.config.action_effects:
            return self.config.action_effects[action]
        return action if action in EFFECT_NAMES else "none"

    def states_reached_by(self, effect: str) -> frozenset[str]:
        return frozenset(a.to_state for a in self.workflow.actions if self.effect(a.name) == effect)

    def state_label(self, state: str) -> str:
        try:
            return self.workflow.state(state).label
        except KeyError:
            return state

    def holder(self, state: str) -> str | None:
        try:
            return self.workflow.state(state).holder
        except KeyError:
            return None

    def is_final(self, state: str) -> bool:
        try:
            return self.workflow.state(state).final
        except KeyError:
            return False


def context_of(app_state: Any, base_url: str = "") -> Context:
    """The context at this moment (CLI, demo and tasks too).

    What does not change while the app runs (keys, rules, calendar) is built on first use and
    kept on `app.state`; each call reads the clock once. `base_url` is where the service is
    reached when `settings.public_url` is unset.
    """
    state = app_state
    clock: Clock = getattr(state, "clock", None) or utcnow
    ctx: Context | None = getattr(state, "context", None)
    if ctx is None:
        config = state.config
        settings = state.settings
        section = config.sabilulungan
        ctx = Context(
            config=section,
            workflow=section.workflow or DEFAULT_WORKFLOW,
            cipher=FieldCipher(settings.data_key_bytes()),
            calendar=state.calendar,
            signer=state.signer,
            upload_dir=FilePath(settings.upload_dir),
            upload_max_bytes=settings.upload_max_bytes,
            public_url=(settings.public_url or base_url).rstrip("/"),
            regency_name=config.regency.name,
            regency_code=config.regency.code,
            head_title="Bupati" if config.regency.kind == "kabupaten" else "Wali Kota",
            now=clock(),
        )
        ctx = dataclasses.replace(
            ctx,
            refused_states=ctx.states_reached_by("reject"),
            withdrawn_states=ctx.states_reached_by("withdraw"),
        )
        state.context = ctx
        return ctx
    return evolve(ctx, now=clock())


# async: a plain function dependency would be sent through the thread pool on every request.
async def get_context(request: Request) -> Context:
    return context_of(request.app.state)


ContextDep = Annotated[Context, Depends(get_context)]
Applicant = Annotated[Principal, Depends(require_roles("applicant"))]
BudgetSetter = Annotated[Principal, Depends(require_roles("tapd", "admin"))]
Reviewer = Annotated[Principal, Depends(require_roles(*sorted(REVIEWER_ROLES)))]
DecreeIssuer = Annotated[Principal, Depends(require_roles(*sorted(DECREE_ISSUER_ROLES)))]
FiscalYear = Annotated[int, Path(ge=2000, le=2100)]
MAX_ID = 2**53  # ids beyond this exist in no table and overflow SQLite integers
ProposalId = Annotated[int, Path(ge=1, le=MAX_ID)]


def base_url(request: Request) -> str:
    """`scheme://host[:port][root path]` of the request, for links in letters and QR codes when
    no public URL is configured: Starlette's `base_url` already holds the root path (it was
    added a second time here: `/sabilulungan/sabilulungan/lacak` behind a gateway)."""
    return request_origin(request.scope)
