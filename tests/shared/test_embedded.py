"""The embedded suite mounts the services a regency names, each under its own path."""

from __future__ import annotations

import asyncio
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from shared.testing import client_for

ROOT = Path(__file__).resolve().parents[2]


def _embedded() -> ModuleType:
    spec = importlib.util.spec_from_file_location("embedded", ROOT / "deploy" / "embedded.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["embedded"] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def suite_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for prefix in ("SABILULUNGAN_", "HAYU_", "ERK_"):
        monkeypatch.delenv(prefix + "DATABASE_URL", raising=False)
        monkeypatch.setenv(prefix + "BACKGROUND_TASKS", "false")
    for name in ("sabilulungan", "hayu", "erk"):
        importlib.import_module(f"{name}.settings").get_settings.cache_clear()
    return tmp_path


async def test_suite_mounts_only_the_named_services(suite_env: Path) -> None:
    embedded = _embedded()
    logins = await asyncio.to_thread(embedded.prepare, "hayu", suite_env, demo=True)
    assert any(roles == ["business_owner"] for _, _, roles in logins)
    again = await asyncio.to_thread(embedded.prepare, "hayu", suite_env, demo=True)
    assert again == logins  # a second start does not seed again
    app = embedded.build_suite(["hayu"])
    async with app.router.lifespan_context(app), client_for(app) as client:
        landing = await client.get("/")
        assert 'href="/hayu/"' in landing.text
        assert "/erk/" not in landing.text
        assert (await client.get("/hayu/health")).json()["service"] == "hayu"
        assert (await client.get("/hayu/ready")).status_code == 200
        page = await client.get("/hayu/")
        assert 'href="/hayu/static/style.css?v=' in page.text
        assert (await client.get("/hayu/static/htmx.min.js")).status_code == 200
        assert (await client.get("/erk/health")).status_code == 404
        username, password, _ = logins[0]
        login = await client.post("/hayu/login", data={"username": username, "password": password})
        assert login.status_code == 303
        assert "Path=/hayu" in login.headers["set-cookie"]


async def test_all_three_together(suite_env: Path) -> None:
    embedded = _embedded()
    for name in ("sabilulungan", "hayu", "erk"):
        await asyncio.to_thread(embedded.prepare, name, suite_env, demo=False)
    app = embedded.build_suite(["sabilulungan", "hayu", "erk"])
    async with app.router.lifespan_context(app), client_for(app) as client:
        for name in ("sabilulungan", "hayu", "erk"):
            ready = await client.get(f"/{name}/ready")
            assert ready.status_code == 200, ready.text
            assert ready.json()["service"] == name
        assert (await client.get("/health")).json()["services"] == ["sabilulungan", "hayu", "erk"]


def test_unknown_service_is_refused(suite_env: Path) -> None:
    embedded = _embedded()
    with pytest.raises(SystemExit):
        embedded.main(["--services", "hayu,simpeg", "--data-dir", str(suite_env)])
