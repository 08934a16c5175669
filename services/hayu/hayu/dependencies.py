"""Request-scoped handles the domain needs: configuration, calendar, keys."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Path, Request

from hayu.config import HayuConfig, HayuSection
from hayu.settings import Settings
from shared.calendar import WorkingCalendar
from shared.crypto import FieldCipher
from shared.signing import Signer


@dataclass(frozen=True)
class Context:
    config: HayuConfig
    calendar: WorkingCalendar
    cipher: FieldCipher
    signer: Signer
    settings: Settings
    base_url: str

    @property
    def hayu(self) -> HayuSection:
        return self.config.hayu


def context_of(app_state: object, base_url: str) -> Context:
    state = app_state
    settings: Settings = state.settings  # type: ignore[attr-defined]
    return Context(
        config=state.config,  # type: ignore[attr-defined]
        calendar=state.calendar,  # type: ignore[attr-defined]
        cipher=state.cipher,  # type: ignore[attr-defined]
        signer=state.signer,  # type: ignore[attr-defined]
        settings=settings,
        base_url=(settings.public_url or base_url).rstrip("/"),
    )


# async: a plain function dependency would be sent through the thread pool on every request.
async def get_context(request: Request) -> Context:
    root = str(request.scope.get("root_path", "")).rstrip("/")
    return context_of(request.app.state, f"{request.base_url.scheme}://{request.url.netloc}{root}")


ContextDep = Annotated[Context, Depends(get_context)]


# Ids are BIGINT: a larger number in a path is a 422, not an overflow in the database driver.
ApplicationId = Annotated[int, Path(ge=1, le=2**63 - 1, description="the application's id")]
DocumentId = Annotated[int, Path(ge=1, le=2**63 - 1, description="the document's id")]
