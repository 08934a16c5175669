"""Processes under test: start, wait for readiness (timed), measure resident memory, stop.

Memory is the resident set size of the process and all its children (uvicorn's reloader is never
used, but a launcher may fork), read with psutil.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

import httpx
import psutil  # type: ignore[import-untyped]

MB = 1024 * 1024


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rss_bytes(pid: int) -> int:
    """RSS of the process and all its descendants (0 if it is gone)."""
    try:
        proc = psutil.Process(pid)
        procs = [proc, *proc.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0
    total = 0
    for p in procs:
        with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
            total += p.memory_info().rss
    return total


@dataclass
class Server:
    name: str
    url: str
    process: subprocess.Popen[bytes]
    log_path: Path
    ready_s: float | None = None

    @property
    def pid(self) -> int:
        return self.process.pid

    def rss_mb(self) -> float:
        return rss_bytes(self.pid) / MB

    def log_tail(self, chars: int = 1500) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""


class StartError(RuntimeError):
    pass


def start(
    name: str,
    argv: Sequence[str],
    *,
    port: int,
    env: Mapping[str, str],
    log_path: Path,
    ready_path: str = "/ready",
    timeout_s: float = 60.0,
    cwd: Path | None = None,
) -> Server:
    """Start a server and time it from just before the process is created to `ready_path` → 200."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log = log_path.open("wb")
    url = f"http://127.0.0.1:{port}"
    started = time.perf_counter()
    process = subprocess.Popen(
        list(argv),
        env=dict(env),
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=cwd,
        start_new_session=True,
    )
    log.close()
    server = Server(name=name, url=url, process=process, log_path=log_path)
    deadline = started + timeout_s
    with httpx.Client(timeout=2.0) as client:
        while time.perf_counter() < deadline:
            if process.poll() is not None:
                raise StartError(f"{name} exited with {process.returncode}: {server.log_tail()}")
            try:
                if client.get(url + ready_path).status_code == 200:
                    server.ready_s = time.perf_counter() - started
                    return server
            except httpx.TransportError:
                pass
            time.sleep(0.01)
    stop(server)
    raise StartError(f"{name} was not ready within {timeout_s:g} s: {server.log_tail()}")


def stop(server: Server, timeout_s: float = 15.0) -> None:
    """SIGTERM the server's process group, then SIGKILL if it does not stop in time."""
    if server.process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(server.process.pid, signal.SIGTERM)
    try:
        server.process.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.process.pid, signal.SIGKILL)
        server.process.wait(timeout=5)


def idle_rss_mb(server: Server, settle_s: float, samples: int = 5) -> float:
    """RSS after the server has been idle `settle_s` seconds: the median of a few samples."""
    time.sleep(settle_s)
    values = []
    for _ in range(samples):
        values.append(server.rss_mb())
        time.sleep(0.1)
    values.sort()
    return values[len(values) // 2]


@dataclass
class RssSampler:
    """Peak RSS of a process tree while the `with` block runs (sampled every `interval_s`)."""

    pid: int
    interval_s: float = 0.2
    peak_bytes: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak_bytes = max(self.peak_bytes, rss_bytes(self.pid))
            self._stop.wait(self.interval_s)

    def __enter__(self) -> RssSampler:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self.peak_bytes = max(self.peak_bytes, rss_bytes(self.pid))

    @property
    def peak_mb(self) -> float:
        return self.peak_bytes / MB


@contextlib.contextmanager
def running(
    name: str,
    argv: Sequence[str],
    *,
    port: int,
    env: Mapping[str, str],
    log_path: Path,
    ready_path: str = "/ready",
    timeout_s: float = 60.0,
    cwd: Path | None = None,
) -> Iterator[Server]:
    server = start(
        name,
        argv,
        port=port,
        env=env,
        log_path=log_path,
        ready_path=ready_path,
        timeout_s=timeout_s,
        cwd=cwd,
    )
    try:
        yield server
    finally:
        stop(server)


def profile(pid: int, output: Path, *, duration_s: float) -> subprocess.Popen[bytes]:
    """py-spy samples the server for `duration_s` and writes a flame graph (SVG) to `output`,
    or collapsed stacks (py-spy's raw format, for `bench.profiling`) when it ends in `.folded`."""
    import sys

    py_spy = Path(sys.executable).with_name("py-spy")
    log = output.with_suffix(".log").open("wb")
    process = subprocess.Popen(
        [
            str(py_spy) if py_spy.exists() else "py-spy",
            "record",
            "--pid",
            str(pid),
            "--duration",
            str(max(1, round(duration_s))),
            "--rate",
            "100",
            "--nonblocking",
            "--subprocesses",
            *(["--format", "raw"] if output.suffix == ".folded" else []),
            "--output",
            str(output),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    log.close()
    return process


def finish_profile(process: subprocess.Popen[bytes], timeout_s: float = 60.0) -> None:
    try:
        process.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)
