"""Error messages for the pages in Bahasa Indonesia.

The API keeps its English problem details; a person filling in a form sees these instead. A
pydantic error becomes a `FieldError` (which form field, what to fix) so that a page can link the
message to the field and mark the field as invalid; an `AppError` becomes one sentence, chosen by
its stable `type` slug with the service's own sentences first.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from pydantic import ValidationError

from shared.problems import AppError


@dataclass(frozen=True)
class FieldError:
    field: str | None  # the id of the form field, for a link and aria-invalid
    label: str
    message: str

    def __str__(self) -> str:
        return f"{self.label}: {self.message}" if self.label else self.message


# Custom validators (shared/validators.py, service schemas) raise English sentences; these
# patterns turn the ones a person can meet in a form into Indonesian.
_VALUE_ERRORS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), text)
    for pattern, text in (
        (r"must be exactly (\d+) digits", "harus tepat {0} angka"),
        (r"must be a string of( \d+)? digits", "hanya boleh berisi angka"),
        (
            r"starts with '(\d+)', which is not a known province code",
            "kode provinsi {0} tidak dikenal",
        ),
        (r"not a KBLI 2020 division", "bukan kode KBLI 2020 yang dikenal"),
        (r"KBLI code is listed twice", "ada kode KBLI yang ditulis dua kali"),
        (
            r"invalid kabupaten/kota or kecamatan code",
            "kode kabupaten/kota atau kecamatan tidak valid",
        ),
        (r"NIK birth (day|month|date)", "tanggal lahir di dalam NIK tidak valid"),
        (r"NIK sequence number", "empat angka terakhir NIK tidak boleh 0000"),
        (r"phone number", "bukan nomor telepon Indonesia yang valid, contoh 081234567890"),
        (r"NPWP cannot be all zeros", "NPWP tidak boleh nol semua"),
        (r"NPWP", "harus 15 angka (format lama) atau 16 angka (NIK)"),
        (r"kode wilayah must look like", "tulis seperti 32.73.01 atau 32.73.01.1001"),
        (r"kode wilayah parts below the province", "bagian kode wilayah tidak boleh 00"),
        (r"tracking code", "kode lacak tidak valid; periksa penulisannya"),
    )
)

_BY_TYPE: dict[str, str] = {
    "missing": "wajib diisi",
    "string_type": "wajib diisi",
    "int_type": "tulis angka bulat tanpa sen atau huruf, misalnya 150000000",
    "int_parsing": "tulis angka bulat tanpa sen atau huruf, misalnya 150000000",
    "int_from_float": "tulis angka bulat tanpa sen",
    "literal_error": "pilih salah satu pilihan yang tersedia",
    "enum": "pilih salah satu pilihan yang tersedia",
    "date_parsing": "tanggal tidak valid",
    "date_from_datetime_parsing": "tanggal tidak valid",
    "date_type": "tanggal tidak valid",
    "date_past": "tanggal tidak boleh sebelum hari ini",
    "extra_forbidden": "isian tidak dikenal",
}


def _constraint(err: Mapping[str, Any]) -> str | None:
    ctx = err.get("ctx") or {}
    kind = err["type"]
    if kind == "string_too_short":
        n = ctx.get("min_length", 1)
        return "wajib diisi" if n <= 1 else f"terlalu pendek, minimal {angka(n)} karakter"
    if kind == "string_too_long":
        return f"terlalu panjang, maksimal {angka(ctx.get('max_length'))} karakter"
    if kind == "too_short":
        return "wajib diisi"
    if kind == "too_long":
        return f"terlalu banyak, maksimal {angka(ctx.get('max_length'))}"
    if kind == "greater_than_equal":
        return f"tidak boleh kurang dari {angka(ctx.get('ge'))}"
    if kind == "greater_than":
        return f"harus lebih dari {angka(ctx.get('gt'))}"
    if kind == "less_than_equal":
        return f"tidak boleh lebih dari {angka(ctx.get('le'))}"
    if kind == "less_than":
        return f"harus kurang dari {angka(ctx.get('lt'))}"
    if kind == "string_pattern_mismatch":
        return "bentuk isian tidak sesuai"
    return _BY_TYPE.get(kind)


def message_id(err: Mapping[str, Any]) -> str:
    """One pydantic error as an Indonesian phrase (without the field name)."""
    if err["type"] in ("value_error", "assertion_error"):
        text = str(err.get("msg", ""))
        for pattern, indonesian in _VALUE_ERRORS:
            match = pattern.search(text)
            if match:
                return indonesian.format(*match.groups())
        return "isian belum benar"
    return _constraint(err) or "isian belum benar"


FieldOf = Callable[[tuple[Any, ...]], tuple[str | None, str]]


def field_errors(
    exc: ValidationError, field_of: FieldOf, pattern_hints: Mapping[str, str] | None = None
) -> list[FieldError]:
    """Every error of `exc`, once per field and message, named by `field_of(loc)`.

    `pattern_hints` says, per field id, what a value must look like when it fails a pattern.
    """
    seen: set[tuple[str | None, str]] = set()
    result = []
    for err in exc.errors():
        field, label = field_of(tuple(err["loc"]))
        message = message_id(err)
        hints = pattern_hints or {}
        if err["type"] == "string_pattern_mismatch" and field is not None and field in hints:
            message = hints[field]
        if (field, message) in seen:
            continue
        seen.add((field, message))
        result.append(FieldError(field, label, message))
    return result


# Problems shared by every service (the workflow engine, uploads).
_PROBLEMS: dict[str, str] = {
    "invalid-transition": "Tindakan ini tidak berlaku pada tahap sekarang. Muat ulang halaman.",
    "action-forbidden": "Peran Anda tidak berwenang melakukan tindakan ini.",
    "unknown-action": "Tindakan tidak dikenal.",
    "missing-fields": "Lengkapi isian yang wajib untuk tindakan ini.",
    "username-taken": "Nama pengguna sudah dipakai; pilih yang lain.",
    "password-not-changed": "Kata sandi lama salah, atau kata sandi baru kurang dari 8 karakter "
    "atau sama dengan yang lama.",
}


def problem_id(exc: AppError, sentences: Mapping[str, str | Callable[[AppError], str]]) -> str:
    """An `AppError` as one Indonesian sentence: the service's own first, then the shared ones."""
    chosen = sentences.get(exc.type) or _PROBLEMS.get(exc.type)
    if callable(chosen):
        return chosen(exc)
    if chosen:
        return chosen
    return {
        403: "Anda tidak berwenang melakukan ini.",
        404: "Data tidak ditemukan.",
        409: "Tindakan ini bertentangan dengan keadaan data sekarang. Muat ulang halaman.",
        413: "Berkas terlalu besar.",
        415: "Hanya berkas PDF, JPEG atau PNG yang diterima.",
    }.get(exc.status, "Data belum benar. Periksa kembali isian Anda.")


