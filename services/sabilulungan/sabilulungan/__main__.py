"""`python -m sabilulungan`: migrate, create accounts, seed demo data, verify the audit chain."""

from __future__ import annotations

import sys

from sabilulungan.cli import main

if __name__ == "__main__":
    sys.exit(main())
