"""Make `hayu_factories` importable: in importlib mode test folders are not on sys.path."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
