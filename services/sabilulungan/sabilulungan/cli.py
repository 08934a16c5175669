"""Sabilulungan's command line: `python -m sabilulungan <command>`.

The common commands (migrate, create-account, seed-demo, audit verification, …) come from
`shared.cli`; the demo seeder is this service's. Sabilulungan has no commands of its own yet:
`EXTRA_COMMANDS` is where they go (see `hayu.cli` for the shape).
"""

from __future__ import annotations

from collections.abc import Sequence

from sabilulungan import demo
from sabilulungan.main import build_spec
from shared.cli import ExtraCommand, run_cli

EXTRA_COMMANDS: tuple[ExtraCommand, ...] = ()


def main(argv: Sequence[str] | None = None) -> int:
    return run_cli(build_spec, seeder=demo.seed, extra=EXTRA_COMMANDS, argv=argv)
