"""Start-up stays light: a serving process loads no module that only some requests need.

Issue 6 holds each service's idle memory to 1.1 × a bare FastAPI app's and its start to `/ready`
under a second. Every module below costs resident memory in each process (cryptography's OpenSSL
bindings alone about 9 MB) or start-up time, and is imported where it is first needed instead:
PDFs (reportlab, qrcode), spreadsheets (openpyxl), migrations (alembic), the national holiday
calendar (holidays), amounts in words (num2words), password hashing (argon2, on the first login),
tokens and encryption (jwt, cryptography, on the first authenticated request or signature), pages
(jinja2, on the first page rendered), the regency file parser (tomllib, only with a file) and
prometheus_client (on the first read of /metrics).

Each check runs in a fresh interpreter, because this test process has imported everything.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from shared.testing import SERVICES

DEFERRED = (
    "alembic",
    "argon2",
    "cryptography",
    "holidays",
    "jinja2",
    "jwt",
    "mako",
    "num2words",
    "openpyxl",
    "PIL",
    "qrcode",
    "reportlab",
    "tomllib",
)

# Known exceptions, owned by the service: remove an entry when its import is deferred.
ALLOWED: dict[str, frozenset[str]] = {}

PROBE = """
import asyncio, json, sys
import httpx

service = sys.argv[1]
main = __import__(service + ".main", fromlist=["create_app"])
app = main.create_app()
after_create = sorted(sys.modules)

async def serve():
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://probe") as client:
        async with app.router.lifespan_context(app):
            health = await client.get("/health")
            ready = await client.get("/ready")
            metrics = await client.get("/metrics")
    return [health.status_code, ready.status_code, metrics.status_code]

statuses = asyncio.run(serve())
print(json.dumps({"create": after_create, "served": sorted(sys.modules), "statuses": statuses}))
"""


def _probe(service: str, tmp_path: Path) -> dict[str, list[str]]:
    prefix = service.upper() + "_"
    env = {k: v for k, v in os.environ.items() if not k.startswith(prefix)}
    env.update(
        {
            # A database that is not migrated: /ready answers 503, after doing all its work.
            prefix + "DATABASE_URL": f"sqlite:///{tmp_path / (service + '.db')}",
            prefix + "UPLOAD_DIR": str(tmp_path / "uploads"),
            prefix + "BACKGROUND_TASKS": "false",
        }
    )
    env.pop(prefix + "REGENCY_CONFIG", None)
    done = subprocess.run(
        [sys.executable, "-c", PROBE, service],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result: dict[str, list[str]] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _loaded(modules: list[str], service: str) -> list[str]:
    allowed = ALLOWED.get(service, frozenset())
    return sorted(
        name
        for name in modules
        if name.split(".")[0] in DEFERRED and name.split(".")[0] not in allowed
    )


@pytest.mark.parametrize("service", SERVICES)
def test_start_up_and_ready_load_no_deferred_module(service: str, tmp_path: Path) -> None:
    result = _probe(service, tmp_path)
    assert result["statuses"][0] == 200
    assert result["statuses"][1] in (200, 503)  # not migrated: 503, but the same code ran
    assert result["statuses"][2] == 200
    assert _loaded(result["create"], service) == [], (
        f"{service}.main.create_app() imports modules that start-up does not need; import them "
        "inside the function that uses them (see README, Design notes)"
    )
    assert _loaded(result["served"], service) == [], (
        f"serving /health, /ready or /metrics of {service} imports modules they do not need"
    )
    # requests are counted without it; it is loaded by the first read of /metrics
    assert "prometheus_client" not in result["create"]
