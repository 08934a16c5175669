"""Every stylesheet, script and icon a template links is versioned through `asset()`, so the
browser caches it for a year and fetches it again only when the file changes."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
UNVERSIONED = re.compile(r"""(?:href|src)=["']\{\{\s*root\s*\}\}/static/""")


def test_templates_link_static_files_by_version() -> None:
    templates = [
        *ROOT.glob("services/*/*/templates/**/*.html"),
        *ROOT.glob("shared/templates/**/*.html"),
    ]
    assert templates
    unversioned = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in templates
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if UNVERSIONED.search(line)
    ]
    assert unversioned == []
