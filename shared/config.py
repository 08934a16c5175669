"""The regency configuration: one TOML file shared by the services, validated at start-up.

Each service reads the common sections (`[regency]`, `[calendar]`) and its own section (`[hayu]`,
`[sabilulungan]`, `[erk]`), and ignores the sections of the others, so one file serves a regency
that
runs any subset of the suite. A bad value stops start-up with a message that names the field.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any, Literal, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

TIMEZONES = ("Asia/Jakarta", "Asia/Makassar", "Asia/Jayapura")


class StrictModel(BaseModel):
    """Unknown keys are errors: a misspelt setting must not be silently ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class HelpDesk(StrictModel):
    """The regency's help desk, printed at the foot of every page (WCAG 2.2 3.2.6)."""

    label: str = Field(default="Layanan pengaduan", min_length=3, max_length=80)
    phone: str = Field(default="", max_length=32, pattern=r"^(\+?[0-9][0-9 ()-]{5,30})?$")
    email: str = Field(default="", max_length=254, pattern=r"^([^@\s]+@[^@\s]+\.[^@\s]+)?$")
    hours: str = Field(default="", max_length=120, description="e.g. Senin-Jumat 08.00-16.00 WIB")
    url: str = Field(default="", max_length=300, pattern=r"^(https://\S+)?$")

    @model_validator(mode="after")
    def _reachable(self) -> HelpDesk:
        if not (self.phone or self.email or self.url):
            raise ValueError("give at least one of phone, email or url")
        return self


class RegencySection(StrictModel):
    name: str = Field(default="Kota Contoh", min_length=3, description="shown on every page")
    kind: Literal["kabupaten", "kota"] = "kota"
    code: str = Field(default="32.73", pattern=r"^\d{2}\.\d{2}$", description="kode wilayah PP.KK")
    timezone: str = Field(default="Asia/Jakarta", description="WIB, WITA or WIT")
    address: str = ""
    help: HelpDesk | None = Field(
        default=None,
        description="where a person gets help; shown at the same place at the foot of every page",
    )

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        if value not in TIMEZONES:
            raise ValueError(f"must be one of {', '.join(TIMEZONES)}")
        try:
            ZoneInfo(value)
        except ZoneInfoNotFoundError as exc:  # pragma: no cover - tzdata missing
            raise ValueError(f"time zone {value} is not installed") from exc
        return value


class CalendarSection(StrictModel):
    extra_holidays: list[date] = Field(default_factory=list, description="regional holidays")
    extra_working_days: list[date] = Field(
        default_factory=list, description="days worked although weekend or cuti bersama"
    )
    include_cuti_bersama: bool = True
    cuti_bersama: list[date] = Field(
        default_factory=list, description="cuti bersama dates of the SKB (not in the library)"
    )

    @model_validator(mode="after")
    def _no_day_both_ways(self) -> CalendarSection:
        both = set(self.extra_working_days) & (set(self.extra_holidays) | set(self.cuti_bersama))
        if both:
            days = ", ".join(sorted(d.isoformat() for d in both))
            raise ValueError(f"extra_working_days also listed as holidays: {days}")
        return self


class ObjectionRule(StrictModel):
    """How a person objects to a decision refusing them (keberatan), from a date on.

    UU 30/2014 Pasal 77 ayat (1): an objection within 21 working days after the decision is
    announced, to the official who made it; Pasal 78: an appeal (banding) to the official's
    superior. A regency may name its own desk, and a later law may change the days.
    """

    effective_from: date
    working_days: int = Field(ge=1, le=90, description="working days to object in")
    addressed_to: str = Field(min_length=3, description="to whom the objection is written")
    basis: str = Field(min_length=3, description="legal basis, printed on every letter")
    appeal: str = Field(default="", description="what follows if the objection is refused")


DEFAULT_OBJECTION_RULES = (
    ObjectionRule(
        effective_from=date(2014, 10, 17),
        working_days=21,
        addressed_to="pejabat yang menetapkan keputusan ini",
        basis="UU 30/2014 tentang Administrasi Pemerintahan Pasal 77 ayat (1)",
        appeal=(
            "Jika keberatan tidak diterima, banding dapat diajukan kepada atasan pejabat dalam "
            "10 hari kerja (UU 30/2014 Pasal 78)."
        ),
    ),
)


class RegencyConfigBase(StrictModel):
    """Common sections; each service subclasses this and adds its own section."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    regency: RegencySection = RegencySection()
    calendar: CalendarSection = CalendarSection()
    objection_rules: list[ObjectionRule] = Field(
        default_factory=lambda: list(DEFAULT_OBJECTION_RULES),
        min_length=1,
        description="the objection (keberatan) route printed on refusals, by effective date",
    )

    @field_validator("objection_rules")
    @classmethod
    def _objection_rules_dated(cls, value: list[ObjectionRule]) -> list[ObjectionRule]:
        dates = [r.effective_from for r in value]
        if len(set(dates)) != len(dates):
            raise ValueError("objection rules need distinct effective_from dates")
        return sorted(value, key=lambda r: r.effective_from)

    def objection_rule_on(self, day: date) -> ObjectionRule:
        """The objection rule in force on `day` (the earliest one before any took effect)."""
        current = self.objection_rules[0]
        for rule in self.objection_rules:
            if rule.effective_from <= day:
                current = rule
        return current


class RegencyConfigError(Exception):
    """The regency configuration cannot be used; the message names the file and the field."""


ConfigT = TypeVar("ConfigT", bound=RegencyConfigBase)


def _describe(err: ValidationError, source: str) -> str:
    lines = [f"invalid regency configuration in {source}:"]
    for item in err.errors():
        field = ".".join(str(part) for part in item["loc"]) or "(root)"
        lines.append(f"  field '{field}': {item['msg']}")
    return "\n".join(lines)


def parse_regency_config(data: dict[str, Any], model: type[ConfigT], source: str) -> ConfigT:
    try:
        return model.model_validate(data)
    except ValidationError as err:
        raise RegencyConfigError(_describe(err, source)) from None


def load_regency_config(path: Path | None, model: type[ConfigT]) -> ConfigT:
    """Read and validate the regency file; built-in national defaults when `path` is None."""
    if path is None:
        return model()
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise RegencyConfigError(f"cannot read regency configuration {path}: {exc}") from None
    import tomllib  # only when there is a file to read

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RegencyConfigError(f"regency configuration {path} is not valid TOML: {exc}") from None
    return parse_regency_config(data, model, str(path))
