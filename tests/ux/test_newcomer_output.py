"""What a newcomer reads after `python3 dev.py run`: one install line, the address, the logins."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE_ROOTS = {
    "shared": ROOT / "shared",
    "sabilulungan": ROOT / "services" / "sabilulungan" / "sabilulungan",
    "hayu": ROOT / "services" / "hayu" / "hayu",
    "erk": ROOT / "services" / "erk" / "erk",
}


def _folders_with_files() -> set[str]:
    """Every folder of the four packages that holds a file, as a dotted package name."""
    names = set()
    for top, folder in PACKAGE_ROOTS.items():
        for path in folder.rglob("*"):
            if path.is_file() and "__pycache__" not in path.parts:
                rel = path.parent.relative_to(folder).parts
                names.add(".".join((top, *rel)))
    return names


def test_packaging_configuration_names_every_folder() -> None:
    """setuptools warns (hundreds of lines at install) about any folder its configuration misses."""
    setuptools = pytest.importorskip("setuptools")
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    found = config["packages"]["find"]
    assert found.get("namespaces", True), "migrations/versions has no __init__.py"
    discovered: set[str] = set()
    for where in found["where"]:
        discovered.update(
            setuptools.find_namespace_packages(
                where=str(ROOT / where), include=found["include"], exclude=found["exclude"]
            )
        )
    missing = _folders_with_files() - discovered
    assert not missing, f"folders setuptools would warn about: {sorted(missing)}"
    assert "sabilulungan.migrations.versions" in discovered
    data = config["package-data"]["*"]
    for suffix in ("*.html", "*.css", "*.js", "*.mako", "*.svg"):
        assert suffix in data


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_run_prints_the_address_and_the_logins_in_under_30_lines(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.endswith("_DATABASE_URL")}
    env.update({f"{s.upper()}_BACKGROUND_TASKS": "false" for s in PACKAGE_ROOTS if s != "shared"})
    port = _free_port()
    command = [sys.executable, str(ROOT / "deploy" / "embedded.py"), "--port", str(port)]
    command += ["--data-dir", str(tmp_path)]
    output = tmp_path / "output.txt"
    with output.open("w") as sink:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=sink, stderr=sink)
        try:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and process.poll() is None:
                with socket.socket() as probe:
                    if probe.connect_ex(("127.0.0.1", port)) == 0:
                        break
                time.sleep(0.5)
            time.sleep(1)  # anything the server logs at start-up
        finally:
            process.terminate()
            process.wait(timeout=30)
    lines = output.read_text().splitlines()
    # dev.py adds one line before these ("installing ... into .venv") on a fresh clone.
    assert len(lines) + 1 < 30, "\n".join(lines)
    text = "\n".join(lines)
    assert f"http://127.0.0.1:{port}/sabilulungan/" in text
    assert f"http://127.0.0.1:{port}/erk/" in text
    for login in ("pemohon", "tatausaha", "petugas", "197012121995031004", "demo-hayu-2026"):
        assert login in text
    assert "warning" not in text.lower()
