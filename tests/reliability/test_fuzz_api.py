"""Schemathesis against each service's OpenAPI document, with an admin token.

Bounded for CI (`FUZZ_MAX_EXAMPLES`, default 15 per operation). Before a release run it longer:
`FUZZ_MAX_EXAMPLES=500 python3 dev.py test tests/reliability/test_fuzz_api.py`.
Checks: no 5xx, only documented status codes, responses that match their schemas, problem bodies.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from shared.testing import SERVICES, add_account

MAX_EXAMPLES = os.environ.get("FUZZ_MAX_EXAMPLES", "15")
ROLES = {
    "sabilulungan": ["admin", "auditor"],
    "hayu": ["admin", "auditor"],
    "erk": ["admin", "auditor"],
}


@pytest.mark.parametrize("service", SERVICES)
async def test_api_survives_generated_requests(
    live_service: Any, service: str, tmp_path: Path
) -> None:
    live = await live_service(service)
    await add_account(live.app, "fuzzer", ROLES[service], password="sandi-fuzzer-123")
    async with httpx.AsyncClient(base_url=live.url) as client:
        token = (
            await client.post(
                "/api/v1/auth/token", data={"username": "fuzzer", "password": "sandi-fuzzer-123"}
            )
        ).json()["access_token"]
    command = [
        str(Path(sys.executable).parent / "st"),
        "run",
        f"{live.url}/openapi.json",
        "--checks",
        "not_a_server_error,status_code_conformance,response_schema_conformance,"
        "content_type_conformance",
        "--max-examples",
        MAX_EXAMPLES,
        "--header",
        f"Authorization: Bearer {token}",
        "--workers",
        "1",
        "--seed",
        "2026",
        "--request-timeout",
        "10",
        "--exclude-path",
        "/api/v1/auth/token",  # would lock the fuzzer's own account out
        "--exclude-path",
        "/api/v1/auth/logout",  # would end the fuzzer's own token
        "--no-color",
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600)
    report = result.stdout[-6000:] + result.stderr[-2000:]
    assert result.returncode == 0, report
