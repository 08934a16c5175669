"""Fixtures for the fault tests: a throwaway PostgreSQL cluster and services in real processes."""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _pg_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


def _as_postgres(args: list[str]) -> list[str]:
    # initdb refuses to run as root; run the throwaway cluster as the postgres system user.
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *args]
    return args


class Cluster:
    """A PostgreSQL cluster in a temporary folder on its own port, started and stopped at will."""

    def __init__(self, bindir: Path, datadir: Path, port: int) -> None:
        self.bindir = bindir
        self.datadir = datadir
        self.port = port
        self.url = f"postgresql://postgres@127.0.0.1:{port}/postgres"

    def _ctl(self, *args: str) -> None:
        subprocess.run(
            _as_postgres([str(self.bindir / "pg_ctl"), "-D", str(self.datadir), "-w", *args]),
            check=True,
            capture_output=True,
            timeout=60,
        )

    def start(self) -> None:
        opts = f"-p {self.port} -k {self.datadir} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._ctl("-o", opts, "-l", str(self.datadir / "log"), "start")

    def stop(self) -> None:
        self._ctl("-m", "immediate", "stop")


@pytest.fixture
def throwaway_cluster() -> Iterator[Cluster]:
    bindir = _pg_bin()
    if bindir is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL server binaries are missing on the CI machine")
        pytest.skip("PostgreSQL server binaries (initdb) are not installed")
    datadir = Path(tempfile.mkdtemp(prefix="pg-fault-"))
    if os.geteuid() == 0:
        shutil.chown(datadir, "postgres", "postgres")
    subprocess.run(
        _as_postgres([str(bindir / "initdb"), "-D", str(datadir), "-A", "trust", "-U", "postgres"]),
        check=True,
        capture_output=True,
        timeout=120,
    )
    cluster = Cluster(bindir, datadir, _free_port())
    cluster.start()
    yield cluster
    with contextlib.suppress(subprocess.CalledProcessError):
        cluster.stop()
    shutil.rmtree(datadir, ignore_errors=True)


class ServiceProcess:
    def __init__(self, service: str, env: dict[str, str], log: Path) -> None:
        self.service = service
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = env
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, wait_path: str = "/health") -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", f"{self.service}.main:app", "--port", str(self.port)],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=open(self.log, "ab"),  # noqa: SIM115 - closed with the process
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.url + wait_path, timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"{self.service} did not start; see {self.log}")

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None


def service_env(service: str, database_url: str, tmp_path: Path) -> dict[str, str]:
    prefix = service.upper() + "_"
    return {
        **os.environ,
        prefix + "DATABASE_URL": database_url,
        prefix + "ENVIRONMENT": "test",
        prefix + "UPLOAD_DIR": str(tmp_path / "uploads"),
        prefix + "DB_POOL_TIMEOUT": "2",
        prefix + "SEAL_INTERVAL_SECONDS": "0.5",
    }


@pytest.fixture
def service_process(tmp_path: Path) -> Iterator[Callable[[str, str], ServiceProcess]]:
    """`service_process("hayu", database_url)`: a service process, killed after the test."""
    started: list[ServiceProcess] = []

    def make(service: str, database_url: str) -> ServiceProcess:
        proc = ServiceProcess(
            service, service_env(service, database_url, tmp_path), tmp_path / f"{service}.log"
        )
        started.append(proc)
        return proc

    yield make
    for proc in started:
        proc.kill()


# `reliability_helpers` is imported by the tests: in importlib mode test folders are not on
# sys.path.
sys.path.insert(0, str(Path(__file__).parent))
