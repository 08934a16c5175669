import re
from datetime import date

import pytest

from shared.codes import (
    is_valid_tracking_code,
    new_tracking_code,
    normalize_tracking_code,
    render_number_template,
)

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CHECK_ALPHABET = ALPHABET + "*~$=U"


def crockford_check(symbols: str) -> str:
    """Independent implementation of Crockford's mod-37 check symbol."""
    value = 0
    for symbol in symbols:
        value = value * 32 + ALPHABET.index(symbol)
    return CHECK_ALPHABET[value % 37]


def test_new_code_shape():
    code = new_tracking_code("HY")
    assert re.fullmatch(
        r"HY-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{2}.", code
    )
    assert is_valid_tracking_code(code)
    assert re.fullmatch(r"[^-]{4}-[^-]{4}-[^-]{3}", new_tracking_code())


def damm_check(symbols: str) -> str:
    """Independent Damm check over GF(32) (x^5 + x^2 + 1), quasigroup x * y = 2x + y."""

    def times2(x: int) -> int:
        return ((x << 1) ^ 0b100101) if x & 0b10000 else x << 1

    interim = 0
    for symbol in symbols:
        interim = times2(interim) ^ ALPHABET.index(symbol)
    return ALPHABET[times2(interim)]


def test_new_code_check_symbol_is_damm_over_letters_and_digits_only():
    for _ in range(500):
        body = new_tracking_code().replace("-", "")
        assert body[-1] == damm_check(body[:-1])
        assert body[-1] in ALPHABET  # never * ~ $ = U, which people misread


def test_codes_with_the_former_mod37_check_stay_valid():
    for _ in range(200):
        data = new_tracking_code().replace("-", "")[:-1]
        old = data + crockford_check(data)
        assert is_valid_tracking_code("SB" + old)
        assert not is_valid_tracking_code("SB" + old, legacy=False) or old[-1] == damm_check(data)


def test_new_codes_are_unique_and_lowercase_prefix_is_uppercased():
    codes = {new_tracking_code("sl") for _ in range(2000)}
    assert len(codes) == 2000
    assert all(code.startswith("SL-") for code in codes)


@pytest.mark.parametrize("prefix", ["H-Y", "H1", "ABCDEFGHIJK", "É"])
def test_bad_prefix(prefix):
    with pytest.raises(ValueError, match="prefix"):
        new_tracking_code(prefix)


def test_known_check_symbols():
    # value 0 → "0"; 32 → "*"; 36 → "U" (the check-only symbols of the spec).
    assert normalize_tracking_code("0000-0000-000") == "0000-0000-000"
    assert normalize_tracking_code("0000-0000-10*") == "0000-0000-10*"
    assert normalize_tracking_code("0000-0000-14U") == "0000-0000-14U"
    assert not is_valid_tracking_code("0000-0000-141")


def test_normalize_forgives_case_spacing_and_lookalikes():
    code = "HY-0000-0000-14U"
    assert normalize_tracking_code("hy 0000 0000 14u") == code
    assert normalize_tracking_code("HYOOOO-oooo-i4u") == code
    assert normalize_tracking_code("hy-OOOO-OOOO-L4U") == code
    assert normalize_tracking_code("  hy00000000 14U ") == code


def test_prefix_is_optional_and_can_be_required():
    code = new_tracking_code("HY")
    bare = code.removeprefix("HY-")
    assert normalize_tracking_code(bare) == bare
    assert is_valid_tracking_code(code, prefix="hy")
    assert not is_valid_tracking_code(code, prefix="SL")
    assert not is_valid_tracking_code(bare, prefix="HY")
    assert is_valid_tracking_code(bare, prefix="")


def test_every_single_substitution_is_detected():
    code = new_tracking_code("HY")
    body = code.replace("-", "")[2:]
    for position in range(len(body)):
        for symbol in CHECK_ALPHABET:
            if symbol == body[position]:
                continue
            typo = body[:position] + symbol + body[position + 1 :]
            assert not is_valid_tracking_code("HY" + typo, legacy=False), (code, position, symbol)


def test_every_adjacent_transposition_is_detected():
    for _ in range(50):
        body = new_tracking_code().replace("-", "")
        for position in range(len(body) - 1):
            a, b = body[position], body[position + 1]
            if a == b:
                continue
            swapped = body[:position] + b + a + body[position + 2 :]
            assert not is_valid_tracking_code(swapped, legacy=False), (body, position)


@pytest.mark.parametrize(
    "text", ["", "HY", "HY-0000-0000-14", "HY-0000-0000-14U0", "1Y-0000-0000-14U", "00#0-0000-14U"]
)
def test_malformed_codes(text):
    assert not is_valid_tracking_code(text)
    with pytest.raises(ValueError, match="tracking code"):
        normalize_tracking_code(text)


def test_is_valid_never_raises_on_non_str():
    assert not is_valid_tracking_code(None)  # type: ignore[arg-type]


# --- Official numbers -------------------------------------------------------------------------


def test_render_number_template():
    number = render_number_template(
        "{seq:05d}/{code}/DPMPTSP/{roman_month}/{year}", seq=42, when=date(2026, 4, 3), code="3273"
    )
    assert number == "00042/3273/DPMPTSP/IV/2026"


def test_render_all_builtin_fields():
    text = render_number_template(
        "{day:02d}-{month:02d}-{year}#{seq}", seq=7, when=date(2026, 1, 5)
    )
    assert text == "05-01-2026#7"


ROMAN = ["I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII"]


@pytest.mark.parametrize(("month", "roman"), list(enumerate(ROMAN, start=1)))
def test_roman_months(month, roman):
    assert render_number_template("{roman_month}", seq=1, when=date(2026, month, 1)) == roman


def test_unknown_field_is_named():
    with pytest.raises(ValueError, match="kode_opd"):
        render_number_template("{seq}/{kode_opd}", seq=1, when=date(2026, 1, 1))


@pytest.mark.parametrize(
    ("template", "reason"),
    [
        ("{code.__class__}", "plain name"),
        ("{code[0]}", "plain name"),
        ("{}", "plain name"),
        ("{0}", "plain name"),
        ("{seq:{width}}", "nested"),
        ("{seq", "malformed"),
        ("seq}", "malformed"),
    ],
)
def test_unsafe_or_malformed_templates(template, reason):
    with pytest.raises(ValueError, match=reason):
        render_number_template(template, seq=1, when=date(2026, 1, 1), code="x", width=3)


def test_builtin_fields_cannot_be_overridden():
    with pytest.raises(ValueError, match="year"):
        render_number_template("{year}", seq=1, when=date(2026, 1, 1), year=1999)


@pytest.mark.parametrize("seq", [-1, True, 1.0])
def test_bad_seq(seq):
    with pytest.raises(ValueError, match="seq must be"):
        render_number_template("{seq}", seq=seq, when=date(2026, 1, 1))
