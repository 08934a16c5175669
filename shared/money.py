"""Rupiah amounts: display (``Rp1.500.000``), words for official documents (terbilang), parsing.

Rupiah has no minor unit in practice, so amounts are always ``int``. Floats are refused
outright: a hibah of Rp1.234.567.890 must not drift by a rupiah through binary rounding.
``bool`` is refused too, although it is an ``int`` subclass, because ``True`` as an amount is
always a bug.
"""

from __future__ import annotations

import re

__all__ = ["format_rupiah", "parse_rupiah", "terbilang"]


def _require_int(amount: object) -> int:
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise TypeError(f"rupiah amounts must be int, not {type(amount).__name__}")
    return amount


def format_rupiah(amount: int) -> str:
    """``1500000`` → ``"Rp1.500.000"``; ``-1500`` → ``"-Rp1.500"``."""
    amount = _require_int(amount)
    sign = "-" if amount < 0 else ""
    return f"{sign}Rp{abs(amount):,}".replace(",", ".")


# num2words writes "satu ribu" when a thousands group of exactly one follows a larger unit
# ("satu juta satu ribu"); Indonesian says "seribu" there, as it does on its own. A "satu ribu"
# after "ratus"/"puluh" (e.g. "dua ratus satu ribu" = 201.000) is correct and left alone.
_SATU_RIBU = re.compile(r"(^|\b(?:juta|miliar|triliun|kuadriliun|kuantiliun) )satu ribu\b")


def terbilang(amount: int) -> str:
    """Amount in Indonesian words as written on kuitansi and NPHD, e.g. 1500000 →
    ``"satu juta lima ratus ribu rupiah"``. Negative amounts start with ``"minus"``."""
    amount = _require_int(amount)
    try:
        from num2words import num2words  # imported on first use: it loads every language

        words = str(num2words(abs(amount), lang="id"))
    except (OverflowError, NotImplementedError) as exc:
        raise ValueError(f"amount too large to write in words: {amount}") from exc
    words = " ".join(words.lower().split())
    words = _SATU_RIBU.sub(r"\1seribu", words)
    prefix = "minus " if amount < 0 else ""
    return f"{prefix}{words} rupiah"


# Optional sign, optional "Rp"/"Rp." and space, then either plain digits or dot-grouped
# thousands, then an optional decimal-comma part (",00") or the ",-" that Indonesian
# documents write after whole amounts.
_RUPIAH = re.compile(
    r"(?P<sign>-)?\s*(?:rp\.?\s*)?"
    r"(?P<int>\d+|\d{1,3}(?:\.\d{3})+)"
    r"(?:,(?P<frac>\d+|-))?",
    re.IGNORECASE,
)


def parse_rupiah(text: str) -> int:
    """Parse ``"Rp1.500.000"``, ``"1.500.000"``, ``"1500000"``, ``"Rp 1.500.000,00"`` or
    ``"1.500.000,-"`` to an int. Non-zero sen (``"1.500,50"``) and malformed grouping raise
    ``ValueError``."""
    if not isinstance(text, str):
        raise TypeError(f"parse_rupiah expects str, not {type(text).__name__}")
    match = _RUPIAH.fullmatch(text.strip())
    if match is None or not text.isascii():
        raise ValueError(f"not a rupiah amount: {text!r}")
    frac = match.group("frac")
    if frac is not None and frac != "-" and set(frac) != {"0"}:
        raise ValueError(f"rupiah amounts must be whole rupiah: {text!r}")
    value = int(match.group("int").replace(".", ""))
    return -value if match.group("sign") else value
