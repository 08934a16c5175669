"""The one request context: configuration, calendar, keys and the clock.

`context_of` builds it from the application state for a request, the CLI, the demo seeder and
the periodic tasks alike. The clock is `app.state.clock` (aware UTC; `shared.db.utcnow` unless a
test or a replay sets another), read once per context: every rule a request applies sees the
same `now` and `today`. Domain code never reads the time itself.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from types import SimpleNamespace
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Depends, Path, Request

from hayu.config import HayuConfig, HayuSection
from hayu.settings import Settings
from shared.calendar import WorkingCalendar
from shared.context import evolve, kept, request_origin
from shared.crypto import FieldCipher
from shared.db import utcnow
from shared.signing import Signer

if TYPE_CHECKING:
    from shared.app import ServiceSpec

Clock = Callable[[], dt.datetime]


@dataclass(frozen=True)
class Context:
    config: HayuConfig
    calendar: WorkingCalendar
    cipher: FieldCipher
    signer: Signer
    settings: Settings
    base_url: str
    now: dt.datetime
    """The moment this context was made (aware UTC), from the application's clock."""

    @property
    def hayu(self) -> HayuSection:
        return self.config.hayu

    @property
    def today(self) -> dt.date:
        """`now` as a date in the regency's time zone."""
        return self.calendar.local_date(self.now)

    def at(self, now: dt.datetime) -> Context:
        """The same context at another moment (a replay, a task catching up, a test)."""
        return evolve(self, now=now)


def context_of(app_state: object, base_url: str) -> Context:
    """The context at this moment. What does not change while the app runs (configuration,
    calendar, keys, settings) is built once per state and kept on it (`hayu_context`), rebuilt
    when any of those objects is replaced (a key rotation, a test swapping the configuration)."""
    state: Any = app_state
    settings: Settings = state.settings
    clock: Clock = getattr(state, "clock", None) or utcnow
    now = clock()  # once: every rule of the request sees the same moment
    fixed = kept(
        state,
        "hayu_context",
        ("config", "calendar", "cipher", "signer", "settings"),
        lambda: Context(
            config=state.config,
            calendar=state.calendar,
            cipher=state.cipher,
            signer=state.signer,
            settings=settings,
            base_url="",
            now=now,
        ),
    )
    return evolve(fixed, base_url=(settings.public_url or base_url).rstrip("/"), now=now)


def spec_context(spec: ServiceSpec) -> Context:
    """The context of a command or the demo seeder, outside any request."""
    # Imported here: the service's start-up does not load the command-line machinery.
    from shared.app import build_calendar
    from shared.cli import signer_of

    state = SimpleNamespace(
        config=spec.config,
        calendar=build_calendar(spec.config),
        cipher=spec.extra_state["cipher"],
        signer=signer_of(spec),
        settings=spec.settings,
    )
    return context_of(state, spec.settings.public_url)


# async: a plain function dependency would be sent through the thread pool on every request.
async def get_context(request: Request) -> Context:
    state = request.app.state
    if state.settings.public_url:  # the site's address is configured: the request's is not read
        return context_of(state, "")
    # Links in letters and QR codes are built from this when no public URL is set (an invalid
    # Host header falls back to the server's address, as in Starlette's URL objects).
    return context_of(state, request_origin(request.scope))


ContextDep = Annotated[Context, Depends(get_context)]


# Ids are BIGINT: a larger number in a path is a 422, not an overflow in the database driver.
ApplicationId = Annotated[int, Path(ge=1, le=2**63 - 1, description="the application's id")]
DocumentId = Annotated[int, Path(ge=1, le=2**63 - 1, description="the document's id")]
