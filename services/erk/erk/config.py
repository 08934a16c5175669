"""e-RK's section of the regency configuration (`[erk]` in the regency TOML).

Defaults follow the national rules gathered in the domain brief (§3): 300 effective minutes a
working day (Perka BKN 19/2011, 6,000 for a 20-day month), TPP split 60 % productivity / 40 %
discipline, and discipline deductions as coded by Manado's BKPSDM (10 % a day of unexcused absence;
1/2/3 % for lateness or leaving early of 1-30, 31-60 and over 60 minutes). Cut-off days are
regency choices.

The TPP rules change over time (a new Perkada), so they are a list of versions, each with the date
it takes effect; a month is computed with the version in force on its first day, and a closed month
keeps the version it was closed with.
"""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

from pydantic import Field, field_validator, model_validator

from shared.config import RegencyConfigBase, StrictModel


class DeductionBand(StrictModel):
    """Minutes late (or left early) from `min_minutes` to `max_minutes` cost `percent` each time."""

    min_minutes: int = Field(ge=1)
    max_minutes: int | None = Field(default=None, ge=1, description="None: no upper bound")
    percent: Decimal = Field(ge=0, le=100, decimal_places=2)

    @model_validator(mode="after")
    def _ordered(self) -> DeductionBand:
        if self.max_minutes is not None and self.max_minutes < self.min_minutes:
            raise ValueError("max_minutes must not be below min_minutes")
        return self

    @property
    def basis_points(self) -> int:
        return int(self.percent * 100)


def _default_bands() -> list[DeductionBand]:
    return [
        DeductionBand(min_minutes=1, max_minutes=30, percent=Decimal(1)),
        DeductionBand(min_minutes=31, max_minutes=60, percent=Decimal(2)),
        DeductionBand(min_minutes=61, max_minutes=None, percent=Decimal(3)),
    ]


class TppRule(StrictModel):
    """One version of the TPP rules, in force from `effective_from` until the next version."""

    version: str = Field(min_length=1, max_length=40, description="recorded in every recap")
    effective_from: dt.date
    standard_minutes_per_day: int = Field(
        default=300, ge=1, le=600, description="Perka BKN 19/2011: 300 effective minutes a day"
    )
    weight_performance: int = Field(default=60, ge=0, le=100, description="percent of the base")
    weight_discipline: int = Field(default=40, ge=0, le=100, description="percent of the base")
    absence_percent: Decimal = Field(
        default=Decimal(10), ge=0, le=100, decimal_places=2, description="per unexcused day"
    )
    late_bands: list[DeductionBand] = Field(default_factory=_default_bands)
    early_leave_bands: list[DeductionBand] = Field(default_factory=_default_bands)

    @model_validator(mode="after")
    def _weights_sum(self) -> TppRule:
        if self.weight_performance + self.weight_discipline != 100:
            raise ValueError("weight_performance + weight_discipline must be 100")
        for bands in (self.late_bands, self.early_leave_bands):
            ordered = sorted(bands, key=lambda b: b.min_minutes)
            for low, high in itertools.pairwise(ordered):
                if low.max_minutes is None or low.max_minutes >= high.min_minutes:
                    raise ValueError("deduction bands must not overlap")
        return self

    @property
    def absence_basis_points(self) -> int:
        return int(self.absence_percent * 100)


DEFAULT_RULES = [TppRule(version="nasional-2020", effective_from=dt.date(2020, 1, 1))]


class ErkSection(StrictModel):
    entry_cutoff_day: int = Field(
        default=5,
        ge=1,
        le=28,
        description="activities of a month may be entered until this day "
        "of the next month (regency local time, inclusive)",
    )
    verification_deadline_day: int = Field(
        default=10,
        ge=1,
        le=28,
        description="supervisors verify a month's activities until this "
        "day of the next month; later, pending items escalate to the supervisor's supervisor",
    )
    daily_cap_minutes: int = Field(
        default=450, ge=30, le=1440, description="most minutes one employee may log on one day"
    )
    evidence_required: bool = Field(
        default=False, description="an activity needs evidence (PDF, JPEG, PNG) to be approved"
    )
    escalation_interval_seconds: float = Field(default=3600.0, gt=0)
    tpp_rules: list[TppRule] = Field(default_factory=lambda: list(DEFAULT_RULES))

    @field_validator("tpp_rules")
    @classmethod
    def _distinct_dates(cls, rules: list[TppRule]) -> list[TppRule]:
        if not rules:
            raise ValueError("at least one TPP rule version is needed")
        dates = [r.effective_from for r in rules]
        versions = [r.version for r in rules]
        if len(set(dates)) != len(dates) or len(set(versions)) != len(versions):
            raise ValueError("TPP rule versions need distinct names and effective dates")
        return sorted(rules, key=lambda r: r.effective_from)

    @model_validator(mode="after")
    def _deadline_after_cutoff(self) -> ErkSection:
        if self.verification_deadline_day < self.entry_cutoff_day:
            raise ValueError("verification_deadline_day must not be before entry_cutoff_day")
        return self

    def rule_for(self, first_day: dt.date) -> TppRule:
        """The version in force on `first_day` (the earliest version before any is in force)."""
        chosen = self.tpp_rules[0]
        for rule in self.tpp_rules:
            if rule.effective_from <= first_day:
                chosen = rule
        return chosen


class ErkConfig(RegencyConfigBase):
    erk: ErkSection = ErkSection()
