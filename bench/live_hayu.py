"""One HAYU process on 127.0.0.1 over SQLite in a temporary folder, for the abuse benchmarks."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

ADMIN_PASSWORD = "sandi-yang-panjang-1"


@contextlib.contextmanager
def hayu_process(port: int, extra_env: dict[str, str] | None = None) -> Iterator[int]:
    """Migrate, create an admin, start uvicorn on 127.0.0.1:`port`; yield its pid once healthy."""
    with tempfile.TemporaryDirectory() as folder:
        env = {
            **os.environ,
            "HAYU_DATABASE_URL": f"sqlite:///{Path(folder) / 'hayu.db'}",
            "HAYU_BACKGROUND_TASKS": "false",
            "HAYU_LOG_LEVEL": "WARNING",
            **(extra_env or {}),
        }
        py = sys.executable
        subprocess.run([py, "-m", "hayu", "migrate"], env=env, check=True, capture_output=True)
        create = [py, "-m", "hayu", "create-account", "admin", "--role", "admin"]
        subprocess.run(
            [*create, "--password", ADMIN_PASSWORD], env=env, check=True, capture_output=True
        )
        server = subprocess.Popen(
            [*(py, "-m", "uvicorn", "hayu.main:app", "--host", "127.0.0.1"), "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            for _ in range(60):
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.5)
            yield server.pid
        finally:
            server.terminate()
            server.wait(10)
