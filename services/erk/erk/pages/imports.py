"""Imports of employees and attendance from the personnel and attendance systems: templates to
download, and every refusal in Indonesian, row by row."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import File, Request, UploadFile
from fastapi.responses import Response

from erk import attendance, ekinerja, imports, people_import, schemas
from erk.dependencies import ContextDep
from erk.pages.common import AdminViewer, attempt, message_of, page_router
from shared.db import SessionDep
from shared.pesan import message_id
from shared.problems import AppError
from shared.web import render

router = page_router()

# The English of the import rules (the API's row report) as a clerk reads it on the page.
_ROW_ERRORS_ID: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), text)
    for pattern, text in (
        (r"^supervisor_nip: (.*)$", "supervisor_nip: {0}"),
        (
            r"supervisor_nip is neither registered",
            "NIP atasan belum terdaftar dan tidak ada di berkas",
        ),
        (r"NIP appears twice", "NIP tercantum dua kali di berkas"),
        (r"NIP is not a registered employee", "NIP belum terdaftar sebagai pegawai"),
        (
            r"the employee is currently in a unit outside",
            "pegawai sekarang berada di luar unit Anda",
        ),
        (r"employee is outside the unit", "pegawai berada di luar unit Anda"),
        (r"unit is outside the unit", "unit itu di luar unit yang Anda kelola"),
        (r"unknown unit_code (.*)", "kode unit {0} tidak dikenal"),
        (
            r"nobody changes their own employee",
            "Anda tidak dapat mengubah data kepegawaian sendiri",
        ),
        (r"nobody records their own attendance", "Anda tidak dapat mencatat kehadiran sendiri"),
        (r"only HR \(BKPSDM\) sets the TPP base", "hanya BKPSDM yang menetapkan TPP dasar"),
        (r"only HR \(BKPSDM\) sets the salary", "hanya BKPSDM yang menetapkan gaji"),
        (
            r"only HR \(BKPSDM\) sets (\w+)",
            "hanya BKPSDM yang menetapkan {0}; kosongkan untuk pegawai baru",
        ),
        (r"an employee cannot supervise themself", "pegawai tidak dapat menjadi atasan sendiri"),
        (
            r"nobody makes themself a supervisor",
            "Anda tidak dapat menjadikan diri sendiri atasan lewat impor",
        ),
        (
            r"supervisor chain would lead back",
            "rantai atasan akan kembali ke pegawai itu sendiri",
        ),
        (r"only HR \(BKPSDM\) changes (\w+)", "hanya BKPSDM yang mengubah {0}"),
        (r"^name must have", "nama harus 2 sampai 200 karakter"),
        (r"^job_class must", "kelas jabatan harus bilangan bulat 1 sampai 17"),
        (r"^(\w+) must be a whole, non-negative rupiah", "{0} harus rupiah bulat, tidak negatif"),
        (r"^(\w+) must be a whole number from 0 to 1440", "{0} harus bilangan bulat 0 sampai 1440"),
        (r"^(\w+) must be written YYYY-MM-DD", "{0} harus ditulis TTTT-BB-HH, misalnya 2026-03-31"),
        (r"^left_on is before joined_on", "left_on lebih awal daripada joined_on"),
        (r"^active must", "active harus 1/0 atau ya/tidak"),
        (r"^missed_apel must", "missed_apel harus 1/0 atau ya/tidak"),
        (r"^employment_status must", "employment_status harus pns, cpns, atau pppk"),
        (r"^ptkp_status must be one of (.*)", "ptkp_status harus salah satu dari {0}"),
        (
            r"^status must be one of",
            "status tidak dikenal; tulis misalnya hadir, sakit, cuti, "
            "dinas luar, diklat, atau tanpa keterangan",
        ),
        (r"^date lies in the future", "tanggal melewati hari ini"),
        (r"^date is not a working day", "tanggal itu bukan hari kerja"),
        (
            r"^minutes late or early need",
            "menit terlambat atau pulang cepat hanya untuk yang hadir",
        ),
        (
            r"^the day is recorded as (\w+): no minutes late",
            "hari itu tercatat {0}: tidak ada menit terlambat atau pulang cepat saat cuti",
        ),
        (r"^the same employee and date", "pegawai dan tanggal yang sama tercantum dua kali"),
        (r"^(\d{4}-\d{2}) is closed", "bulan {0} sudah ditutup"),
        (r"^periode must be", "periode harus ditulis tahun-triwulan, misalnya 2026-Q1"),
        (r"^rencana_aksi must", "rencana_aksi harus 3 sampai 500 karakter"),
        (r"^NIP birth date", "NIP: tanggal lahir (angka 1-8) tidak valid"),
        (r"^NIP birth year", "NIP: tahun lahir tidak masuk akal"),
        (r"^NIP appointment month", "NIP: bulan pengangkatan (angka 13-14) tidak valid"),
        (r"^NIP appointment year", "NIP: tahun pengangkatan tidak masuk akal"),
        (r"^NIP sex digit", "NIP: angka jenis kelamin (angka 15) harus 1 atau 2"),
        (r"^NIP sequence number", "NIP: nomor urut tidak boleh 000"),
    )
)
_FILE_ERRORS_ID: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), text)
    for pattern, text in (
        (r"not UTF-8", "Berkas bukan teks UTF-8. Simpan ulang sebagai CSV UTF-8."),
        (r"not readable CSV", "Berkas tidak dapat dibaca sebagai CSV."),
        (r"not a readable xlsx", "Berkas tidak dapat dibaca sebagai xlsx."),
        (r"lacks the columns: (.*)", "Kolom berikut tidak ada di berkas: {0}. Pakai templat."),
        (r"no data rows", "Berkas tidak berisi baris data."),
    )
)


def _indonesian(text: str, table: tuple[tuple[re.Pattern[str], str], ...]) -> str | None:
    for pattern, indonesian in table:
        match = pattern.search(text)
        if match:
            return indonesian.format(*(_row_error_id(g) for g in match.groups()))
    return None


def _row_error_id(text: str) -> str:
    found = _indonesian(text, _ROW_ERRORS_ID)
    if found is not None:
        return found
    if text in schemas.ATTENDANCE_WORDS:  # a status named inside a problem
        return schemas.ATTENDANCE_WORDS[text]
    if text.startswith("NIP"):  # the shared validator's sentences (digits, length)
        return "NIP " + message_id({"type": "value_error", "msg": text})
    return text


def rows_id(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The row report with each problem in Indonesian."""
    return [r | {"errors": [_row_error_id(e) for e in r.get("errors", [])]} for r in rows]


