"""The commented example of the regency configuration is valid for every service."""

from __future__ import annotations

import datetime as dt
import importlib
from pathlib import Path

import pytest

from shared.config import load_regency_config
from shared.testing import SERVICES, AppFactory

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


def test_example_accepts_proposals_for_the_current_and_next_fiscal_year_on_any_date() -> None:
    """A dated window in the example closes one day, then breaks `seed-demo` and first installs."""
    from sabilulungan.config import SabilulunganConfig

    config = load_regency_config(EXAMPLE, SabilulunganConfig).sabilulungan
    year = dt.date.today().year
    for fiscal_year in (year, year + 1, year + 2):
        assert config.window_for(fiscal_year) is None
    assert config.require_window is False
    # The documented example is there, commented, for the regency to edit.
    assert "# [[sabilulungan.proposal_windows]]" in EXAMPLE.read_text()


@pytest.mark.parametrize("service", SERVICES)
async def test_demo_seeds_with_the_example_file(make_app: AppFactory, service: str) -> None:
    app = await make_app(service, regency_config=EXAMPLE)
    module = importlib.import_module(f"{service}.main")
    demo = importlib.import_module(f"{service}.demo")
    spec = module.build_spec(app.state.settings, app.state.config)
    async with app.state.db.sessionmaker.begin() as session:
        logins = await demo.seed(session, spec)
    assert logins


@pytest.mark.parametrize("month_day", [(1, 1), (4, 30), (5, 1), (12, 31)])
async def test_sabilulungan_demo_seeds_on_any_day_of_the_year(
    make_app: AppFactory, monkeypatch: pytest.MonkeyPatch, month_day: tuple[int, int]
) -> None:
    import sabilulungan.dependencies
    from sabilulungan import demo
    from sabilulungan.main import build_spec

    day = dt.datetime(dt.date.today().year, *month_day, 3, 0, tzinfo=dt.UTC)
    monkeypatch.setattr(sabilulungan.dependencies, "utcnow", lambda: day)
    app = await make_app("sabilulungan", regency_config=EXAMPLE)
    spec = build_spec(app.state.settings, app.state.config)
    async with app.state.db.sessionmaker.begin() as session:
        assert await demo.seed(session, spec)
