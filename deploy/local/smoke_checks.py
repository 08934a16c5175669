"""HTTP checks of deploy/local/smoke.sh, all through the proxy (127.0.0.1:18180 by default).

    python deploy/local/smoke_checks.py ready
    python deploy/local/smoke_checks.py write STATE.json     one write per service, state saved
    python deploy/local/smoke_checks.py gateway              the proxy behind a simulated gateway
    python deploy/local/smoke_checks.py restored STATE.json  the writes survived backup and restore

The proxy trusts 127.0.0.1 as the regency's TLS gateway: each request here carries the
X-Forwarded-For and X-Forwarded-Proto such a gateway would add. The client addresses in those
headers (203.0.113.0/24, reserved for documentation) are never connected to. Passwords of the
accounts made by smoke.sh come from SMOKE_ADMIN_PASSWORD and SMOKE_OWNER_PASSWORD.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import httpx

PROXY = os.environ.get("SMOKE_PROXY_URL", "http://127.0.0.1:18180")
SERVICES = ("sabilulungan", "hayu", "erk")
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def gateway(client_address: str = "203.0.113.10") -> dict[str, str]:
    return {"X-Forwarded-For": client_address, "X-Forwarded-Proto": "https"}


def check(condition: bool, message: str) -> None:
    if not condition:
        raise SystemExit(f"smoke: FAILED: {message}")
    print(f"smoke: ok: {message}", flush=True)


def token(client: httpx.Client, service: str, username: str, password: str) -> dict[str, str]:
    response = client.post(
        f"/{service}/api/v1/auth/token",
        data={"username": username, "password": password},
        headers=gateway(),
    )
    check(response.status_code == 200, f"{service}: {username} logs in ({response.status_code})")
    return {"Authorization": f"Bearer {response.json()['access_token']}", **gateway()}


def ready(client: httpx.Client) -> None:
    deadline = time.monotonic() + 120
    for service in SERVICES:
        while True:
            response = client.get(f"/{service}/ready", headers=gateway())
            if response.status_code == 200 or time.monotonic() > deadline:
                break
            time.sleep(1)
        check(response.status_code == 200, f"{service}: /ready through the proxy")


def write(client: httpx.Client, state_file: Path) -> None:
    admin = os.environ["SMOKE_ADMIN_PASSWORD"]
    owner = os.environ["SMOKE_OWNER_PASSWORD"]
    state: dict[str, Any] = {}

    # Sabilulungan: a citizen registers (public write).
    response = client.post(
        "/sabilulungan/api/v1/auth/register",
        json={"username": "warga-uji", "password": owner, "full_name": "Warga Uji"},
        headers=gateway(),
    )
    check(response.status_code == 201, f"sabilulungan: citizen registers ({response.text[:200]})")

    # HAYU: a business owner files a permit application and uploads a document.
    headers = token(client, "hayu", "pemilik-uji", owner)
    response = client.post(
        "/hayu/api/v1/applications",
        json={
            "permit_type_code": "REKLAME",
            "business": {
                "name": "Warung Uji Asap",
                "owner": {"nik": "3273014506900001", "name": "Siti Uji", "phone": "081234567890"},
                "kbli_codes": ["47111"],
                "address": "Jl. Uji No. 1",
                "region_code": "32.73.01",
                "capital_idr": 750_000_000,
                "workforce": 3,
            },
        },
        headers=headers,
    )
    check(response.status_code == 201, f"hayu: application filed ({response.text[:200]})")
    state["hayu_application"] = response.json()["id"]
    state["hayu_tracking"] = response.json()["tracking_code"]
    upload(client, headers, state["hayu_application"], "ktp")

    # e-RK: the administrator creates a unit.
    headers = token(client, "erk", "admin", admin)
    response = client.post(
        "/erk/api/v1/units", json={"code": "UJI01", "name": "Unit Uji Asap"}, headers=headers
    )
    check(response.status_code == 201, f"erk: unit created ({response.text[:200]})")
    state_file.write_text(json.dumps(state))


def upload(client: httpx.Client, headers: dict[str, str], application: int, item: str) -> None:
    response = client.post(
        f"/hayu/api/v1/applications/{application}/documents",
        data={"checklist_item": item},
        files={"file": (f"{item}.png", PNG, "application/octet-stream")},
        headers=headers,
    )
    check(response.status_code == 201, f"hayu: document '{item}' uploaded ({response.text[:200]})")


def behind_gateway(client: httpx.Client) -> None:
    admin = os.environ["SMOKE_ADMIN_PASSWORD"]
    # One abusive client: failed logins under many names until its own address is throttled.
    abuser = gateway("203.0.113.66")
    statuses = []
    for attempt in range(40):
        response = client.post(
            "/hayu/api/v1/auth/token",
            data={"username": f"tebakan-{attempt}", "password": "salah-sekali"},
            headers=abuser,
        )
        statuses.append(response.status_code)
        if response.status_code == 429:
            break
    check(statuses[-1] == 429, f"hayu: the abusive client is throttled after {len(statuses)} tries")
    # Another client, behind the same gateway, still logs in; the abuser cannot even with it.
    response = client.post(
        "/hayu/api/v1/auth/token",
        data={"username": "admin", "password": admin},
        headers=gateway("203.0.113.10"),
    )
    check(response.status_code == 200, "hayu: another client behind the gateway still logs in")
    response = client.post(
        "/hayu/api/v1/auth/token", data={"username": "admin", "password": admin}, headers=abuser
    )
    check(response.status_code == 429, "hayu: the abusive client stays throttled")
    # A client that writes its own X-Forwarded-For is not believed: the gateway appends the address
    # it saw, and that one is throttled.
    forged = {"X-Forwarded-For": "203.0.113.10, 203.0.113.66", "X-Forwarded-Proto": "https"}
    response = client.post(
        "/hayu/api/v1/auth/token", data={"username": "admin", "password": admin}, headers=forged
    )
    check(response.status_code == 429, "hayu: a forged X-Forwarded-For escapes nothing")
    # Session cookies set through the gateway's https are Secure.
    response = client.post(
        "/hayu/login",
        data={"username": "admin", "password": admin},
        headers=gateway("203.0.113.11"),
    )
    cookie = response.headers.get("set-cookie", "")
    check(response.status_code == 303 and "secure" in cookie.lower(), "hayu: session cookie Secure")
    # Compression and long-lived versioned static files.
    response = client.get(
        "/hayu/static/style.css?v=1", headers={"Accept-Encoding": "zstd, gzip", **gateway()}
    )
    check(
        response.headers.get("content-encoding") in ("zstd", "gzip")
        and "immutable" in response.headers.get("cache-control", ""),
        "proxy: static files compressed, versioned ones cached for a year",
    )


def restored(client: httpx.Client, state_file: Path) -> None:
    state = json.loads(state_file.read_text())
    owner = os.environ["SMOKE_OWNER_PASSWORD"]
    admin = os.environ["SMOKE_ADMIN_PASSWORD"]
    token(client, "sabilulungan", "warga-uji", owner)
    response = client.get(f"/hayu/api/v1/public/track/{state['hayu_tracking']}", headers=gateway())
    check(response.status_code == 200, "hayu: the application is back after the restore")
    headers = token(client, "hayu", "pemilik-uji", owner)
    response = client.get(f"/hayu/api/v1/applications/{state['hayu_application']}", headers=headers)
    documents = json.dumps(response.json())
    check("ktp" in documents, "hayu: its uploaded document is listed")
    # A new upload after the restore: the restored upload folder is writable by the service.
    upload(client, headers, state["hayu_application"], "desain")
    headers = token(client, "erk", "admin", admin)
    units = client.get("/erk/api/v1/units", headers=headers).json()
    check(any(u["code"] == "UJI01" for u in units), "erk: the unit is back after the restore")


def main(argv: list[str]) -> int:
    with httpx.Client(base_url=PROXY, timeout=30) as client:
        if argv[:1] == ["ready"]:
            ready(client)
        elif argv[:1] == ["write"] and len(argv) == 2:
            write(client, Path(argv[1]))
        elif argv[:1] == ["gateway"]:
            behind_gateway(client)
        elif argv[:1] == ["restored"] and len(argv) == 2:
            restored(client, Path(argv[1]))
        else:
            print(__doc__, file=sys.stderr)
            return 64
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
