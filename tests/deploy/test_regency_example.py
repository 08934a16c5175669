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


def test_example_requires_windows_that_never_go_stale() -> None:
    """Windows are required; the example's yearly window gives every coming fiscal year its own
    (the year before), so the file never refuses next year's proposals because a date passed."""
    from sabilulungan.config import SabilulunganConfig

    config = load_regency_config(EXAMPLE, SabilulunganConfig).sabilulungan
    assert config.require_window is True
    year = dt.date.today().year
    window = config.window_for(year + 1)
    assert window is not None
    assert (window.opens_on, window.closes_on) == (dt.date(year, 1, 1), dt.date(year, 12, 31))
    # The documented dated example is there, commented, for the regency to edit.
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
