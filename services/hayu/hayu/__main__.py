"""`python -m hayu`: migrate, create accounts, seed demo data, import reference lists, audit."""

from __future__ import annotations

import sys

from hayu import demo
from hayu.cli import EXTRA_COMMANDS
from hayu.main import build_spec
from shared.cli import run_cli

if __name__ == "__main__":
    sys.exit(run_cli(build_spec, seeder=demo.seed, extra=EXTRA_COMMANDS))
