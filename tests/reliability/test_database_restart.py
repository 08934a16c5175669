"""A database that goes away: 503 problems, never a 500 or a hang, and recovery by itself."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

TIMEOUT = 6.0  # every answer within this, with its result or a 503


def _migrate(service: str, env: dict[str, str]) -> None:
    subprocess.run(
        [sys.executable, "-m", service, "migrate"],
        env=env,
        check=True,
        capture_output=True,
        timeout=120,
    )
    subprocess.run(
        [
            sys.executable,
            "-m",
            service,
            "create-account",
            "petugas",
            "--password",
            "sandi-yang-panjang",
            "--role",
            "auditor",
        ],
        env=env,
        check=True,
        capture_output=True,
        timeout=60,
    )


def _assert_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert int(response.headers["retry-after"]) > 0


def test_service_survives_a_database_restart(
    throwaway_cluster: Any, service_process: Any, tmp_path: Path
) -> None:
    service = service_process("hayu", throwaway_cluster.url)
    _migrate("hayu", service.env)
    service.start(wait_path="/ready")
    form = {"username": "petugas", "password": "sandi-yang-panjang"}
    with httpx.Client(base_url=service.url, timeout=TIMEOUT) as client:
        token = client.post("/api/v1/auth/token", data=form).json()["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        assert client.get("/api/v1/audit/events", headers=auth).status_code == 200

        throwaway_cluster.stop()
        for _ in range(3):
            started = time.monotonic()
            _assert_unavailable(client.get("/ready"))
            _assert_unavailable(client.get("/api/v1/audit/events", headers=auth))
            _assert_unavailable(client.post("/api/v1/auth/token", data=form))
            assert time.monotonic() - started < 3 * TIMEOUT
        assert client.get("/health").status_code == 200  # the process itself is alive

        throwaway_cluster.start()
        deadline = time.monotonic() + 15
        statuses = []
        while time.monotonic() < deadline:
            response = client.get("/api/v1/audit/events", headers=auth)
            statuses.append(response.status_code)
            if response.status_code == 200 and client.get("/ready").status_code == 200:
                break
            assert response.status_code == 503, response.text
            time.sleep(0.2)
        else:
            raise AssertionError(f"the service did not recover: {statuses}")
        assert client.post("/api/v1/auth/token", data=form).status_code == 200
