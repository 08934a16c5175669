"""A bad regency configuration stops start-up with a message naming the field."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from shared.config import RegencyConfigBase, RegencyConfigError, load_regency_config
from shared.settings import DEV_SECRET


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "regency.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_without_a_file() -> None:
    config = load_regency_config(None, RegencyConfigBase)
    assert config.regency.timezone == "Asia/Jakarta"


def test_a_valid_file_is_read(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        '[regency]\nname = "Kabupaten Buleleng"\nkind = "kabupaten"\ncode = "51.08"\n'
        'timezone = "Asia/Makassar"\n[calendar]\nextra_holidays = [2026-03-03]\n',
    )
    config = load_regency_config(path, RegencyConfigBase)
    assert config.regency.name == "Kabupaten Buleleng"
    assert config.regency.timezone == "Asia/Makassar"
    assert str(config.calendar.extra_holidays[0]) == "2026-03-03"


@pytest.mark.parametrize(
    ("toml", "field"),
    [
        ('[regency]\ntimezone = "Europe/Paris"\n', "regency.timezone"),
        ('[regency]\ncode = "3273"\n', "regency.code"),
        ('[regency]\nkind = "desa"\n', "regency.kind"),
        ('[calendar]\nextra_holidays = ["not a date"]\n', "calendar.extra_holidays.0"),
        ("[calendar]\nholidayz = []\n", "calendar.holidayz"),
        (
            "[calendar]\nextra_holidays = [2026-03-03]\nextra_working_days = [2026-03-03]\n",
            "calendar",
        ),
    ],
)
def test_bad_value_names_the_field(tmp_path: Path, toml: str, field: str) -> None:
    with pytest.raises(RegencyConfigError) as caught:
        load_regency_config(_write(tmp_path, toml), RegencyConfigBase)
    assert f"field '{field}'" in str(caught.value)
    assert str(tmp_path / "regency.toml") in str(caught.value)


def test_broken_toml_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(RegencyConfigError, match="not valid TOML"):
        load_regency_config(_write(tmp_path, "[regency\n"), RegencyConfigBase)
    with pytest.raises(RegencyConfigError, match="cannot read"):
        load_regency_config(tmp_path / "absent.toml", RegencyConfigBase)


def test_service_start_up_stops_on_a_bad_value(tmp_path: Path) -> None:
    path = _write(tmp_path, '[regency]\ntimezone = "Asia/Tokyo"\n')
    result = subprocess.run(
        [sys.executable, "-c", "import hayu.main; hayu.main.app"],
        env={
            "HAYU_REGENCY_CONFIG": str(path),
            "HAYU_DATABASE_URL": f"sqlite:///{tmp_path}/h.db",
            "PATH": "/usr/bin:/bin",
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "field 'regency.timezone'" in result.stderr


def test_production_refuses_placeholder_secrets(monkeypatch: Any) -> None:
    from hayu.settings import Settings

    with pytest.raises(ValidationError, match="HAYU_SECRET_KEY"):
        Settings(
            environment="production",
            secret_key=DEV_SECRET,
            data_key="x" * 43,
            signing_seed="y" * 43,
        )
    with pytest.raises(ValidationError, match="HAYU_DATA_KEY"):
        Settings(environment="production", secret_key="s" * 40, data_key="", signing_seed="y" * 43)
    ok = Settings(
        environment="production",
        secret_key="s" * 40,
        data_key="x" * 43,
        signing_seed="y" * 43,
        public_url="https://izin.example.go.id",
    )
    assert ok.environment == "production"
