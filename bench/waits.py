"""What the database sessions of a benchmark wait on: pg_stat_activity, sampled.

    .venv/bin/python -m bench.waits [--db URL] [--seconds 60] [--interval 0.02] [--match TEXT]

Run it beside `python -m bench run` (or any load on the benchmark database). Every `--interval`
seconds it reads the active sessions of the database from `pg_stat_activity` (its own aside)
and counts each one under its wait (`Lock:transactionid`, `IO:WALSync`, `LWLock:WALWrite`, …;
`CPU` when PostgreSQL reports none: running or runnable) and the first words of its statement,
whitespace folded. `--match` keeps only statements containing that text (say `hayu.` to leave the
reference's and the seeders' statements out). At the end it prints, most frequent first, each
(wait, statement) with its samples and share, and the mean number of active sessions: a write
path whose sessions mostly wait on a lock is ordered one after another by that lock; one whose
sessions are few and mostly wait on the WAL is limited by something outside the database (the
server's CPU, the load generator).

Sampling every 20 ms costs PostgreSQL one catalogue read each time (about 0.5 ms of one core on
the 2-core VM). Only the statement's first words are kept; parameters are never in
pg_stat_activity's text for the services' prepared statements, and the output never shows
anything but the statement text itself.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

QUERY = """
SELECT wait_event_type, wait_event, query
FROM pg_stat_activity
WHERE datname = current_database() AND state = 'active' AND pid <> pg_backend_pid()
"""
HEAD = 48
"""Characters of a statement kept to name it."""
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class Sample:
    wait_type: str | None
    wait_event: str | None
    query: str


@dataclass
class Summary:
    samples: int
    """Times pg_stat_activity was read."""
    counts: Counter[tuple[str, str]]
    """(wait, statement head) → sessions seen in that state, over all samples."""

    @property
    def sessions(self) -> int:
        return sum(self.counts.values())

    def lines(self, limit: int = 20) -> list[str]:
        mean = self.sessions / self.samples if self.samples else 0.0
        out = [f"# {self.samples} samples, {self.sessions} active sessions seen, mean {mean:.2f}"]
        out.append("| sessions | share | wait | statement |")
        out.append("| ---: | ---: | --- | --- |")
        for (wait, head), count in self.counts.most_common(limit):
            share = count / self.sessions
            out.append(f"| {count} | {share:.0%} | {wait} | `{head}` |")
        return out


def wait_name(sample: Sample) -> str:
    """`type:event`, or `CPU` when the session waits on nothing."""
    if sample.wait_type is None:
        return "CPU"
    return f"{sample.wait_type}:{sample.wait_event or '-'}"


def head_of(query: str) -> str:
    return _SPACE.sub(" ", query).strip()[:HEAD]


def summarise(rounds: Iterable[Sequence[Sample]], match: str | None = None) -> Summary:
    """Count each round's sessions by wait and statement; `match` keeps statements with it."""
    counts: Counter[tuple[str, str]] = Counter()
    samples = 0
    for found in rounds:
        samples += 1
        for sample in found:
            if match is not None and match not in sample.query:
                continue
            counts[(wait_name(sample), head_of(sample.query))] += 1
    return Summary(samples=samples, counts=counts)


async def sample(url: str, seconds: float, interval: float) -> list[list[Sample]]:
    import asyncpg  # the services' driver; loaded only when sampling

    connection = await asyncpg.connect(url)
    rounds: list[list[Sample]] = []
    try:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            rows = await connection.fetch(QUERY)
            rounds.append([Sample(r["wait_event_type"], r["wait_event"], r["query"]) for r in rows])
            await asyncio.sleep(interval)
    finally:
        await connection.close()
    return rounds


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.waits", description=__doc__)
    parser.add_argument("--db", default="postgresql://postgres@127.0.0.1:5432/bench")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--interval", type=float, default=0.02)
    parser.add_argument("--match", default=None, help="keep statements containing this text")
    parser.add_argument("--top", type=int, default=20)
    args = parser.parse_args(argv)
    if not args.db.startswith("postgresql://postgres@127.0.0.1"):
        raise SystemExit("--db must be a PostgreSQL database on 127.0.0.1")
    if not 0 < args.seconds <= 3600 or not 0.005 <= args.interval <= 10:
        raise SystemExit("--seconds must be in (0, 3600] and --interval in [0.005, 10]")
    rounds = asyncio.run(sample(args.db, args.seconds, args.interval))
    for line in summarise(rounds, args.match).lines(args.top):
        sys.stdout.write(line + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
