"""SIGKILL during writes: every acknowledged write exists exactly once and the audit chain verifies.

Writers with Idempotency-Keys and retries file HAYU self-reports and permit applications, or log
e-RK activities, while the service process is killed (SIGKILL) and restarted several times. A
write is retried with the same key and body until it is acknowledged, so a write whose answer
was lost in the crash must be replayed, never repeated. Afterwards the service's own tables hold
one row per intent, the idempotency records match them, and `audit-seal` + `audit-verify` pass.

On `TEST_BACKEND=postgres` the service runs on a throwaway PostgreSQL cluster (needs initdb); on
SQLite on a file, as in the embedded mode.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import importlib
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from reliability_helpers import hayu_filing
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from shared import migrations
from shared.cli import create_account
from shared.db import create_engine
from shared.testing import BACKEND, migrations_dir

KILLS = 4
KILL_EVERY = 2.0  # seconds of writing between two kills
WRITERS = 4
MAX_INTENTS = 2000  # per writer: bounds the loop whatever the machine's speed
RESEND_EVERY = 5  # every 5th acknowledged write is sent again, later, with its key: a replay
RETRY_FOR = 30.0  # seconds a single write is retried before the test gives up on it
PASSWORD = "sandi-yang-panjang-1"
RETRYABLE = (httpx.TransportError,)  # refused, reset or cut off mid-answer by the kill


@pytest.fixture
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if BACKEND == "postgres":
        cluster = request.getfixturevalue("throwaway_cluster")
        yield cluster.url
    else:
        yield f"sqlite:///{tmp_path / 'crash.db'}"


def _cli(service: str, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", service, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _cli_ok(service: str, env: dict[str, str], *args: str) -> None:
    result = _cli(service, env, *args)
    assert result.returncode == 0, result.stdout + result.stderr


def _prepare(service: str, url: str, accounts: dict[str, str]) -> None:
    """Migrate and add accounts (username -> role) in-process: no interpreter start-up each."""
    migrations.upgrade(migrations_dir(service), url)

    async def add() -> None:
        models = importlib.import_module(f"{service}.main").COMMON_MODELS
        engine = create_engine(url, schema=service, pool_size=1, max_overflow=0)
        try:
            async with AsyncSession(engine) as session, session.begin():
                for username, role in accounts.items():
                    await create_account(session, models, username, PASSWORD, [role])
        finally:
            await engine.dispose()

    asyncio.run(add())


@dataclass
class Ledger:
    """What the writers intended and what the service acknowledged."""

    intents: dict[str, str] = field(default_factory=dict)  # key -> marker in the stored row
    acknowledged: dict[str, int] = field(default_factory=dict)  # key -> id in the answer
    replayed: int = 0  # first-time writes answered as a replay: their first answer was lost
    resent: int = 0  # acknowledged writes sent again and answered by a replay
    retries: int = 0
    failures: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _write_until_acknowledged(
    client: httpx.Client, path: str, body: dict[str, Any], headers: dict[str, str], ledger: Ledger
) -> httpx.Response | None:
    deadline = time.monotonic() + RETRY_FOR
    while time.monotonic() < deadline:
        try:
            response = client.post(path, json=body, headers=headers)
        except RETRYABLE:
            response = None
        if response is not None and response.status_code != 503:
            return response  # an answer; a 500 too is kept (a failure), never retried away
        with ledger.lock:
            ledger.retries += 1
        time.sleep(0.05)
    return None


def _writer(
    url: str,
    path: str,
    headers: dict[str, str],
    make_body: Callable[[int, str], tuple[dict[str, Any], str]],
    stop: threading.Event,
    ledger: Ledger,
) -> None:
    resend: list[tuple[str, dict[str, Any]]] = []
    with httpx.Client(base_url=url, timeout=5.0) as client:
        for i in range(MAX_INTENTS):
            if stop.is_set():
                break
            if resend and i % RESEND_EVERY == 0:
                # An acknowledged write sent again (after a restart, most likely): a replay.
                key, body = resend.pop(0)
                with ledger.lock:
                    expect = ledger.acknowledged[key]
                response = _write_until_acknowledged(
                    client, path, body, {**headers, "Idempotency-Key": key}, ledger
                )
                with ledger.lock:
                    if response is None or response.status_code != 201:
                        ledger.failures.append(f"resent {key}: {response and response.text}")
                    elif response.json()["id"] != expect or "idempotent-replayed" not in (
                        response.headers
                    ):
                        ledger.failures.append(f"resent {key} was not replayed: {response.text}")
                    else:
                        ledger.resent += 1
                continue
            key = uuid.uuid4().hex
            body, marker = make_body(i, key)
            with ledger.lock:
                ledger.intents[key] = marker
            response = _write_until_acknowledged(
                client, path, body, {**headers, "Idempotency-Key": key}, ledger
            )
            with ledger.lock:
                if response is None:
                    ledger.failures.append(f"{key}: never acknowledged within {RETRY_FOR}s")
                elif response.status_code != 201:
                    ledger.failures.append(f"{key}: {response.status_code} {response.text[:300]}")
                else:
                    ledger.acknowledged[key] = int(response.json()["id"])
                    ledger.replayed += response.headers.get("idempotent-replayed") == "true"
                    if len(ledger.acknowledged) % RESEND_EVERY == 0:
                        resend.append((key, body))


def _run_under_kills(
    service: Any,
    path: str,
    headers_per_writer: list[dict[str, str]],
    make_body: Callable[[int, str], tuple[dict[str, Any], str]],
) -> Ledger:
    ledger = Ledger()
    stop = threading.Event()
    threads = [
        threading.Thread(
            target=_writer,
            args=(service.url, path, headers, make_body, stop, ledger),
            daemon=True,
        )
        for headers in headers_per_writer
    ]
    for thread in threads:
        thread.start()
    try:
        for _ in range(KILLS):
            time.sleep(KILL_EVERY)
            service.kill()  # SIGKILL: no shutdown, no flush, answers cut off mid-flight
            service.start(wait_path="/ready")
        time.sleep(KILL_EVERY)  # writes after the last restart too
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=RETRY_FOR + 10)
    assert not any(t.is_alive() for t in threads), "a writer hung"
    return ledger


async def _rows(url: str, schema: str, sql: str) -> list[Any]:
    engine = create_engine(url, schema=schema, pool_size=1, max_overflow=0)
    try:
        async with engine.connect() as conn:
            return list((await conn.execute(text(sql))).all())
    finally:
        await engine.dispose()


def _check(
    ledger: Ledger, rows: list[Any], idempotency_records: int, service: str, env: dict[str, str]
) -> None:
    """rows: (id, marker) of every stored write of the test's kind."""
    assert not ledger.failures, ledger.failures[:5]
    assert ledger.resent >= KILLS, f"too few acknowledged writes were sent again: {ledger.resent}"
    written = len(ledger.acknowledged)
    assert written >= KILLS * 5, f"too few writes to mean anything: {written}"
    by_marker: dict[str, list[int]] = {}
    for row_id, marker in rows:
        by_marker.setdefault(marker, []).append(row_id)
    duplicated = {m: ids for m, ids in by_marker.items() if len(ids) > 1}
    assert not duplicated, f"written more than once: {duplicated}"
    for key, row_id in ledger.acknowledged.items():
        marker = ledger.intents[key]
        assert by_marker.get(marker) == [row_id], f"acknowledged {key} -> {row_id} is not stored"
    unknown = set(by_marker) - set(ledger.intents.values())
    assert not unknown, f"rows nobody intended: {sorted(unknown)[:5]}"
    # Every intent ended acknowledged, so every stored row is one of them and has its record.
    assert len(rows) == len(ledger.acknowledged)
    assert idempotency_records == len(rows)
    _cli_ok(service, env, "audit-seal")
    verify = _cli(service, env, "audit-verify")
    assert verify.returncode == 0, verify.stdout + verify.stderr