IMPORTERS = {
    "pegawai": people_import.import_employees,
    "kehadiran": attendance.import_attendance,
    "rencana-aksi": ekinerja.import_action_plans,
}


@router.get("/impor")
async def imports_form(request: Request, session: SessionDep, who: AdminViewer) -> Response:
    return render(request, "imports.html", {}, principal=who)


@router.get("/impor/templat/{name}")
async def imports_template(name: str, who: AdminViewer) -> Response:
    """An empty file with the import's columns, as CSV or xlsx."""
    kind, _, suffix = name.rpartition(".")
    if kind not in imports.TEMPLATES or suffix not in ("csv", "xlsx"):
        return Response("Templat tidak ditemukan.", status_code=404, media_type="text/plain")
    if suffix == "csv":
        body, media = imports.template_csv(kind), "text/csv; charset=utf-8"
    else:
        body, media = imports.template_xlsx(kind), imports.XLSX_MEDIA
    return Response(
        body,
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="templat-{kind}.{suffix}"'},
    )


@router.post("/impor/{kind}")
async def imports_upload(
    request: Request,
    kind: str,
    session: SessionDep,
    who: AdminViewer,
    ctx: ContextDep,
    berkas: Annotated[UploadFile, File()],
) -> Response:
    content = await berkas.read(20 * 1024 * 1024 + 1)
    importer = IMPORTERS.get(kind, people_import.import_employees)
    result = await attempt(session, lambda: importer(session, content, actor=who, ctx=ctx))
    if isinstance(result, AppError):
        return render(
            request,
            "imports.html",
            {
                "kind": kind,
                "error": message_of(result),
                "detail": _indonesian(result.detail or "", _FILE_ERRORS_ID),
                "rows": rows_id(result.extensions.get("rows", [])),
            },
            principal=who,
            status_code=result.status,
        )
    return render(
        request,
        "imports.html",
        {"kind": kind, "report": result},
        principal=who,
        messages=[("success", f"{result.imported} baris diimpor.")],
    )
