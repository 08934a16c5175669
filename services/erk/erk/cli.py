"""e-RK's command line: `python -m erk` (migrate, accounts, demo data, audit chain checks).

The commands are the shared ones of every service (`shared.cli`); e-RK seeds its demo data and
has no commands of its own yet: add them to `EXTRA_COMMANDS`.
"""

from __future__ import annotations

from erk import demo
from erk.main import build_spec
from shared.cli import ExtraCommand, run_cli

EXTRA_COMMANDS: tuple[ExtraCommand, ...] = ()


def main() -> int:
    return run_cli(build_spec, seeder=demo.seed, extra=EXTRA_COMMANDS)
