import csv
from datetime import date
from pathlib import Path

import pytest
from pydantic import BaseModel, ValidationError

from shared.validators import (
    KBLI,
    KBLI_CATEGORY_BY_DIVISION,
    NIK,
    NIP,
    NPWP,
    PROVINCE_CODES,
    KodeWilayah,
    PhoneNumber,
    format_npwp15,
    kbli_category,
    mask,
    nik_birth_date,
    nik_sex,
    validate_kbli,
    validate_kode_wilayah,
    validate_nik,
    validate_nip,
    validate_npwp,
    validate_phone,
    wilayah_level,
)

DATA = Path(__file__).resolve().parents[3] / "shared" / "data"

# Woman born 1990-05-12 (day 12 + 40 = 52), Kota Bandung (32.73), kecamatan 01, sequence 0001.
NIK_WOMAN = "3273015205900001"
NIK_MAN = "3273011205900001"


def _data_file(name: str) -> Path:
    path = DATA / name
    if not path.is_file():
        pytest.skip("reference data ../shared/data not present")
    return path


# --- NIK --------------------------------------------------------------------------------------


def test_nik_valid_woman_and_man():
    assert validate_nik(NIK_WOMAN) == NIK_WOMAN
    assert nik_sex(NIK_WOMAN) == "P"
    assert nik_birth_date(NIK_WOMAN, date(2026, 1, 1)) == date(1990, 5, 12)
    assert nik_sex(NIK_MAN) == "L"
    assert nik_birth_date(NIK_MAN, date(2026, 1, 1)) == date(1990, 5, 12)


def test_nik_spaces_are_removed():
    assert validate_nik(" 3273 0152 0590 0001 ") == NIK_WOMAN


@pytest.mark.parametrize(
    ("nik", "reason"),
    [
        ("327301520590001", "16 digits"),
        ("32730152059000011", "16 digits"),
        ("32730152059O0001", "16 digits"),
        ("２２７３０１５２０５９００００１", "16 digits"),  # full-width digits
        ("2073015205900001", "province"),
        ("9773015205900001", "province"),
        ("0073015205900001", "province"),
        ("3200015205900001", "kabupaten"),
        ("3273005205900001", "kecamatan"),
        ("3273010005900001", "day"),
        ("3273013205900001", "day"),
        ("3273014005900001", "day"),
        ("3273017205900001", "day"),
        ("3273011200900001", "month"),
        ("3273011213900001", "month"),
        ("3273013102900001", "calendar"),  # 31 Feb
        ("3273017104900001", "calendar"),  # woman, 31 Apr
        ("3273012902010001", "calendar"),  # 29 Feb in 1901 and 2001
        ("3273015205900000", "0000"),
    ],
)
def test_nik_invalid(nik, reason):
    with pytest.raises(ValueError, match=reason):
        validate_nik(nik)


def test_nik_feb_29_needs_a_leap_year_in_either_century():
    # 29 Feb 00: 1900 is not a leap year but 2000 is.
    assert validate_nik("3273016902000001") == "3273016902000001"
    assert nik_birth_date("3273016902000001", date(2026, 1, 1)) == date(2000, 2, 29)
    assert validate_nik("3273012902960001")


def test_nik_birth_date_picks_the_latest_century_not_in_the_future():
    assert nik_birth_date("3273011005100001", date(2026, 1, 1)) == date(2010, 5, 10)
    assert nik_birth_date("3273011005300001", date(2026, 1, 1)) == date(1930, 5, 10)
    # Born on 1 Jan 26: on 31 Dec 2025 that must be 1926.
    assert nik_birth_date("3273010101260001", date(2025, 12, 31)) == date(1926, 1, 1)
    assert nik_birth_date("3273010101260001", date(2026, 1, 1)) == date(2026, 1, 1)


def test_nik_helpers_validate_first():
    with pytest.raises(ValueError, match="NIK must be exactly 16 digits"):
        nik_sex("1234")
    with pytest.raises(ValueError, match="province"):
        nik_birth_date("2073015205900001", date(2026, 1, 1))


