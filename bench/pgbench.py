"""pgbench with a custom script doing the reference's single-row insert: the database's limit."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bench import reference_app
from bench.database import plain_url

SCRIPT = f"""\\set amount random(1000, 100000000)
INSERT INTO "{reference_app.SCHEMA}".{reference_app.TABLE}
  (reference, payer_name, description, region_code, amount, created_at)
  VALUES ('pgb-' || gen_random_uuid()::text, 'Payer pgbench', 'pgbench single-row insert',
          '32.73.01.1001', :amount, now());
"""

TPS = re.compile(r"^tps = ([0-9.]+) \((without initial connection time|excluding connections)")
LATENCY = re.compile(r"^latency average = ([0-9.]+) ms")
FAILED = re.compile(r"^number of failed transactions: (\d+)")
PROCESSED = re.compile(r"^number of transactions actually processed: (\d+)")


@dataclass
class PgbenchResult:
    clients: int
    threads: int
    duration_s: int
    tps: float
    latency_avg_ms: float | None
    transactions: int | None
    failed: int | None
    command: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def pgbench_binary() -> str | None:
    for candidate in ("/usr/bin/pgbench", shutil.which("pgbench")):
        if candidate and Path(candidate).exists():
            return candidate
    return None


def parse_output(text: str) -> tuple[float, float | None, int | None, int | None]:
    tps: float | None = None
    latency = transactions = failed = None
    for line in text.splitlines():
        line = line.strip()
        if (m := TPS.match(line)) is not None:
            tps = float(m.group(1))
        elif (m := LATENCY.match(line)) is not None:
            latency = float(m.group(1))
        elif (m := PROCESSED.match(line)) is not None:
            transactions = int(m.group(1))
        elif (m := FAILED.match(line)) is not None:
            failed = int(m.group(1))
    if tps is None:
        raise ValueError(f"no tps line in pgbench's output:\n{text[-1500:]}")
    return tps, latency, transactions, failed


def run(url: str, workdir: Path, *, clients: int, threads: int, duration_s: int) -> PgbenchResult:
    binary = pgbench_binary()
    if binary is None:
        raise RuntimeError("pgbench is not installed (apt-get install postgresql-client)")
    script = workdir / "pgbench_insert.sql"
    script.write_text(SCRIPT)
    parts = urlsplit(plain_url(url))
    argv = [
        binary,
        "-n",
        "-f",
        str(script),
        "-c",
        str(clients),
        "-j",
        str(threads),
        "-T",
        str(duration_s),
        "-h",
        parts.hostname or "127.0.0.1",
        "-p",
        str(parts.port or 5432),
        "-U",
        parts.username or "postgres",
        parts.path.lstrip("/"),
    ]
    env = dict(os.environ)
    if parts.password:
        env["PGPASSWORD"] = parts.password
    proc = subprocess.run(
        argv, capture_output=True, text=True, timeout=duration_s + 60, check=False, env=env
    )
    (workdir / "pgbench.log").write_text(proc.stdout + proc.stderr)
    if proc.returncode != 0:
        raise RuntimeError(f"pgbench failed ({proc.returncode}): {proc.stderr[-1500:]}")
    tps, latency, transactions, failed = parse_output(proc.stdout)
    return PgbenchResult(
        clients=clients,
        threads=threads,
        duration_s=duration_s,
        tps=tps,
        latency_avg_ms=latency,
        transactions=transactions,
        failed=failed,
        command=" ".join(argv),
    )
