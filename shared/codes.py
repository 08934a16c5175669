"""Public tracking codes and templated official document numbers.

Tracking codes (``HY-7K3M-9QX2-T4A``) are what a citizen reads out on the phone or types from a
receipt to follow a proposal or permit, so they must be unguessable, short and typo-proof:

* 10 random Crockford base32 characters (50 bits from ``secrets``), an alphabet without
  I, L, O and U so that no two symbols look alike;
* one check symbol from the same 32 letters and digits: the Damm check over GF(32)
  (the quasigroup ``x * y = 2x + y``, totally anti-symmetric), which catches every single
  substitution and every adjacent transposition. Codes issued before used Crockford's mod-37
  check, whose extra symbols ``* ~ $ = U`` people misread (``$`` as ``S``); they stay valid;
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


def _legacy_check_symbol(value: int) -> str:
    """Crockford's mod-37 check symbol, used by codes issued before the Damm check."""
    return _CHECK_ALPHABET[value % 37]


def _gf32_double(x: int) -> int:
    """x times the generator 2 in GF(2^5) modulo x^5 + x^2 + 1."""
    x <<= 1
    return x ^ 0b100101 if x & 0b100000 else x


def _damm_interim(symbols: str) -> int:
    interim = 0
    for symbol in symbols:
        interim = _gf32_double(interim) ^ _VALUES[symbol]
    return interim


def _check_symbol(symbols: str) -> str:
    """The Damm check symbol: appended to `symbols`, the interim value becomes 0."""
    return _ALPHABET[_gf32_double(_damm_interim(symbols))]


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
    return _format(prefix, body + _check_symbol(body))


def _decode(symbols: str) -> int:
    value = 0
    for symbol in symbols:
        value = value * 32 + _VALUES[symbol]
    return value


def normalize_tracking_code(text: str, *, prefix: str | None = None, legacy: bool = True) -> str:
    """Return the canonical form of a typed tracking code, or raise ``ValueError``.

    Case, spaces and dashes are ignored and O, I, L are read as 0, 1, 1 in the random part.
    The last 11 characters are the code proper; any letters before them are the prefix. The
    check symbol is verified, so the result is always a code that :func:`new_tracking_code`
    could have produced. With ``prefix`` given, the code must carry exactly that prefix.
    With ``legacy`` (the default) a code issued with the former mod-37 check symbol is also
    accepted: older receipts keep working, at the price of letting about one typo in 37 through
    to the lookup (which then finds nothing). ``legacy=False`` detects every single substitution
    and adjacent transposition.
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
    valid = _check_symbol(data) == check
    if not valid and legacy:
        valid = _legacy_check_symbol(_decode(data)) == check
    if not valid:
        raise ValueError("tracking code check symbol does not match; is there a typo?")
    return _format(found_prefix, body)


def is_valid_tracking_code(text: str, *, prefix: str | None = None, legacy: bool = True) -> bool:
    """True when ``text`` normalises to a well-formed code whose check symbol matches."""
    try:
        normalize_tracking_code(text, prefix=prefix, legacy=legacy)
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
