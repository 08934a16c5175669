"""The report of one run: report.md with tables and PNG charts, beside the raw results.json.

Every figure comes from results.json; the targets of issue 6 are stated here once and checked
against the figures of the same run (ratios to the references measured in that run).
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

Results = Mapping[str, Any]

MEMORY_RATIO_TARGET = 1.1
EMBEDDED_MB_TARGET = 150.0
READY_S_TARGET = 1.0
PAGE_RATIO_TARGET = 1.5
THROUGHPUT_RATIO_TARGET = 1.0
TARGET_LEVELS = (16, 64)
LINEAR_SPREAD = 1.5
"""Growth counts as linear when seconds per row at the volumes differ by at most this factor."""


def growth_slopes(points: Sequence[Mapping[str, Any]]) -> list[float]:
    """Seconds per added row between consecutive volumes (the marginal cost of the data)."""
    ordered = sorted((p["volume"], p["median_s"]) for p in points if p["volume"])
    return [(t2 - t1) / (v2 - v1) for (v1, t1), (v2, t2) in itertools.pairwise(ordered) if v2 > v1]


def growth_spread(points: Sequence[Mapping[str, Any]]) -> float:
    """max ÷ min of the marginal seconds per row between consecutive volumes (1.0 = a straight
    line). Linear means affine here: a fixed cost per request (the recap's per-employee work)
    shifts the line without bending it, so seconds per row overall are not the measure."""
    slopes = growth_slopes(points)
    if not slopes or min(slopes) <= 0:
        return float("nan")
    return max(slopes) / min(slopes)


def _fmt(value: float | None, digits: int = 0, unit: str = "") -> str:
    if value is None:
        return "—"
    return f"{value:,.{digits}f}{unit}"


def _level(scenario: Mapping[str, Any], vus: int) -> Mapping[str, Any] | None:
    for level in scenario.get("levels", []):
        if level["vus"] == vus:
            return dict(level)
    return None


def throughput_ratio(results: Results, name: str, vus: int) -> float | None:
    scenarios = results["scenarios"]
    scenario = scenarios.get(name)
    if not scenario or not scenario.get("baseline"):
        return None
    own, base = _level(scenario, vus), _level(scenarios.get(scenario["baseline"], {}), vus)
    if not own or not base or not base["rps"]:
        return None
    return float(own["rps"]) / float(base["rps"])


def latency_ratio(results: Results, name: str, vus: int) -> float | None:
    scenarios = results["scenarios"]
    scenario = scenarios.get(name)
    if not scenario or not scenario.get("latency_baseline"):
        return None
    own, base = _level(scenario, vus), _level(scenarios.get(scenario["latency_baseline"], {}), vus)
    if not own or not base or not base["p50_ms"]:
        return None
    return float(own["p50_ms"]) / float(base["p50_ms"])


def _verdict(ok: bool | None) -> str:
    return "—" if ok is None else ("met" if ok else "**missed**")


def _not_measured(scenario: Mapping[str, Any] | None) -> str:
    if not scenario:
        return "not selected"
    if scenario["status"] == "ok":
        return "—"
    return f"not measured ({scenario['status']})"


def target_rows(results: Results) -> list[list[str]]:
    """target | reference | measured | ratio | verdict, as in bench/README.md."""
    rows: list[list[str]] = []
    scenarios = results["scenarios"]
    levels = [v for v in results["meta"]["vus"] if v in TARGET_LEVELS] or results["meta"]["vus"]
    for name, s in scenarios.items():
        if s["service"] == "reference" or not s.get("target") or not s.get("baseline"):
            continue
        if s.get("latency_baseline"):
            continue
        base = scenarios.get(s["baseline"], {})
        wanted = s.get("min_ratio") or THROUGHPUT_RATIO_TARGET
        for vus in levels:
            own, ref = _level(s, vus), _level(base, vus)
            ratio = throughput_ratio(results, name, vus)
            rows.append(
                [
                    f"{name} at {vus} clients: req/s ≥ {wanted:g} × {s['baseline']}",
                    _fmt(ref["rps"] if ref else None, 0, " req/s"),
                    _fmt(own["rps"], 0, " req/s") if own else _not_measured(s),
                    _fmt(ratio, 2, "×"),
                    _verdict(None if ratio is None else ratio >= wanted),
                ]
            )
    for name, s in scenarios.items():
        if not s.get("latency_baseline"):
            continue
        for vus in results["meta"]["vus"]:  # 1 client shows the page's own cost, no queueing
            own, ref = _level(s, vus), _level(scenarios.get(s["latency_baseline"], {}), vus)
            ratio = latency_ratio(results, name, vus)
            rows.append(
                [
                    f"{name} at {vus} clients: p50 ≤ {PAGE_RATIO_TARGET:g} × page 1",
                    _fmt(ref["p50_ms"] if ref else None, 1, " ms"),
                    _fmt(own["p50_ms"], 1, " ms") if own else _not_measured(s),
                    _fmt(ratio, 2, "×"),
                    _verdict(None if ratio is None else ratio <= PAGE_RATIO_TARGET),
                ]
            )
    overload_vus = results["meta"]["overload"]["vus"]
    timeout = results["meta"]["overload"]["timeout_s"]
    for name, s in scenarios.items():
        o = s.get("overload")
        wanted = s["kind"] == "write" or s["name"].endswith(".track")
        if s["service"] == "reference" or not (o or (wanted and s["status"] != "ok")):
            continue
        if not o:
            measured, ok = _not_measured(s), None
        else:
            c = o["counts"]
            measured = (
                f"{o['requests']:,} requests: {c['slow']} not answered in {timeout:g} s, "
                f"{c['errors_non_503']} non-503 errors, {c['status_503']} × 503 "
                f"({c['503_without_retry_after']} without Retry-After)"
            )
            ok = c["slow"] == 0 and c["errors_non_503"] == 0 and c["503_without_retry_after"] == 0
        ref_o = (scenarios.get("reference.orm_insert") or {}).get("overload")
        ref_text = (
            f"bare ORM insert: {ref_o['counts']['slow']} not answered, "
            f"{ref_o['counts']['errors_non_503']} errors"
            if ref_o
            else "—"
        )
        rows.append(
            [
                f"{name} at {overload_vus} clients: every answer within {timeout:g} s "
                "(result or 503 with Retry-After)",
                ref_text,
                measured,
                "—",
                _verdict(ok),
            ]
        )
    fp = results["footprint"]
    ref_idle = (fp.get("reference") or {}).get("rss_idle_mb")
    for service in ("sabilulungan", "hayu", "erk"):
        f = fp.get(service)
        idle = f.get("rss_idle_mb") if f else None
        ratio = idle / ref_idle if idle and ref_idle else None
        rows.append(
            [
                f"{service}: idle RSS ≤ {MEMORY_RATIO_TARGET:g} × bare FastAPI app",
                _fmt(ref_idle, 1, " MB"),
                _fmt(idle, 1, " MB") if f else "not measured",
                _fmt(ratio, 2, "×"),
                _verdict(None if ratio is None else ratio <= MEMORY_RATIO_TARGET),
            ]
        )
    for service in ("sabilulungan", "hayu", "erk"):
        f = fp.get(service)
        ready = f.get("ready_s") if f else None
        rows.append(
            [
                f"{service}: start to /ready ≤ {READY_S_TARGET:g} s",
                _fmt((fp.get("reference") or {}).get("ready_s"), 2, " s (bare app)"),
                _fmt(ready, 2, " s") if f else "not measured",
                _fmt(ready / READY_S_TARGET if ready else None, 2, "×"),
                _verdict(None if ready is None else ready <= READY_S_TARGET),
            ]
        )
    emb = fp.get("embedded")
    emb_idle = emb.get("rss_idle_mb") if emb else None
    rows.append(
        [
            f"embedded, all three in one process: idle RSS ≤ {EMBEDDED_MB_TARGET:g} MB",
            f"{EMBEDDED_MB_TARGET:g} MB (absolute)",
            _fmt(emb_idle, 1, " MB") if emb else "not measured",
            _fmt(emb_idle / EMBEDDED_MB_TARGET if emb_idle else None, 2, "×"),
            _verdict(None if emb_idle is None else emb_idle <= EMBEDDED_MB_TARGET),
        ]
    )
    for name, g in (results.get("growth") or {}).items():
        points = g["points"]
        if g["status"] != "ok" or not points:
            rows.append(
                [
                    f"{name}: {g['title']} < {g['limit_s']:g} s at the largest volume, linear",
                    "—",
                    f"not measured ({g['status']})",
                    "—",
                    "—",
                ]
            )
            continue
        last = points[-1]
        spread = growth_spread(points)
        ok = last["median_s"] <= (g["limit_s"] or float("inf")) and spread <= LINEAR_SPREAD
        rows.append(
            [
                f"{name}: {g['title']} < {g['limit_s']:g} s at {last['volume']:,} rows, "
                f"linear (seconds per added row vary ≤ {LINEAR_SPREAD:g}× between steps)",
                f"{g['limit_s']:g} s",
                f"{last['median_s']:.2f} s; marginal cost per row varies {spread:.2f}×",
                _fmt(last["median_s"] / g["limit_s"] if g["limit_s"] else None, 2, "×"),
                _verdict(ok),
            ]
        )
    return rows


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c).replace("|", "\\|") for c in r) + " |" for r in rows]
    return "\n".join(lines)


# --- charts ---------------------------------------------------------------------------------------


def _measured(results: Results) -> list[tuple[str, Mapping[str, Any]]]:
    return [(n, s) for n, s in results["scenarios"].items() if s["status"] == "ok" and s["levels"]]


def chart_throughput(results: Results, path: Path) -> bool:
    measured = _measured(results)
    if not measured:
        return False
    levels = results["meta"]["vus"]
    fig, ax = plt.subplots(figsize=(max(8, 1.1 * len(measured)), 5))
    width = 0.8 / len(levels)
    for i, vus in enumerate(levels):
        values = [(_level(s, vus) or {}).get("rps", 0) for _, s in measured]
        xs = [j + i * width for j in range(len(measured))]
        ax.bar(xs, values, width, label=f"{vus} clients")
    pg = results.get("pgbench") or {}
    if pg.get("status") == "ok":
        ax.axhline(pg["tps"], color="grey", linestyle=":", label=f"pgbench {pg['tps']:,.0f} tps")
    ax.set_xticks([j + 0.4 - width / 2 for j in range(len(measured))])
    ax.set_xticklabels([n for n, _ in measured], rotation=30, ha="right", fontsize=8)
    ax.set_ylabel("requests per second")
    ax.set_yscale("log")
    ax.set_title("Throughput (log scale)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def chart_latency(results: Results, path: Path) -> bool:
    measured = _measured(results)
    if not measured:
        return False
    levels = results["meta"]["vus"]
    fig, axes = plt.subplots(
        len(levels), 1, figsize=(max(8, 1.1 * len(measured)), 3 * len(levels)), squeeze=False
    )
    for ax, vus in zip(axes[:, 0], levels, strict=True):
        for k, (key, label) in enumerate((("p50_ms", "p50"), ("p95_ms", "p95"), ("p99_ms", "p99"))):
            values = [(_level(s, vus) or {}).get(key, 0) for _, s in measured]
            ax.bar([j + k * 0.27 for j in range(len(measured))], values, 0.27, label=label)
        ax.set_title(f"Latency at {vus} clients", fontsize=10)
        ax.set_ylabel("ms")
        ax.set_xticks([j + 0.27 for j in range(len(measured))])
        ax.set_xticklabels([n for n, _ in measured], rotation=30, ha="right", fontsize=7)
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def chart_ratios(results: Results, path: Path) -> bool:
    names = [n for n, s in _measured(results) if s.get("baseline")]
    if not names:
        return False
    levels = results["meta"]["vus"]
    fig, ax = plt.subplots(figsize=(max(8, 1.1 * len(names)), 4.5))
    width = 0.8 / len(levels)
    for i, vus in enumerate(levels):
        values = [throughput_ratio(results, n, vus) or 0 for n in names]
        ax.bar([j + i * width for j in range(len(names))], values, width, label=f"{vus} clients")
    ax.axhline(1.0, color="black", linewidth=1, label="reference = 1.0")
    ax.set_xticks([j + 0.4 - width / 2 for j in range(len(names))])
    ax.set_xticklabels(names, rotation=30, ha="right", fontsize=8)
    ax.set_ylabel("req/s ÷ reference req/s")
    ax.set_title("Throughput as a ratio to its reference (same run, same clients)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def chart_footprint(results: Results, path: Path) -> bool:
    fp = [(n, f) for n, f in results["footprint"].items() if f.get("rss_idle_mb")]
    if not fp:
        return False
    fig, ax = plt.subplots(figsize=(8, 4.5))
    xs = range(len(fp))
    ax.bar([x - 0.2 for x in xs], [f["rss_idle_mb"] for _, f in fp], 0.4, label="idle")
    ax.bar(
        [x + 0.2 for x in xs],
        [f.get("rss_load_peak_mb") or 0 for _, f in fp],
        0.4,
        label="peak under load",
    )
    ref = results["footprint"].get("reference", {}).get("rss_idle_mb")
    if ref:
        ax.axhline(
            MEMORY_RATIO_TARGET * ref,
            color="red",
            linestyle="--",
            label=f"service target {MEMORY_RATIO_TARGET:g} × bare app idle",
        )
    ax.axhline(EMBEDDED_MB_TARGET, color="purple", linestyle=":", label="embedded target 150 MB")
    ax.set_xticks(list(xs))
    ax.set_xticklabels([n for n, _ in fp])
    ax.set_ylabel("resident memory, MB")
    ax.set_title("Resident memory (process and children)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def chart_growth(results: Results, path: Path) -> bool:
    growth = {n: g for n, g in (results.get("growth") or {}).items() if g["points"]}
    if not growth:
        return False
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for name, g in growth.items():
        xs = [p["volume"] for p in g["points"]]
        ax.plot(xs, [p["median_s"] for p in g["points"]], marker="o", label=name)
        if g.get("limit_s"):
            ax.axhline(g["limit_s"], color="red", linestyle="--", label=f"{name} target")
    ax.set_xlabel("rows")
    ax.set_ylabel("seconds (median)")
    ax.set_xlim(left=0)
    ax.set_ylim(bottom=0)
    ax.set_title("Growth: request time against data volume")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


# --- markdown -------------------------------------------------------------------------------------


def render_markdown(results: Results, charts: Sequence[str], profiles: Sequence[str] = ()) -> str:
    meta = results["meta"]
    out: list[str] = [f"# Benchmark run {meta['started']}", ""]
    if meta["quick"]:
        out += [
            "> **Quick run**: seconds per scenario, for checking the harness. On a shared machine "
            "these figures are noisy; do not copy them into bench/README.md as results.",
            "",
        ]
    out += [
        _table(
            ["", ""],
            [
                ["command", f"`{meta['command']}`"],
                ["started / finished (UTC)", f"{meta['started']} / {meta['finished']}"],
                ["git", f"{meta['git']}{' (uncommitted changes)' if meta['git_dirty'] else ''}"],
                ["host", f"{meta['host']}, {meta['cpus']} CPUs"],
                [
                    "load average before / after",
                    f"{meta['loadavg_before']} / {meta['loadavg_after']}",
                ],
                [
                    "PostgreSQL / Python / k6",
                    f"{meta['postgres']} / {meta['python']} / {meta['k6']}",
                ],
                ["database", meta["database"]],
                [
                    "load",
                    f"{', '.join(str(v) for v in meta['vus'])} clients × {meta['duration_s']:g} s "
                    f"each (after {meta['warmup_s']:g} s warm-up); overload "
                    f"{meta['overload']['vus']} clients × {meta['overload']['duration_s']:g} s, "
                    f"timeout {meta['overload']['timeout_s']:g} s",
                ],
                ["seed scale", f"{meta['scale']:g} (fresh schemas: {meta['fresh']})"],
            ],
        ),
        "",
        "## Targets (issue 6)",
        "",
        _table(["target", "reference", "measured", "ratio", "verdict"], target_rows(results)),
        "",
    ]
    pg = results.get("pgbench") or {}
    out += ["## References", ""]
    if pg.get("status") == "ok":
        out += [
            f"pgbench, single-row insert script, {pg['clients']} clients, {pg['threads']} threads, "
            f"{pg['duration_s']} s: **{pg['tps']:,.0f} tps** (average latency "
            f"{_fmt(pg['latency_avg_ms'], 2, ' ms')}, {pg['failed'] or 0} failed).",
            "",
        ]
    elif pg:
        out += [f"pgbench failed: {pg.get('detail', '')}", ""]
    out += ["## Scenarios", ""]
    rows = []
    for name, s in results["scenarios"].items():
        for level in s["levels"]:
            ratio = throughput_ratio(results, name, level["vus"])
            rows.append(
                [
                    name,
                    str(level["vus"]),
                    _fmt(level["rps"], 0),
                    _fmt(level["p50_ms"], 1),
                    _fmt(level["p95_ms"], 1),
                    _fmt(level["p99_ms"], 1),
                    _fmt(100 * level["error_rate"], 2, " %"),
                    f"{_fmt(ratio, 2, '×')} {s['baseline'] or ''}".strip(),
                    _fmt(level.get("rss_peak_mb"), 1),
                ]
            )
    out += [
        _table(
            [
                "scenario",
                "clients",
                "req/s",
                "p50 ms",
                "p95 ms",
                "p99 ms",
                "errors",
                "ratio",
                "RSS peak MB",
            ],
            rows,
        )
        if rows
        else "No scenario was measured.",
        "",
    ]
    notes = [
        f"- {n}: {s['reason']}"
        for n, s in results["scenarios"].items()
        if s["status"] == "ok" and s["reason"]
    ]
    out += [*notes, ""] if notes else []
    overloads = [(n, s["overload"]) for n, s in results["scenarios"].items() if s.get("overload")]
    if overloads:
        out += ["### Overload", ""]
        out += [
            _table(
                [
                    "scenario",
                    "clients",
                    "requests",
                    "req/s",
                    "p99 ms",
                    "not answered in time",
                    "503",
                    "503 without Retry-After",
                    "non-503 errors",
                ],
                [
                    [
                        n,
                        str(o["vus"]),
                        f"{o['requests']:,}",
                        _fmt(o["rps"], 0),
                        _fmt(o["p99_ms"], 0),
                        str(o["counts"]["slow"]),
                        str(o["counts"]["status_503"]),
                        str(o["counts"]["503_without_retry_after"]),
                        str(o["counts"]["errors_non_503"]),
                    ]
                    for n, o in overloads
                ],
            ),
            "",
        ]
    out += ["## Footprint", ""]
    out += [
        _table(
            [
                "process",
                "start to ready",
                "RSS idle MB",
                "RSS peak under load MB",
                "RSS after load MB",
                "status",
            ],
            [
                [
                    n,
                    _fmt(f.get("ready_s"), 2, " s")
                    + (
                        f" ({', '.join(f'{x:.2f}' for x in f['ready_runs_s'])})"
                        if len(f.get("ready_runs_s") or []) > 1
                        else ""
                    ),
                    _fmt(f.get("rss_idle_mb"), 1),
                    _fmt(f.get("rss_load_peak_mb"), 1),
                    _fmt(f.get("rss_after_load_mb"), 1),
                    f["status"] + (f": {f['detail'][:200]}" if f.get("detail") else ""),
                ]
                for n, f in results["footprint"].items()
            ],
        ),
        "",
        f"Ready is the median of {meta.get('ready_runs', 1)} starts, each timed from just before "
        "the process is created to the first 200 of `/ready` "
        "(embedded: every `/<service>/ready`, including its SQLite migrations). RSS is the process "
        "and its children (psutil), idle after a short pause; the peak is sampled every 0.2 s "
        "while k6 runs.",
        "",
    ]
    growth = {n: g for n, g in (results.get("growth") or {}).items() if g["points"]}
    if growth:
        out += ["## Growth", ""]
        for name, g in growth.items():
            slopes = growth_slopes(g["points"])
            out += [
                f"{name}: {g['title']} (`{g['path']}`)",
                "",
                _table(
                    [
                        "rows",
                        "grow time",
                        "request median",
                        "requests",
                        "seconds per million added since the previous volume",
                    ],
                    [
                        [
                            f"{p['volume']:,}",
                            f"{p['grow_s']:.1f} s",
                            f"{p['median_s']:.3f} s",
                            ", ".join(f"{t:.3f}" for t in p["times_s"]),
                            "—" if i == 0 else f"{1e6 * slopes[i - 1]:.3f}",
                        ]
                        for i, p in enumerate(sorted(g["points"], key=lambda p: p["volume"]))
                    ],
                ),
                "",
            ]
    if results["seeding"]:
        out += ["## Seeding", ""]
        seed_rows = []
        for service, r in results["seeding"].items():
            steps = ", ".join(
                f"{s['step']} {s['rows']:,} rows {s['seconds']:.2f} s" for s in r["steps"]
            )
            seed_rows.append(
                [service, f"{r['rows']:,}", f"{r['seconds']:.1f} s", r["status"], steps]
            )
        out += [_table(["service", "rows", "time", "status", "steps"], seed_rows), ""]
        todo = [f"- {s}: {r['detail']}" for s, r in results["seeding"].items() if r["detail"]]
        out += [*todo, ""] if todo else []
    waiting = [
        (n, s)
        for n, s in [*results["scenarios"].items(), *(results.get("growth") or {}).items()]
        if s["status"] not in ("ok", "pending")
    ]
    if waiting:
        out += ["## Not measured in this run", ""]
        out += [
            _table(
                ["scenario", "status", "why", "still to do"],
                [[n, s["status"], s["reason"][:240], s["todo"]] for n, s in waiting],
            ),
            "",
        ]
    if profiles:
        out += ["## Profiles (py-spy)", ""] + [f"- [{p}]({p})" for p in profiles] + [""]
    if charts:
        out += ["## Charts", ""] + [f"![{c}]({c})" for c in charts] + [""]
    return "\n".join(out)


def write(results: Results, out_dir: Path) -> Path:
    (out_dir / "results.json").write_text(json.dumps(results, indent=2))
    charts = []
    for name, fn in (
        ("throughput.png", chart_throughput),
        ("ratios.png", chart_ratios),
        ("latency.png", chart_latency),
        ("footprint.png", chart_footprint),
        ("growth.png", chart_growth),
    ):
        if fn(results, out_dir / name):
            charts.append(name)
    report = out_dir / "report.md"
    profiles = sorted(str(p.relative_to(out_dir)) for p in (out_dir / "profiles").glob("*.svg"))
    report.write_text(render_markdown(results, charts, profiles))
    return report
