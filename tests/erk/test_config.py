"""The `[erk]` configuration: documented defaults are the real ones, bad values name the field."""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from pathlib import Path

import pytest

from erk.config import ErkConfig
from shared.config import RegencyConfigError, parse_regency_config

README = Path(__file__).resolve().parents[2] / "services" / "erk" / "README.md"


def test_the_documented_example_equals_the_defaults() -> None:
    block = re.search(r"```toml\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    assert block is not None
    documented = parse_regency_config(tomllib.loads(block.group(1)), ErkConfig, "README")
    assert documented == ErkConfig()


def test_rule_versions_apply_from_their_date() -> None:
    data = tomllib.loads(
        """
        [[erk.tpp_rules]]
        version = "lama"
        effective_from = 2020-01-01
        [[erk.tpp_rules]]
        version = "perkada-2025"
        effective_from = 2025-07-01
        weight_performance = 70
        weight_discipline = 30
        """
    )
    config = parse_regency_config(data, ErkConfig, "test").erk
    assert config.rule_for(dt.date(2025, 6, 1)).version == "lama"
    assert config.rule_for(dt.date(2025, 7, 1)).version == "perkada-2025"


@pytest.mark.parametrize(
    ("toml", "field"),
    [
        ("[erk]\ndaily_cap_minutes = 0", "erk.daily_cap_minutes"),
        ("[erk]\nentry_cutoff_day = 12\nverification_deadline_day = 10", "erk"),
        (
            "[[erk.tpp_rules]]\nversion='x'\neffective_from=2020-01-01\nweight_performance=50",
            "erk.tpp_rules.0",
        ),
        ("[erk]\ndaily_cap = 300", "erk.daily_cap"),
    ],
)
def test_bad_values_name_the_field(toml: str, field: str) -> None:
    with pytest.raises(RegencyConfigError, match=re.escape(f"field '{field}")):
        parse_regency_config(tomllib.loads(toml), ErkConfig, "test")


@pytest.mark.parametrize(
    ("toml", "field"),
    [
        ('[erk]\n[[erk.tpp_rules]]\nversion = "a"\neffective_from = 2024-01-01\n'
         '[erk.tpp_rules.leave_effects]\ncuti_fiktif = { effect = "met" }\n', "leave_effects"),
        ('[erk]\n[[erk.tpp_rules]]\nversion = "a"\neffective_from = 2024-01-01\n'
         '[erk.tpp_rules.net]\nter_a = [[6000000, 0], [5000000, 25], ["x", 50]]\n', "ter_a"),
        ('[erk]\n[[erk.tpp_rules]]\nversion = "a"\neffective_from = 2024-01-01\n'
         '[erk.tpp_rules.net]\nter_b = [[6000000, 0], [7000000, 25]]\n', "ter_b"),
        ('[erk]\n[[erk.tpp_rules]]\nversion = "a"\neffective_from = 2024-01-01\n'
         "class_bases = { 20 = 100 }\n", "class_bases"),
        ('[erk]\n[[erk.tpp_rules]]\nversion = "a"\neffective_from = 2024-01-01\n'
         'missing_attendance = "present"\n', "missing_attendance"),
    ],
)  # fmt: skip
def test_pay_rules_are_validated_at_start_up(toml: str, field: str) -> None:
    with pytest.raises(RegencyConfigError, match=field):
        parse_regency_config(tomllib.loads(toml), ErkConfig, "regency.toml")
