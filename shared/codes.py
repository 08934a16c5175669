"""Public tracking codes and templated official document numbers.

Tracking codes (``HY-7K3M-9QX2-T4A``) are what a citizen reads out on the phone or types from a
receipt to follow a proposal or permit, so they must be unguessable, short and typo-proof:

* 10 random Crockford base32 characters (50 bits from ``secrets``), an alphabet without
  I, L, O and U so that no two symbols look alike;
* one check symbol, Crockford's mod-37 check over the numeric value, which catches every
  single substitution and every adjacent transposition (37 is prime and larger than the base);
* an optional letters-only prefix naming the service, outside the check.

Official numbers (``00042/3273/DPMPTSP/IV/2026``) differ per regency, so they are rendered from
a ``str.format``-style template held in tenant settings.
"""

from __future__ import annotations

import re
import secrets
import string
from datetime import date

__all__ = [
    "is_valid_tracking_code",
    "new_tracking_code",
    "normalize_tracking_code",
    "render_number_template",
]

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_CHECK_ALPHABET = _ALPHABET + "*~$=U"
_VALUES = {symbol: index for index, symbol in enumerate(_CHECK_ALPHABET)}
# Decoding aliases from the Crockford spec, for what people misread or mistype.
_ALIASES = str.maketrans({"O": "0", "I": "1", "L": "1"})
_RANDOM_LENGTH = 10
_BODY_LENGTH = _RANDOM_LENGTH + 1
_PREFIX = re.compile(r"[A-Z]{1,10}")


def _check_symbol(value: int) -> str:
    return _CHECK_ALPHABET[value % 37]


def _format(prefix: str, body: str) -> str:
    groups = "-".join(body[i : i + 4] for i in range(0, len(body), 4))
    return f"{prefix}-{groups}" if prefix else groups


def _normalize_prefix(prefix: str) -> str:
    prefix = prefix.strip().upper()
    if prefix and not _PREFIX.fullmatch(prefix):
        raise ValueError("tracking code prefix must be 1-10 letters A-Z")
    return prefix


def new_tracking_code(prefix: str = "") -> str:
    """A fresh random code such as ``HY-7K3M-9QX2-T4A`` (or ``7K3M-9QX2-T4A`` without prefix)."""
    prefix = _normalize_prefix(prefix)
    value = secrets.randbits(5 * _RANDOM_LENGTH)
    symbols = []
    for _ in range(_RANDOM_LENGTH):
        value, digit = divmod(value, 32)
        symbols.append(_ALPHABET[digit])
    body = "".join(reversed(symbols))
    return _format(prefix, body + _check_symbol(_decode(body)))


def _decode(symbols: str) -> int:
    value = 0
    for symbol in symbols:
        value = value * 32 + _VALUES[symbol]
    return value


def normalize_tracking_code(text: str, *, prefix: str | None = None) -> str:
    """Return the canonical form of a typed tracking code, or raise ``ValueError``.

    Case, spaces and dashes are ignored and O, I, L are read as 0, 1, 1 in the random part.
    The last 11 characters are the code proper; any letters before them are the prefix. The
    check symbol is verified, so the result is always a code that :func:`new_tracking_code`
    could have produced. With ``prefix`` given, the code must carry exactly that prefix.
    """
    if not isinstance(text, str):
        raise ValueError("tracking code must be a string")
    compact = re.sub(r"[\s\-]", "", text).upper()
    if len(compact) < _BODY_LENGTH or not compact.isascii():
        raise ValueError("tracking code is too short")
    found_prefix = _normalize_prefix(compact[:-_BODY_LENGTH])
    if prefix is not None and found_prefix != _normalize_prefix(prefix):
        raise ValueError(f"tracking code must start with {prefix.upper()!r}")
    body = compact[-_BODY_LENGTH:].translate(_ALIASES)
    data, check = body[:-1], body[-1]
    if any(symbol not in _ALPHABET for symbol in data) or check not in _VALUES:
        raise ValueError("tracking code contains characters that are not allowed")
    if _check_symbol(_decode(data)) != check:
        raise ValueError("tracking code check symbol does not match; is there a typo?")
    return _format(found_prefix, body)


def is_valid_tracking_code(text: str, *, prefix: str | None = None) -> bool:
    """True when ``text`` normalises to a well-formed code whose check symbol matches."""
    try:
        normalize_tracking_code(text, prefix=prefix)
    except ValueError:
        return False
    return True


# --- Official numbers -----------------------------------------------------------------------

_ROMAN_MONTHS = ("I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII")
_FORMATTER = string.Formatter()


def render_number_template(template: str, *, seq: int, when: date, **fields: object) -> str:
    """Render an official number such as ``{seq:05d}/{code}/DPMPTSP/{roman_month}/{year}``.

    Built-in fields: ``seq``, ``year``, ``month``, ``roman_month`` (I-XII) and ``day``, all
    from ``when``; callers add their own (``code=...``). Templates come from tenant settings,
    so only plain names are allowed: attribute or index access (``{code.__class__}``) and
    positional fields are refused, and an unknown name raises ``ValueError`` naming it.
    """
    if isinstance(seq, bool) or not isinstance(seq, int) or seq < 0:
        raise ValueError("seq must be a non-negative int")
    values: dict[str, object] = {
        "seq": seq,
        "year": when.year,
        "month": when.month,
        "roman_month": _ROMAN_MONTHS[when.month - 1],
        "day": when.day,
    }
    clash = sorted(set(fields) & set(values))
    if clash:
        raise ValueError(f"fields {clash} are built in and cannot be overridden")
    values.update(fields)
    try:
        parsed = list(_FORMATTER.parse(template))
    except ValueError as exc:
        raise ValueError(f"malformed number template {template!r}: {exc}") from None
    for _literal, name, spec, _conversion in parsed:
        if name is None:
            continue
        if not name.isidentifier():
            raise ValueError(f"template field {name!r} must be a plain name")
        if name not in values:
            raise ValueError(f"unknown template field {name!r}")
        if spec and "{" in spec:
            raise ValueError(f"template field {name!r} has a nested format spec")
    return template.format_map(values)