def test_hayu_filings_survive_sigkill(
    service_process: Callable[[str, str], Any], database_url: str
) -> None:
    service = service_process("hayu", database_url)
    _prepare("hayu", database_url, {})
    service.start(wait_path="/ready")
    headers = []
    with httpx.Client(base_url=service.url, timeout=10) as client:
        for i in range(WRITERS):
            owner = {"username": f"pemilik{i}", "password": PASSWORD, "full_name": "Pemilik"}
            assert client.post("/api/v1/auth/register", json=owner).status_code == 201
            form = {"username": owner["username"], "password": PASSWORD}
            token = client.post("/api/v1/auth/token", data=form).json()["access_token"]
            headers.append({"Authorization": f"Bearer {token}"})

    def make_body(i: int, key: str) -> tuple[dict[str, Any], str]:
        marker = f"Usaha {key}"
        if i % 3 == 2:  # a permit application beside the self-reports
            return hayu_filing("REKLAME", name=marker, capital_idr=750_000_000), marker
        return hayu_filing("SS", name=marker), marker

    ledger = _run_under_kills(service, "/api/v1/applications", headers, make_body)
    rows = asyncio.run(
        _rows(
            database_url,
            "hayu",
            'SELECT a.id, b.name FROM "hayu".applications a '
            'JOIN "hayu".businesses b ON b.id = a.business_id',
        )
    )
    businesses = asyncio.run(_rows(database_url, "hayu", 'SELECT count(*) FROM "hayu".businesses'))
    assert businesses[0][0] == len(rows), "a business was stored without its application"
    records = asyncio.run(
        _rows(
            database_url,
            "hayu",
            "SELECT count(*) FROM \"hayu\".idempotency_records WHERE scope LIKE '%/applications'",
        )
    )
    _check(ledger, rows, int(records[0][0]), "hayu", service.env)


