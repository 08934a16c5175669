"""`python -m erk`: the command line in `erk.cli`."""

from __future__ import annotations

import sys

from erk.cli import main

if __name__ == "__main__":
    sys.exit(main())
