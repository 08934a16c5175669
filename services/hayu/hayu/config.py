"""HAYU's section of the regency configuration (`[hayu]` in the regency TOML)."""

from __future__ import annotations

from shared.config import RegencyConfigBase, StrictModel


class HayuSection(StrictModel):
    pass


class HayuConfig(RegencyConfigBase):
    hayu: HayuSection = HayuSection()
