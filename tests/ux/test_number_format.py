"""Numbers on pages are written the Indonesian way: a decimal comma and a thousands dot
("2,85 %", "6.300 menit"), never "2.85 %" beside "2,85 %"."""

from __future__ import annotations

import re
from pathlib import Path

from shared.web import bilangan, persen

ROOT = Path(__file__).resolve().parents[2]


def test_counts_take_a_thousands_dot() -> None:
    assert bilangan(6300) == "6.300"
    assert bilangan(1_234_567) == "1.234.567"
    assert bilangan(450) == "450"
    assert bilangan(None) == "—"


def test_percentages_take_a_decimal_comma() -> None:
    assert persen(2.85) == "2,85 %"
    assert persen(100) == "100,00 %"
    assert persen(1234.5) == "1.234,50 %"
    assert persen(None) == "—"


def test_templates_print_numbers_through_the_filters() -> None:
    """A template that formats a number itself ("%.2f" | format) prints a decimal point."""
    templates = [
        *ROOT.glob("services/*/*/templates/**/*.html"),
        *ROOT.glob("shared/templates/**/*.html"),
    ]
    own = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in templates
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if re.search(r'"%\.\d?f"\s*\|\s*format', line)
    ]
    assert own == []
    month = (ROOT / "services/erk/erk/templates/month.html").read_text()
    assert "totals.approved | bilangan" in month


def test_decimals_take_a_comma() -> None:
    from shared.web import desimal

    assert desimal(2.5, 1) == "2,5"
    assert desimal(12345.678, 1) == "12.345,7"
