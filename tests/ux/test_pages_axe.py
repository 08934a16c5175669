"""Accessibility sweep: axe-core finds no violation on the public pages, on a phone and a laptop.

axe-core comes from npm into a temporary folder at test time (never committed); the sweep is
skipped where npm or Chromium is missing.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.browser

AXE_VERSION = "4.10"
VIEWPORTS = ({"width": 390, "height": 844}, {"width": 1280, "height": 800})
PUBLIC_PAGES = {
    "sabilulungan": ["/", "/lacak", "/transparansi", "/daftar", "/login", "/tidak-ada"],
    "hayu": ["/", "/lacak", "/periksa", "/statistik", "/daftar", "/login"],
    "erk": ["/", "/login"],
}


@pytest.fixture(scope="session")
def axe_source(tmp_path_factory: pytest.TempPathFactory) -> str:
    npm = shutil.which("npm")
    if npm is None:
        pytest.skip("npm is not installed: the axe-core sweep needs it")
    folder = tmp_path_factory.mktemp("axe")
    done = subprocess.run(
        [npm, "install", "--no-save", "--no-audit", "--no-fund", f"axe-core@{AXE_VERSION}"],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    script = folder / "node_modules" / "axe-core" / "axe.min.js"
    if done.returncode or not script.exists():
        pytest.skip(f"axe-core could not be installed from npm: {done.stderr[-300:]}")
    return Path(script).read_text(encoding="utf-8")


async def _violations(browser: Any, url: str, viewport: dict[str, int], axe: str) -> list[str]:
    # The pages allow no inline script (CSP): the test's own script is let in for the check only.
    context = await browser.new_context(locale="id-ID", viewport=viewport, bypass_csp=True)
    try:
        page = await context.new_page()
        await page.goto(url)
        await page.evaluate(axe)
        result = await page.evaluate(
            "async () => { const r = await axe.run(document, {runOnly: {type: 'tag', values: "
            "['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa']}}); return {passes: "
            "r.passes.length, violations: r.violations.map(v => v.id + ': ' + "
            "v.nodes.map(n => n.target.join(' ')).join(', '))}; }"
        )
        assert result["passes"] > 10, "axe-core checked nothing"
        wide = await page.evaluate("document.documentElement.scrollWidth > window.innerWidth")
        return [*result["violations"], *(["page wider than the viewport"] if wide else [])]
    finally:
        await context.close()


@pytest.mark.parametrize("service", PUBLIC_PAGES)
async def test_public_pages_have_no_axe_violations(
    live_service: Any, browser: Any, axe_source: str, service: str
) -> None:
    live = await live_service(service)
    found = {}
    for path in PUBLIC_PAGES[service]:
        for viewport in VIEWPORTS:
            violations = await _violations(browser, live.url + path, viewport, axe_source)
            if violations:
                found[f"{path} @{viewport['width']}"] = violations
    assert not found, found
