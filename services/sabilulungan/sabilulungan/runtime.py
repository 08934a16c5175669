"""What the rules need besides the session: configuration, workflow, cipher, calendar, signer."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sabilulungan.config import EFFECT_NAMES, SabilulunganConfig, SabilulunganSection
from sabilulungan.workflow import DEFAULT_WORKFLOW
from shared.calendar import WorkingCalendar
from shared.crypto import FieldCipher
from shared.db import utcnow
from shared.signing import Signer
from shared.workflow import WorkflowDef


@dataclass(frozen=True)
class Runtime:
    config: SabilulunganSection
    workflow: WorkflowDef
    cipher: FieldCipher
    calendar: WorkingCalendar
    signer: Signer
    upload_dir: Path
    upload_max_bytes: int
    public_url: str
    regency_name: str
    regency_code: str = "32.73"
    head_title: str = "Wali Kota"
    clock: Callable[[], dt.datetime] = field(default=utcnow)

    def now(self) -> dt.datetime:
        """The current UTC time from the injectable clock (tests and the demo may fix it)."""
        return self.clock()

    def effect(self, action: str) -> str:
        if action in self.config.action_effects:
            return self.config.action_effects[action]
        return action if action in EFFECT_NAMES else "none"

    def today(self) -> dt.date:
        return self.calendar.local_date(self.now())

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


def build_runtime(
    config: SabilulunganConfig,
    *,
    calendar: WorkingCalendar,
    signer: Signer,
    data_key: bytes,
    upload_dir: Path,
    upload_max_bytes: int,
    public_url: str,
    clock: Callable[[], dt.datetime] = utcnow,
) -> Runtime:
    section = config.sabilulungan
    return Runtime(
        config=section,
        workflow=section.workflow or DEFAULT_WORKFLOW,
        cipher=FieldCipher(data_key),
        calendar=calendar,
        signer=signer,
        upload_dir=upload_dir,
        upload_max_bytes=upload_max_bytes,
        public_url=public_url.rstrip("/"),
        regency_name=config.regency.name,
        regency_code=config.regency.code,
        head_title="Bupati" if config.regency.kind == "kabupaten" else "Wali Kota",
        clock=clock,
    )


def digits_only(value: str) -> str:
    return re.sub(r"\D", "", value)
