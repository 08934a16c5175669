"""The commented example of the regency configuration is valid for every service."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from shared.config import load_regency_config
from shared.testing import SERVICES

EXAMPLE = Path(__file__).resolve().parents[2] / "deploy" / "regency.example.toml"
CONFIG_CLASSES = {"sabilulungan": "SabilulunganConfig", "hayu": "HayuConfig", "erk": "ErkConfig"}


@pytest.mark.parametrize("service", SERVICES)
def test_example_is_valid_for_each_service(service: str) -> None:
    model = getattr(importlib.import_module(f"{service}.config"), CONFIG_CLASSES[service])
    config = load_regency_config(EXAMPLE, model)
    assert config.regency.name == "Kota Contoh"
    assert config.calendar.include_cuti_bersama is True


def test_example_thresholds_match_the_national_default() -> None:
    from hayu.config import HayuConfig

    example = load_regency_config(EXAMPLE, HayuConfig)
    assert example.hayu.capital_thresholds == HayuConfig().hayu.capital_thresholds