def angka(value: Any) -> str:
    """A number as Indonesians write it: 1.000.000.000 (years and small numbers as they are)."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        return str(value)
    if abs(float(value)) < 10_000:
        return str(value)
    if value == int(value):
        return f"{int(value):,}".replace(",", ".")
    whole, fraction = f"{value:,.2f}".split(".")
    return f"{whole.replace(',', '.')},{fraction}"


# What a form field or a query parameter is called on the pages, where a message names it.
FIELD_LABELS: dict[str, str] = {
    "username": "Nama pengguna",
    "password": "Kata sandi",
    "full_name": "Nama lengkap",
    "name": "Nama",
    "email": "E-mail",
    "phone": "Nomor telepon",
    "tahun": "Tahun",
    "bulan": "Bulan",
    "tanggal": "Tanggal",
    "kode": "Kode",
    "code": "Kode",
    "q": "Pencarian",
    "halaman": "Halaman",
    "cursor": "Halaman",
    "limit": "Jumlah baris",
    "status": "Status",
    "judul": "Judul",
    "jumlah": "Jumlah",
    "satuan": "Satuan",
    "uraian": "Uraian",
    "menit": "Menit",
    "alasan": "Alasan",
    "keputusan": "Keputusan",
    "note": "Catatan",
    "action": "Tindakan",
    "findings": "Temuan",
    "inspection_date": "Tanggal pemeriksaan",
    "checklist_item": "Butir periksa",
}


def label_of(name: str) -> str:
    """A field's name as a person reads it: its label, else its name in words."""
    return FIELD_LABELS.get(name) or name.replace("_", " ").strip().capitalize() or "Isian"


# The sentence on an error page, by status, when no more precise one is known.
PAGE_ERRORS: dict[int, str] = {
    400: "Permintaan tidak dapat dibaca. Kembali ke halaman sebelumnya lalu coba lagi.",
    403: "Anda tidak berwenang membuka halaman ini atau melakukan tindakan ini.",
    404: "Halaman yang Anda cari tidak ada. Periksa alamatnya, atau pilih menu di atas.",
    405: "Alamat ini tidak dapat dibuka dengan cara itu. Kembali ke halaman sebelumnya.",
    409: "Tindakan ini bertentangan dengan keadaan data sekarang. Muat ulang halaman.",
    413: "Berkas atau isian terlalu besar.",
    415: "Jenis isian atau berkas tidak diterima.",
    422: "Data belum benar. Periksa kembali isian Anda.",
    429: "Terlalu banyak permintaan. Tunggu beberapa menit lalu coba lagi.",
    500: (
        "Terjadi kesalahan di sistem kami dan sudah dicatat. Coba lagi nanti; bila menghubungi "
        "petugas, sebutkan nomor permintaan di bawah."
    ),
    503: "Layanan sedang sibuk. Coba lagi beberapa detik lagi.",
}


def page_error_id(status: int, exc: Exception | None) -> str:
    """The sentence for an error page: the problem's own when known, else the status's."""
    if isinstance(exc, AppError) and (exc.type in _PROBLEMS or status in (403, 404, 409)):
        return problem_id(exc, {})
    return PAGE_ERRORS.get(status, "Terjadi kesalahan. Silakan coba lagi.")
