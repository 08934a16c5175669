"""Where a server's time goes: a summary of py-spy's collapsed stacks (`--format raw`).

`python -m bench run --profile 16` records, beside each flame graph (`profiles/*.svg`), the same
samples as collapsed stacks (`*.folded`) and writes `*.top.txt` from them with this module: the
samples per package of the innermost frame (self time), the busiest innermost frames, and the
inclusive share of every first-party function (`shared/`, the services), each counted once per
stack. py-spy samples only threads that are running, so a request waiting for PostgreSQL (a row
lock, a commit's fsync) does not show here: compare with the database's wait events.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

FIRST_PARTY = re.compile(r"\((?:shared|sabilulungan|hayu|erk|bench)/")
_FILE = re.compile(r"\(([^():]+?)(?:\.py)?:\d+\)$")


def _package(frame: str) -> str:
    match = _FILE.search(frame)
    if match is None:
        return frame.split(" ", 1)[0]
    path = match.group(1)
    return path.split("/", 1)[0] if "/" in path else path


def read_folded(path: Path) -> list[tuple[list[str], int]]:
    stacks = []
    for line in path.read_text(errors="replace").splitlines():
        head, _, count = line.rpartition(" ")
        if head and count.isdigit():
            stacks.append((head.split(";"), int(count)))
    return stacks


def summarize(path: Path, top: int = 25) -> str:
    """The text summary of one `.folded` file."""
    stacks = read_folded(path)
    total = sum(n for _, n in stacks)
    if not total:
        return f"{path.name}: no samples\n"
    packages: Counter[str] = Counter()
    innermost: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    for frames, n in stacks:
        packages[_package(frames[-1])] += n
        innermost[frames[-1]] += n
        for frame in set(frames):
            if FIRST_PARTY.search(frame):
                inclusive[frame] += n

    def pct(n: int) -> str:
        return f"{100 * n / total:5.1f} %"

    lines = [f"{path.name}: {total} samples (running threads only)", "", "self time by package:"]
    lines += [f"  {pct(n)}  {name}" for name, n in packages.most_common(top)]
    lines += ["", "busiest innermost frames:"]
    lines += [f"  {pct(n)}  {name}" for name, n in innermost.most_common(top)]
    lines += ["", "first-party functions, inclusive:"]
    lines += [f"  {pct(n)}  {name}" for name, n in inclusive.most_common(top * 2)]
    return "\n".join(lines) + "\n"