def test_non_string_input_is_a_value_error():
    with pytest.raises(ValueError, match="NIK must be a string"):
        validate_nik(3273015205900001)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="phone number must be a string"):
        validate_phone(None)  # type: ignore[arg-type]


def test_province_codes_match_reference_data():
    with _data_file("wilayah_provinsi.csv").open(encoding="utf-8") as handle:
        codes = {row["code"] for row in csv.DictReader(handle)}
    assert codes == PROVINCE_CODES
    assert len(PROVINCE_CODES) == 38


# --- NIP --------------------------------------------------------------------------------------


def test_nip_valid_and_spaces_removed():
    assert validate_nip("19850101 201001 1 001") == "198501012010011001"
    assert validate_nip("198501012010012999") == "198501012010012999"


def test_nip_pppk_number_accepted():
    # NI PPPK: "2" plus an intake-round digit where PNS numbers have the appointment month.
    assert validate_nip("200012312024211001", today=date(2026, 1, 1)) == "200012312024211001"


@pytest.mark.parametrize(
    ("nip", "reason"),
    [
        ("19850101201001100", "18 digits"),
        ("1985010120100110011", "18 digits"),
        ("19850101201001100A", "18 digits"),
        ("198513012010011001", "birth date"),
        ("198502302010011001", "birth date"),
        ("193912312010011001", "birth year"),
        ("202701012045011001", "birth year"),
        ("198501012010131001", "month"),
        ("198501012010001001", "month"),
        ("198501012024201001", "month"),
        ("198501012024301001", "month"),
        ("198501011999011001", "15 years"),
        ("198501012028011001", "future"),
        ("198501012010013001", "sex digit"),
        ("198501012010010001", "sex digit"),
        ("198501012010011000", "000"),
    ],
)
def test_nip_invalid(nip, reason):
    with pytest.raises(ValueError, match=reason):
        validate_nip(nip, today=date(2026, 6, 1))


def test_nip_appointment_may_be_next_year():
    assert validate_nip("199001012027011001", today=date(2026, 12, 1))


# --- NPWP -------------------------------------------------------------------------------------


def test_npwp_old_format_with_punctuation():
    assert validate_npwp("01.234.567.8-901.000") == "012345678901000"
    assert validate_npwp("012345678901000") == "012345678901000"


def test_npwp_16_digit_forms():
    assert validate_npwp(NIK_WOMAN) == NIK_WOMAN
    assert validate_npwp("0012345678901000") == "0012345678901000"


@pytest.mark.parametrize(
    "npwp",
    [
        "01.234.567.8-901.00",
        "01234567890100012",
        "01.234.567.8-901.00A",
        "000000000000000",
        "9912345678901000",  # 16 digits, no leading 0, not a NIK
        "01/234/567/8/901/000",
    ],
)
def test_npwp_invalid(npwp):
    with pytest.raises(ValueError, match="NPWP"):
        validate_npwp(npwp)


def test_format_npwp15():
    assert format_npwp15("012345678901000") == "01.234.567.8-901.000"
    assert format_npwp15("01.234.567.8-901.000") == "01.234.567.8-901.000"
    with pytest.raises(ValueError, match="15-digit NPWP"):
        format_npwp15(NIK_WOMAN)


# --- Phone ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("081234567890", "+6281234567890"),
        ("0812-3456-7890", "+6281234567890"),
        ("0812 3456 789", "+628123456789"),
        ("6281234567890", "+6281234567890"),
        ("+62 812-3456-7890", "+6281234567890"),
        ("0812123456789", "+62812123456789"),  # 8 + 11 digits, the longest
        ("08123456789", "+628123456789"),  # 8 + 9 digits
        ("0812345678", "+62812345678"),  # 8 + 8 digits, the shortest
        ("022-1234567", "+62221234567"),
        ("(022) 1234567", "+62221234567"),
        ("021 12345678", "+622112345678"),
        ("0751-123456", "+62751123456"),
    ],
)
def test_phone_valid(raw, expected):
    assert validate_phone(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "0812",
        "0812345",  # mobile with too few digits
        "08123456789012",  # mobile with too many digits
        "8123456789",  # no trunk or country prefix
        "+1 555 123 4567",
        "+62 0812 3456 7890",
        "0812-3456-78a0",
        "0812.3456.7890",
        "0123456789",  # area codes never start with 1
        "022-1234",
    ],
)
def test_phone_invalid(raw):
    with pytest.raises(ValueError, match="phone number"):
        validate_phone(raw)


