from decimal import Decimal

import pytest

from shared.money import format_rupiah, parse_rupiah, terbilang


@pytest.mark.parametrize(
    ("amount", "text"),
    [
        (0, "Rp0"),
        (999, "Rp999"),
        (1000, "Rp1.000"),
        (1_500_000, "Rp1.500.000"),
        (2_000_000_000, "Rp2.000.000.000"),
        (-1500, "-Rp1.500"),
    ],
)
def test_format_rupiah(amount, text):
    assert format_rupiah(amount) == text


@pytest.mark.parametrize("bad", [1.5, 1500.0, True, False, Decimal("1500"), "1500"])
def test_format_and_terbilang_refuse_non_int(bad):
    with pytest.raises(TypeError):
        format_rupiah(bad)
    with pytest.raises(TypeError):
        terbilang(bad)


@pytest.mark.parametrize(
    ("amount", "words"),
    [
        (0, "nol rupiah"),
        (1, "satu rupiah"),
        (11, "sebelas rupiah"),
        (100, "seratus rupiah"),
        (1000, "seribu rupiah"),
        (1100, "seribu seratus rupiah"),
        (201_000, "dua ratus satu ribu rupiah"),
        (1_001_000, "satu juta seribu rupiah"),
        (1_500_000, "satu juta lima ratus ribu rupiah"),
        (1_000_001_000, "satu miliar seribu rupiah"),
        (2_000_000_000, "dua miliar rupiah"),
        (-5000, "minus lima ribu rupiah"),
    ],
)
def test_terbilang(amount, words):
    assert terbilang(amount) == words


def test_terbilang_is_clean_for_many_amounts():
    for amount in [*range(0, 3000, 7), *range(1_000_000, 1_010_000, 997), 10**12 + 1001]:
        words = terbilang(amount)
        assert words == " ".join(words.split())
        assert words.endswith(" rupiah")
        assert "satu ratus" not in words
        assert not words.startswith("satu ribu")
        assert "juta satu ribu" not in words


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("Rp1.500.000", 1_500_000),
        ("Rp 1.500.000", 1_500_000),
        ("Rp. 1.500.000,-", 1_500_000),
        ("rp1.500.000,00", 1_500_000),
        ("1500000", 1_500_000),
        ("1.500.000", 1_500_000),
        (" 1.500 ", 1500),
        ("999", 999),
        ("0", 0),
        ("-Rp1.500", -1500),
    ],
)
def test_parse_rupiah(text, amount):
    assert parse_rupiah(text) == amount


@pytest.mark.parametrize(
    "text",
    [
        "",
        "Rp",
        "abc",
        "1.500.000,50",
        "1,5",
        "1,500,000",
        "1.50.000",
        "1.5",
        "1.500.000.",
        "1 500 000",
        "Rp-1.500",
        "١٥٠٠",  # Arabic-Indic digits
    ],
)
def test_parse_rupiah_rejects(text):
    with pytest.raises(ValueError, match="rupiah"):
        parse_rupiah(text)


def test_parse_rupiah_refuses_non_str():
    with pytest.raises(TypeError):
        parse_rupiah(1500)  # type: ignore[arg-type]


@pytest.mark.parametrize("amount", [0, 7, 1000, 123_456_789, -42_000])
def test_parse_inverts_format(amount):
    assert parse_rupiah(format_rupiah(amount)) == amount
