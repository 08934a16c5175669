"""SABILULUNGAN's section of the regency configuration (`[sabilulungan]` in the regency TOML)."""

from __future__ import annotations

from shared.config import RegencyConfigBase, StrictModel


class SabilulunganSection(StrictModel):
    pass


class SabilulunganConfig(RegencyConfigBase):
    sabilulungan: SabilulunganSection = SabilulunganSection()