# --- Kode wilayah -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "level"),
    [
        ("32", "provinsi"),
        ("32.73", "kabkota"),
        (" 32.73.01 ", "kecamatan"),
        ("32.73.01.1001", "desa"),
        ("96.71", "kabkota"),
    ],
)
def test_kode_wilayah_valid(code, level):
    assert validate_kode_wilayah(code) == code.strip()
    assert wilayah_level(code) == level


@pytest.mark.parametrize(
    "code",
    ["3273", "32.7", "32.73.1", "32.73.01.100", "32.73.01.10011", "99.01", "20", "32.00",
     "32.73.00", "32.73.01.0000", "32-73", "32.73.", ".32"],
)  # fmt: skip
def test_kode_wilayah_invalid(code):
    with pytest.raises(ValueError, match="kode wilayah"):
        validate_kode_wilayah(code)


# --- KBLI -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "category"),
    [("01111", "A"), ("47111", "G"), ("35101", "D"), ("84111", "O"), ("99000", "U")],
)
def test_kbli_valid(code, category):
    assert validate_kbli(code) == code
    assert kbli_category(code) == category


@pytest.mark.parametrize("code", ["1111", "011111", "A1111", "04111", "34111", "40111", "00000"])
def test_kbli_invalid(code):
    with pytest.raises(ValueError, match="KBLI"):
        validate_kbli(code)


def test_kbli_category_accepts_higher_levels():
    assert kbli_category("01") == "A"
    assert kbli_category("622") == "J"
    assert kbli_category("9609") == "S"
    with pytest.raises(ValueError, match="2 to 5 digits"):
        kbli_category("1")
    with pytest.raises(ValueError, match="not a KBLI 2020 division"):
        kbli_category("04")


def test_kbli_divisions_match_reference_data():
    with _data_file("kbli2020.csv").open(encoding="utf-8") as handle:
        pairs = {(row["golongan_pokok"], row["category"]) for row in csv.DictReader(handle)}
    assert dict(pairs) == KBLI_CATEGORY_BY_DIVISION
    assert len(KBLI_CATEGORY_BY_DIVISION) == 88


# --- mask -------------------------------------------------------------------------------------


def test_mask():
    assert mask(NIK_WOMAN) == "************0001"
    assert mask("1234567890", visible=2) == "********90"
    assert mask("1234567890", visible=0) == "**********"
    assert mask("123", visible=4) == "***"
    assert mask("") == ""
    with pytest.raises(ValueError, match="visible"):
        mask("123", visible=-1)


# --- pydantic types ---------------------------------------------------------------------------


class Applicant(BaseModel):
    nik: NIK
    nip: NIP | None = None
    npwp: NPWP | None = None
    phone: PhoneNumber | None = None
    wilayah: KodeWilayah | None = None
    kbli: KBLI | None = None


def test_annotated_types_normalise():
    applicant = Applicant(
        nik="3273 0152 0590 0001",
        nip="19850101 201001 1 001",
        npwp="01.234.567.8-901.000",
        phone="0812-3456-7890",
        wilayah="32.73.01",
        kbli="47111",
    )
    assert applicant.nik == NIK_WOMAN
    assert applicant.nip == "198501012010011001"
    assert applicant.npwp == "012345678901000"
    assert applicant.phone == "+6281234567890"
    assert applicant.wilayah == "32.73.01"


@pytest.mark.parametrize(
    "fields",
    [
        {"nik": "2073015205900001"},
        {"nik": NIK_WOMAN, "nip": "198513012010011001"},
        {"nik": NIK_WOMAN, "npwp": "123"},
        {"nik": NIK_WOMAN, "phone": "12345"},
        {"nik": NIK_WOMAN, "wilayah": "3273"},
        {"nik": NIK_WOMAN, "kbli": "04111"},
    ],
)
def test_annotated_types_reject(fields):
    with pytest.raises(ValidationError):
        Applicant(**fields)
