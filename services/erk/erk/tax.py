"""What is withheld from a month's TPP: PPh 21 with the TER tables and the BPJS Kesehatan share.

PPh 21 (PMK 168/2023): each month the employer withholds the *tarif efektif rata-rata* (TER) of
the employee's category (A: TK/0, TK/1, K/0; B: TK/2, TK/3, K/1, K/2; C: K/3) applied to the
month's gross. The salary is paid (and taxed) separately, so the tax on the TPP is the tax on
salary + TPP minus the tax already due on the salary alone. BPJS Kesehatan (Perpres 82/2018 as
amended by 64/2020): the employee pays 1 % of salary and allowances up to a wage ceiling; the
share on the TPP is again the difference. All figures are whole rupiah, rounded down.

The tables are configuration with their year and legal basis: a regency replaces them (in the
regency TOML) when the Minister of Finance changes them.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, field_validator

from shared.config import StrictModel

PTKP_CATEGORY = {
    "TK/0": "A",
    "TK/1": "A",
    "K/0": "A",
    "TK/2": "B",
    "TK/3": "B",
    "K/1": "B",
    "K/2": "B",
    "K/3": "C",
}
PTKP_STATUSES = tuple(PTKP_CATEGORY)

# (upper bound of the monthly gross in rupiah, inclusive; rate in basis points). Lampiran PMK
# 168/2023; the last band has no upper bound.
_TER_A = (
    (5_400_000, 0), (5_650_000, 25), (5_950_000, 50), (6_300_000, 75), (6_750_000, 100),
    (7_500_000, 125), (8_550_000, 150), (9_650_000, 175), (10_050_000, 200),
    (10_350_000, 225), (10_700_000, 250), (11_050_000, 300), (11_600_000, 350),
    (12_500_000, 400), (13_750_000, 500), (15_100_000, 600), (16_950_000, 700),
    (19_750_000, 800), (24_150_000, 900), (26_450_000, 1000), (28_000_000, 1100),
    (30_050_000, 1200), (32_400_000, 1300), (35_400_000, 1400), (39_100_000, 1500),
    (43_850_000, 1600), (47_800_000, 1700), (51_400_000, 1800), (56_300_000, 1900),
    (62_200_000, 2000), (68_600_000, 2100), (77_500_000, 2200), (89_000_000, 2300),
    (103_000_000, 2400), (125_000_000, 2500), (157_000_000, 2600), (206_000_000, 2700),
    (337_000_000, 2800), (454_000_000, 2900), (550_000_000, 3000), (695_000_000, 3100),
    (910_000_000, 3200), (1_400_000_000, 3300), (None, 3400),
)  # fmt: skip
_TER_B = (
    (6_200_000, 0), (6_500_000, 25), (6_850_000, 50), (7_300_000, 75), (9_200_000, 100),
    (10_750_000, 150), (11_250_000, 200), (11_600_000, 250), (12_600_000, 300),
    (13_600_000, 400), (14_950_000, 500), (16_400_000, 600), (18_450_000, 700),
    (21_850_000, 800), (26_000_000, 900), (27_700_000, 1000), (29_350_000, 1100),
    (31_450_000, 1200), (33_950_000, 1300), (37_100_000, 1400), (41_100_000, 1500),
    (45_800_000, 1600), (49_500_000, 1700), (53_800_000, 1800), (58_500_000, 1900),
    (64_000_000, 2000), (71_000_000, 2100), (80_000_000, 2200), (93_000_000, 2300),
    (109_000_000, 2400), (129_000_000, 2500), (163_000_000, 2600), (211_000_000, 2700),
    (374_000_000, 2800), (459_000_000, 2900), (555_000_000, 3000), (704_000_000, 3100),
    (957_000_000, 3200), (1_405_000_000, 3300), (None, 3400),
)  # fmt: skip
_TER_C = (
    (6_600_000, 0), (6_950_000, 25), (7_350_000, 50), (7_800_000, 75), (8_850_000, 100),
    (9_800_000, 125), (10_950_000, 150), (11_200_000, 175), (12_050_000, 200),
    (12_950_000, 300), (14_150_000, 400), (15_550_000, 500), (17_050_000, 600),
    (19_500_000, 700), (22_700_000, 800), (26_600_000, 900), (28_100_000, 1000),
    (30_100_000, 1100), (32_600_000, 1200), (35_400_000, 1300), (38_900_000, 1400),
    (43_000_000, 1500), (47_400_000, 1600), (51_200_000, 1700), (55_800_000, 1800),
    (60_400_000, 1900), (66_700_000, 2000), (74_500_000, 2100), (83_200_000, 2200),
    (95_600_000, 2300), (110_000_000, 2400), (134_000_000, 2500), (169_000_000, 2600),
    (221_000_000, 2700), (390_000_000, 2800), (463_000_000, 2900), (561_000_000, 3000),
    (709_000_000, 3100), (965_000_000, 3200), (1_419_000_000, 3300), (None, 3400),
)  # fmt: skip

Band = tuple[int | None, int]


def _bands(raw: Any) -> list[Band]:
    return [(None if upper is None else int(upper), int(rate)) for upper, rate in raw]


class NetRule(StrictModel):
    """PPh 21 TER tables and the BPJS Kesehatan employee share, with the year and basis."""

    ter_year: int = Field(default=2024, ge=2024, le=2100, description="first tax year of the table")
    ter_legal_basis: str = Field(default="PMK 168/2023 (Lampiran TER bulanan)", max_length=200)
    ter_a: list[Band] = Field(default_factory=lambda: _bands(_TER_A))
    ter_b: list[Band] = Field(default_factory=lambda: _bands(_TER_B))
    ter_c: list[Band] = Field(default_factory=lambda: _bands(_TER_C))
    bpjs_employee_percent: int = Field(default=1, ge=0, le=10)
    bpjs_wage_ceiling_idr: int = Field(default=12_000_000, ge=0, le=1_000_000_000)
    bpjs_legal_basis: str = Field(default="Perpres 82/2018 jo. Perpres 64/2020", max_length=200)

    @field_validator("ter_a", "ter_b", "ter_c")
    @classmethod
    def _ascending(cls, bands: list[Band]) -> list[Band]:
        if not bands or bands[-1][0] is not None:
            raise ValueError("a TER table ends with an open band (upper bound null)")
        uppers = [u for u, _ in bands[:-1]]
        if any(u is None for u in uppers) or uppers != sorted(set(uppers)):  # type: ignore[type-var]
            raise ValueError("TER bands must have ascending, distinct upper bounds")
        if any(not 0 <= rate <= 10_000 for _, rate in bands):
            raise ValueError("TER rates are basis points from 0 to 10000")
        return bands

    def table(self, category: str) -> list[Band]:
        return {"A": self.ter_a, "B": self.ter_b, "C": self.ter_c}[category]

    def rate_bp(self, category: str, gross: int) -> int:
        for upper, rate in self.table(category):
            if upper is None or gross <= upper:
                return rate
        raise AssertionError("unreachable: the last band is open")

    def pph21(self, ptkp_status: str, salary: int, tpp: int) -> int:
        """The PPh 21 withheld on `tpp` (the salary's own tax already withheld elsewhere)."""
        category = PTKP_CATEGORY[ptkp_status]
        total = salary + tpp
        return (
            total * self.rate_bp(category, total) // 10_000
            - salary * self.rate_bp(category, salary) // 10_000
        )

    def bpjs(self, salary: int, tpp: int) -> int:
        ceiling = self.bpjs_wage_ceiling_idr
        share = self.bpjs_employee_percent
        return min(salary + tpp, ceiling) * share // 100 - min(salary, ceiling) * share // 100
