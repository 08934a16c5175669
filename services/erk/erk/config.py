"""ERK's section of the regency configuration (`[erk]` in the regency TOML)."""

from __future__ import annotations

from shared.config import RegencyConfigBase, StrictModel


class ErkSection(StrictModel):
    pass


class ErkConfig(RegencyConfigBase):
    erk: ErkSection = ErkSection()
