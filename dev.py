#!/usr/bin/env python3
"""Run or test the suite from nothing but python3.

    python3 dev.py run      install what is missing, then serve the three services on SQLite
                            with demo data
    python3 dev.py test     install what is missing, then run the whole test suite on SQLite
                            and on PostgreSQL
    python3 dev.py install  install the development environment only
    python3 dev.py lock     re-resolve requirements.lock and requirements-dev.lock from
                            pyproject.toml (after changing a dependency there)

Everything goes into .venv beside this file, installed from the lock files (exact versions and
hashes), the same ones the service images install: tests and images run the same versions. `run`
passes its other arguments on to deploy/embedded.py (for example `--services hayu,erk --port 8080`).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / "python"
LOCKS = {"": ROOT / "requirements.lock", "dev": ROOT / "requirements-dev.lock"}
# Every platform, Python 3.11 and newer: one lock for Linux images, CI and developers' machines.
UV_COMPILE = ["pip", "compile", "pyproject.toml", "--generate-hashes", "--universal"]
UV_COMPILE += ["--python-version", "3.11", "--quiet"]


def ensure_venv(extras: str) -> None:
    lock = LOCKS[extras]
    stamp = VENV / f".installed-{extras or 'base'}"
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes() + lock.read_bytes()).hexdigest()
    if stamp.exists() and stamp.read_text() == digest and PY.exists():
        return
    if not PY.exists():
        print("creating .venv ...", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    print(f"installing {lock.name} and the project into .venv (about 2 minutes) ...", flush=True)
    pip = [str(PY), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    quiet([*pip, "--upgrade", "pip"])
    quiet([*pip, "--require-hashes", "--no-deps", "-r", str(lock)])
    # The project itself, editable, resolving nothing again: its dependencies are the lock's.
    quiet([*pip, "--no-deps", "-e", "."])
    stamp.write_text(digest)


def quiet(command: list[str]) -> None:
    """Run an install step; its output (pip notices, build warnings) is shown only if it fails."""
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    if done.returncode:
        sys.stderr.write(done.stdout + done.stderr)
        raise SystemExit(f"failed: {' '.join(command)}")


def lock() -> int:
    """Resolve the development lock, then the runtime lock constrained to the same versions."""
    ensure_venv("dev")
    uv = BIN / "uv"
    if not uv.exists():
        pip = [str(PY), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
        subprocess.run([*pip, "uv>=0.5,<1"], check=True, cwd=ROOT)
    dev, runtime = LOCKS["dev"], LOCKS[""]
    upgrade = ["--upgrade"] if os.environ.get("LOCK_UPGRADE") else []
    steps = [
        [str(uv), *UV_COMPILE, *upgrade, "--extra", "dev", "-o", dev.name],
        [str(uv), *UV_COMPILE, "-c", dev.name, "-o", runtime.name],
    ]
    for command in steps:
        print(" ".join(["uv", *command[1:]]), flush=True)
        code = subprocess.run(command, cwd=ROOT).returncode
        if code:
            return code
    print(f"wrote {runtime.name} and {dev.name}; `python3 dev.py install` applies them", flush=True)
    return 0


def postgres_reachable(url: str) -> bool:
    probe = (
        "import asyncio,sys,asyncpg\n"
        "async def m():\n"
        f"    c = await asyncpg.connect({url!r}, timeout=3)\n"
        "    await c.close()\n"
        "try:\n    asyncio.run(m())\nexcept Exception as e:\n    print(e); sys.exit(1)\n"
    )
    return subprocess.run([str(PY), "-c", probe], cwd=ROOT).returncode == 0


def run_tests(extra: list[str]) -> int:
    ensure_venv("dev")
    pg_url = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
    backends = [b for b in os.environ.get("TEST_BACKENDS", "sqlite,postgres").split(",") if b]
    status = 0
    for backend in backends:
        if backend == "postgres" and not postgres_reachable(pg_url):
            print(f"PostgreSQL is not reachable at {pg_url}", file=sys.stderr)
            if os.environ.get("CI"):
                return 1
            print("skipping the PostgreSQL run (set TEST_DATABASE_URL to run it)", file=sys.stderr)
            continue
        print(f"\n=== tests on {backend} ===", flush=True)
        env = {**os.environ, "TEST_BACKEND": backend, "TEST_DATABASE_URL": pg_url}
        # Its own temporary folder per backend: a second pytest run never deletes this one's.
        basetemp = ROOT / "var" / "pytest" / backend
        basetemp.parent.mkdir(parents=True, exist_ok=True)
        command = [str(PY), "-m", "pytest", f"--basetemp={basetemp}", *extra]
        code = subprocess.run(command, cwd=ROOT, env=env).returncode
        status = status or code
    return status


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("run", "test", "install", "lock"):
        print(__doc__)
        return 2
    command, rest = argv[0], argv[1:]
    if command == "install":
        ensure_venv("dev")
        return 0
    if command == "lock":
        return lock()
    if command == "test":
        return run_tests(rest)
    ensure_venv("")
    return subprocess.run(
        [str(PY), str(ROOT / "deploy" / "embedded.py"), *rest], cwd=ROOT
    ).returncode


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except KeyboardInterrupt:
        sys.exit(130)