def _working_dates(timezone: str) -> list[dt.date]:
    today = dt.datetime.now(ZoneInfo(timezone)).date()
    # Days of this month up to yesterday; today only when it is the 1st (a day's cap is 450 min).
    days = [today.replace(day=d) for d in range(1, today.day)]
    if today.day <= 4:  # early in a month the previous one is open too (cut-off: the 5th)
        last = today.replace(day=1) - dt.timedelta(days=1)
        days += [last.replace(day=d) for d in range(1, last.day + 1)]
    # Activities are logged on working days only (Saturday, Sunday and national holidays refused).
    from shared.calendar import WorkingCalendar

    calendar = WorkingCalendar(timezone=timezone)
    working = [d for d in days if calendar.is_working_day(d)]
    return working or [today]


def test_erk_activities_survive_sigkill(
    service_process: Callable[[str, str], Any], database_url: str
) -> None:
    service = service_process("erk", database_url)
    _prepare("erk", database_url, {"bkpsdm": "hr_admin"})
    service.start(wait_path="/ready")
    nips = [f"19850315201001100{i}" for i in range(1, WRITERS + 1)]
    headers = []
    with httpx.Client(base_url=service.url, timeout=10) as client:
        form = {"username": "bkpsdm", "password": PASSWORD}
        hr = {
            "Authorization": "Bearer "
            + client.post("/api/v1/auth/token", data=form).json()["access_token"]
        }
        created = client.post(
            "/api/v1/units", json={"code": "DINAS", "name": "Dinas Uji"}, headers=hr
        )
        assert created.status_code == 201, created.text
        for nip in nips:
            employee = {
                "nip": nip,
                "name": f"Pegawai {nip[-3:]}",
                "unit_code": "DINAS",
                "job_class": 7,
                "tpp_base_idr": 5_000_000,
            }
            created = client.post("/api/v1/employees", json=employee, headers=hr)
            assert created.status_code == 201, created.text
            reset = client.post(
                f"/api/v1/employees/{nip}/password", json={"password": PASSWORD}, headers=hr
            )
            assert reset.status_code == 204, reset.text
            form = {"username": nip, "password": PASSWORD}
            temporary = client.post("/api/v1/auth/token", data=form).json()["access_token"]
            changed = client.post(  # a temporary password's token only replaces it
                "/api/v1/auth/password",
                json={"current_password": PASSWORD, "new_password": PASSWORD + "-baru"},
                headers={"Authorization": f"Bearer {temporary}"},
            )
            assert changed.status_code == 200, changed.text
            headers.append({"Authorization": f"Bearer {changed.json()['access_token']}"})
    days = _working_dates("Asia/Jakarta")

    def make_body(i: int, key: str) -> tuple[dict[str, Any], str]:
        marker = f"Menyusun laporan {key}"
        day = days[i % len(days)]
        return {"date": day.isoformat(), "description": marker, "minutes": 1}, marker

    ledger = _run_under_kills(service, "/api/v1/activities", headers, make_body)
    rows = asyncio.run(_rows(database_url, "erk", 'SELECT id, description FROM "erk".activities'))
    records = asyncio.run(
        _rows(
            database_url,
            "erk",
            "SELECT count(*) FROM \"erk\".idempotency_records WHERE scope LIKE '%/activities'",
        )
    )
    _check(ledger, rows, int(records[0][0]), "erk", service.env)
