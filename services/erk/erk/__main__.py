"""`python -m erk`: migrate, create accounts, seed demo data, verify the audit chain."""

from __future__ import annotations

import sys

from erk import demo
from erk.main import build_spec
from shared.cli import run_cli

if __name__ == "__main__":
    sys.exit(
        run_cli(
            build_spec,
            seeder=demo.seed,
        )
    )
