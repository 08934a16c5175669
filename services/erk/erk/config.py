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
from typing import Literal

from pydantic import Field, field_validator, model_validator

from erk.tax import NetRule
from shared.config import RegencyConfigBase, StrictModel

LEAVE_STATUSES = (
    "leave",
    "sick",
    "maternity_leave",
    "important_leave",
    "duty_travel",
    "training",
)
"""Attendance statuses that are an approved absence from the office (leave types)."""


class LeaveEffect(StrictModel):
    """What one leave type does to the month (Perkada): the day counts as `met` (credited with the
    day's standard minutes), `reduces_standard` (the month asks that many days fewer), or `cuts`
    (it stays in the standard and costs `percent` of the discipline part)."""

    effect: Literal["met", "reduces_standard", "cuts"] = "reduces_standard"
    percent: Decimal = Field(default=Decimal(0), ge=0, le=100, decimal_places=2)

    @property
    def basis_points(self) -> int:
        return int(self.percent * 100)


def _default_leave_effects() -> dict[str, LeaveEffect]:
    # PP 11/2017 as amended: approved leave is not a failure to work; duty travel and training
    # are work done elsewhere. Every type reduces the standard unless the Perkada says otherwise.
    return {status: LeaveEffect() for status in LEAVE_STATUSES}


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
    legal_basis: str = Field(
        default="Perka BKN 19/2011; Kepmendagri 900-4700/2020",
        max_length=300,
        description="recorded with every recap computed under this version",
    )
    standard_minutes_per_month: int | None = Field(
        default=None,
        ge=1,
        le=20_000,
        description="a fixed monthly standard (e.g. 6000) instead of working days x minutes a day",
    )
    leave_effects: dict[str, LeaveEffect] = Field(default_factory=_default_leave_effects)
    missing_attendance: Literal["absent", "blocks_closing"] = Field(
        default="absent",
        description="a past working day without an attendance record counts as unexcused "
        "absence, or leaves the month unclosable until it is recorded",
    )
    no_clock_in_percent: Decimal = Field(
        default=Decimal(3), ge=0, le=100, decimal_places=2, description="per day without clock-in"
    )
    missed_apel_percent: Decimal = Field(
        default=Decimal(2), ge=0, le=100, decimal_places=2, description="per missed apel"
    )
    cpns_percent: int = Field(
        default=80, ge=0, le=100, description="share of the base a CPNS receives"
    )
    class_bases: dict[int, int] = Field(
        default_factory=dict,
        description="TPP base per kelas jabatan; a class not listed uses the employee's own base",
    )
    net: NetRule = Field(default_factory=NetRule)

    @field_validator("leave_effects")
    @classmethod
    def _known_leave_types(cls, effects: dict[str, LeaveEffect]) -> dict[str, LeaveEffect]:
        unknown = sorted(set(effects) - set(LEAVE_STATUSES))
        if unknown:
            raise ValueError(f"unknown leave types: {', '.join(unknown)}")
        return {**_default_leave_effects(), **effects}

    @field_validator("class_bases")
    @classmethod
    def _class_bases(cls, bases: dict[int, int]) -> dict[int, int]:
        for job_class, amount in bases.items():
            if not 1 <= job_class <= 17 or not 0 <= amount <= 1_000_000_000:
                raise ValueError("class_bases maps kelas 1-17 to a rupiah amount")
        return bases

    def leave_statuses(self, effect: str) -> list[str]:
        return sorted(k for k, v in self.leave_effects.items() if v.effect == effect)

    @property
    def no_clock_in_basis_points(self) -> int:
        return int(self.no_clock_in_percent * 100)

    @property
    def missed_apel_basis_points(self) -> int:
        return int(self.missed_apel_percent * 100)

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
    ekinerja_day_start: dt.time = Field(
        default=dt.time(7, 30),
        description="e-Kinerja export: activities are laid out from this time (Perpres 21/2023)",
    )

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
