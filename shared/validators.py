"""Validators for Indonesian identifiers: NIK, NIP, NPWP, phone numbers, kode wilayah and KBLI.

Every ``validate_*`` function is pure: it returns the normalised value or raises ``ValueError``
with an English message that is safe to show to the person who typed the value. The
``Annotated`` aliases at the bottom (``NIK``, ``NIP`` …) let pydantic models and FastAPI
parameters reuse the same checks, so the three services agree on what a valid value is.

The checks are structural (shape, embedded dates, known province and KBLI codes). They cannot
tell whether a number was actually issued; only Dukcapil, BKN or DJP can.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Literal

from pydantic import AfterValidator

__all__ = [
    "KBLI",
    "KBLI_CATEGORY_BY_DIVISION",
    "NIK",
    "NIP",
    "NPWP",
    "PROVINCE_CODES",
    "KodeWilayah",
    "PhoneNumber",
    "format_npwp15",
    "kbli_category",
    "mask",
    "nik_birth_date",
    "nik_sex",
    "validate_kbli",
    "validate_kode_wilayah",
    "validate_nik",
    "validate_nip",
    "validate_npwp",
    "validate_phone",
    "wilayah_level",
]

# The 38 provinces of Kepmendagri 300.2.2-2138/2025 (shared/data/wilayah_provinsi.csv).
# Hardcoded because a province code changes only by statute (the last were the 2022 Papua
# splits: 93-96), and importing a CSV at start-up for 38 codes is not worth the coupling.
PROVINCE_CODES: frozenset[str] = frozenset(
    {
        "11", "12", "13", "14", "15", "16", "17", "18", "19", "21",
        "31", "32", "33", "34", "35", "36",
        "51", "52", "53",
        "61", "62", "63", "64", "65",
        "71", "72", "73", "74", "75", "76",
        "81", "82",
        "91", "92", "93", "94", "95", "96",
    }
)  # fmt: skip

# KBLI 2020 golongan pokok (2-digit division) → kategori letter, taken from the
# golongan_pokok and category columns of shared/data/kbli2020.csv (88 divisions, A-U).
_KBLI_RANGES: tuple[tuple[str, tuple[int, ...]], ...] = (
    ("A", (1, 2, 3)),
    ("B", (5, 6, 7, 8, 9)),
    ("C", tuple(range(10, 34))),
    ("D", (35,)),
    ("E", (36, 37, 38, 39)),
    ("F", (41, 42, 43)),
    ("G", (45, 46, 47)),
    ("H", (49, 50, 51, 52, 53)),
    ("I", (55, 56)),
    ("J", (58, 59, 60, 61, 62, 63)),
    ("K", (64, 65, 66)),
    ("L", (68,)),
    ("M", (69, 70, 71, 72, 73, 74, 75)),
    ("N", (77, 78, 79, 80, 81, 82)),
    ("O", (84,)),
    ("P", (85,)),
    ("Q", (86, 87, 88)),
    ("R", (90, 91, 92, 93)),
    ("S", (94, 95, 96)),
    ("T", (97, 98)),
    ("U", (99,)),
)
KBLI_CATEGORY_BY_DIVISION: dict[str, str] = {
    f"{division:02d}": letter for letter, divisions in _KBLI_RANGES for division in divisions
}

_DIGITS = re.compile(r"\d+")
_WHITESPACE = re.compile(r"\s+")


def _digits_only(value: str, what: str, length: int) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{what} must be a string of digits")
    if len(value) != length or not _DIGITS.fullmatch(value) or not value.isascii():
        raise ValueError(f"{what} must be exactly {length} digits")
    return value


def _check_province(code: str, what: str) -> None:
    if code not in PROVINCE_CODES:
        raise ValueError(f"{what} starts with {code!r}, which is not a known province code")


def _real_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


# --- NIK ------------------------------------------------------------------------------------


def _nik_date_parts(nik: str) -> tuple[int, int, int]:
    """Return (day without the +40 for women, month, two-digit year)."""
    return int(nik[6:8]) % 40, int(nik[8:10]), int(nik[10:12])


def validate_nik(value: str) -> str:
    """Check a 16-digit NIK (Nomor Induk Kependudukan) and return it without spaces.

    Layout: PPKKCC DDMMYY SSSS: kode wilayah of the issuing kecamatan, birth date with 40
    added to the day for women, and a sequence number.
    """
    if not isinstance(value, str):
        raise ValueError("NIK must be a string of digits")
    nik = _digits_only(_WHITESPACE.sub("", value), "NIK", 16)
    _check_province(nik[:2], "NIK")
    if nik[2:4] == "00" or nik[4:6] == "00":
        raise ValueError("NIK has an invalid kabupaten/kota or kecamatan code (00)")
    raw_day = int(nik[6:8])
    if not (1 <= raw_day <= 31 or 41 <= raw_day <= 71):
        raise ValueError("NIK birth day must be 01-31, or 41-71 for women")
    day, month, yy = _nik_date_parts(nik)
    if not 1 <= month <= 12:
        raise ValueError("NIK birth month must be 01-12")
    # Either century will do: the NIK itself does not say which one.
    if _real_date(1900 + yy, month, day) is None and _real_date(2000 + yy, month, day) is None:
        raise ValueError("NIK birth date is not a real calendar date")
    if nik[12:] == "0000":
        raise ValueError("NIK sequence number cannot be 0000")
    return nik


def nik_birth_date(nik: str, today: date) -> date:
    """Birth date encoded in a NIK: the latest date in 19YY/20YY that is not after ``today``."""
    nik = validate_nik(nik)
    day, month, yy = _nik_date_parts(nik)
    for year in (2000 + yy, 1900 + yy):
        born = _real_date(year, month, day)
        if born is not None and born <= today:
            return born
    raise ValueError("NIK birth date lies in the future")


def nik_sex(nik: str) -> Literal["L", "P"]:
    """Sex encoded in a NIK: 'P' (perempuan) when the day has 40 added, else 'L' (laki-laki)."""
    return "P" if int(validate_nik(nik)[6:8]) > 40 else "L"


# --- NIP ------------------------------------------------------------------------------------


def validate_nip(value: str, *, today: date | None = None) -> str:
    """Check an 18-digit NIP and return it as 18 digits (spaces in the input are removed).

    Layout: YYYYMMDD birth date, YYYYMM appointment (TMT CPNS), sex digit (1 male, 2 female)
    and a 3-digit sequence. NI PPPK numbers share the layout but carry ``2`` plus an
    intake-round digit (1-9) instead of the appointment month, e.g. ``200012312024211001``;
    they are accepted too because e-RK covers PPPK staff.
    """
    if not isinstance(value, str):
        raise ValueError("NIP must be a string of digits")
    nip = _digits_only(_WHITESPACE.sub("", value), "NIP", 18)
    current_year = (today or date.today()).year
    birth = _real_date(int(nip[0:4]), int(nip[4:6]), int(nip[6:8]))
    if birth is None:
        raise ValueError("NIP birth date (digits 1-8) is not a real calendar date")
    if not 1940 <= birth.year <= current_year:
        raise ValueError(f"NIP birth year must be between 1940 and {current_year}")
    appointed_year, appointed_month = int(nip[8:12]), int(nip[12:14])
    if not (1 <= appointed_month <= 12 or 21 <= appointed_month <= 29):
        raise ValueError("NIP appointment month (digits 13-14) must be 01-12, or 21-29 for PPPK")
    if appointed_year < birth.year + 15:
        raise ValueError("NIP appointment year must be at least 15 years after the birth year")
    # TMT can be set for the coming January while the number is issued in December.
    if appointed_year > current_year + 1:
        raise ValueError("NIP appointment year lies in the future")
    if nip[14] not in "12":
        raise ValueError("NIP sex digit (digit 15) must be 1 or 2")
    if nip[15:] == "000":
        raise ValueError("NIP sequence number cannot be 000")
    return nip


def _validate_nip_now(value: str) -> str:
    return validate_nip(value)


# --- NPWP -----------------------------------------------------------------------------------

_NPWP_SEPARATORS = re.compile(r"[\s.\-]")


def validate_npwp(value: str) -> str:
    """Check an NPWP and return its digits.

    Accepts the old 15-digit form (``01.234.567.8-901.000``; dots, dashes and spaces are
    ignored) and the 16-digit form of PMK 112/2022: a NIK for resident individuals, or
    ``0`` followed by the old 15 digits for companies, government bodies and non-residents.
    """
    if not isinstance(value, str):
        raise ValueError("NPWP must be a string of digits")
    digits = _NPWP_SEPARATORS.sub("", value)
    if not digits.isascii() or not digits.isdigit() or len(digits) not in (15, 16):
        raise ValueError("NPWP must have 15 digits (old format) or 16 digits (NIK-based)")
    if set(digits) == {"0"}:
        raise ValueError("NPWP cannot be all zeros")
    if len(digits) == 16 and not digits.startswith("0"):
        try:
            validate_nik(digits)
        except ValueError as exc:
            raise ValueError(
                f"16-digit NPWP is neither 0 + 15 digits nor a valid NIK: {exc}"
            ) from None
    return digits


def format_npwp15(digits: str) -> str:
    """Format a 15-digit NPWP as ``01.234.567.8-901.000``."""
    d = _digits_only(_NPWP_SEPARATORS.sub("", digits), "15-digit NPWP", 15)
    return f"{d[0:2]}.{d[2:5]}.{d[5:8]}.{d[8]}-{d[9:12]}.{d[12:15]}"


# --- Phone ----------------------------------------------------------------------------------

_PHONE_SEPARATORS = re.compile(r"[\s\-()]")
# National significant numbers: mobile 8 + 8-11 digits; landline area code (2-4 digits, not
# starting with 0, 1 or 8) + subscriber number (5-8 digits), which gives 7-12 digits in all.
_MOBILE = re.compile(r"8\d{8,11}")
_LANDLINE = re.compile(r"[2-79]\d{6,11}")


def validate_phone(value: str) -> str:
    """Normalise an Indonesian phone number to E.164 (``+62…``).

    Accepts ``08…``, ``62…`` and ``+62…`` prefixes with spaces, dashes or parentheses, for
    mobile numbers and landlines (``(022) 1234567`` → ``+62221234567``).
    """
    if not isinstance(value, str):
        raise ValueError("phone number must be a string")
    compact = _PHONE_SEPARATORS.sub("", value)
    if compact.startswith("+62"):
        national = compact[3:]
    elif compact.startswith("62"):
        national = compact[2:]
    elif compact.startswith("0"):
        national = compact[1:]
    else:
        raise ValueError("phone number must start with 0, 62 or +62")
    if not national.isascii() or not (_MOBILE.fullmatch(national) or _LANDLINE.fullmatch(national)):
        raise ValueError("phone number is not a valid Indonesian mobile or landline number")
    return "+62" + national


# --- Kode wilayah ---------------------------------------------------------------------------

_WILAYAH = re.compile(r"(\d{2})(?:\.(\d{2})(?:\.(\d{2})(?:\.(\d{4}))?)?)?")
_WILAYAH_LEVELS: tuple[Literal["provinsi", "kabkota", "kecamatan", "desa"], ...] = (
    "provinsi",
    "kabkota",
    "kecamatan",
    "desa",
)


def validate_kode_wilayah(value: str) -> str:
    """Check a Kemendagri kode wilayah in dotted form: PP, PP.KK, PP.KK.CC or PP.KK.CC.DDDD."""
    if not isinstance(value, str):
        raise ValueError("kode wilayah must be a string")
    code = value.strip()
    match = _WILAYAH.fullmatch(code)
    if match is None or not code.isascii():
        raise ValueError("kode wilayah must look like 32, 32.73, 32.73.01 or 32.73.01.1001")
    _check_province(code[:2], "kode wilayah")
    if any(part is not None and set(part) == {"0"} for part in match.groups()[1:]):
        raise ValueError("kode wilayah parts below the province cannot be all zeros")
    return code


def wilayah_level(code: str) -> Literal["provinsi", "kabkota", "kecamatan", "desa"]:
    """Administrative level of a kode wilayah, judged by its number of parts."""
    return _WILAYAH_LEVELS[validate_kode_wilayah(code).count(".")]


# --- KBLI -----------------------------------------------------------------------------------


def validate_kbli(value: str) -> str:
    """Check a 5-digit KBLI 2020 kelompok code, the level used for business licences."""
    if not isinstance(value, str):
        raise ValueError("KBLI code must be a string of 5 digits")
    code = _digits_only(value.strip(), "KBLI code", 5)
    if code[:2] not in KBLI_CATEGORY_BY_DIVISION:
        raise ValueError(f"KBLI code starts with {code[:2]!r}, which is not a KBLI 2020 division")
    return code


def kbli_category(code: str) -> str:
    """Kategori letter (A-U) of a KBLI 2020 code of 2 to 5 digits."""
    code = code.strip() if isinstance(code, str) else code
    if not isinstance(code, str) or not (2 <= len(code) <= 5 and code.isascii() and code.isdigit()):
        raise ValueError("KBLI code must be 2 to 5 digits")
    try:
        return KBLI_CATEGORY_BY_DIVISION[code[:2]]
    except KeyError:
        raise ValueError(f"{code[:2]!r} is not a KBLI 2020 division") from None


# --- Display --------------------------------------------------------------------------------


def mask(value: str, visible: int = 4) -> str:
    """Replace all but the last ``visible`` characters with ``*``.

    A value no longer than ``visible`` is masked completely, since showing it whole would
    defeat the purpose.
    """
    if visible < 0:
        raise ValueError("visible must be zero or more")
    if len(value) <= visible:
        return "*" * len(value)
    kept = value[len(value) - visible :] if visible else ""
    return "*" * (len(value) - visible) + kept


# --- pydantic types -------------------------------------------------------------------------

NIK = Annotated[str, AfterValidator(validate_nik)]
NIP = Annotated[str, AfterValidator(_validate_nip_now)]
NPWP = Annotated[str, AfterValidator(validate_npwp)]
PhoneNumber = Annotated[str, AfterValidator(validate_phone)]
KodeWilayah = Annotated[str, AfterValidator(validate_kode_wilayah)]
KBLI = Annotated[str, AfterValidator(validate_kbli)]
