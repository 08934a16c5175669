"""axe-core for the page sweeps, from npm into a temporary folder at test time (never committed)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

AXE_VERSION = "4.10"


@pytest.fixture(scope="session")
def axe_source(tmp_path_factory: pytest.TempPathFactory) -> str | None:
    """The axe-core script, or None where npm cannot fetch it (the sweeps then run their other
    checks and end skipped, saying so)."""
    npm = shutil.which("npm")
    if npm is None:
        return None
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
        return None
    return Path(script).read_text(encoding="utf-8")
