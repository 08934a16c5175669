"""Reading import files (CSV or xlsx) with the required columns, the templates offered for them,
and the one refusal that lists every bad row."""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from collections.abc import Sequence
from typing import Any

from erk import errors, schemas

XLSX_MAGIC = b"PK\x03\x04"
XLSX_MEDIA = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# The columns of each import, required ones first (of the employees' only nip, name, unit_code and
# job_class; tpp_base_idr is optional): the templates offered for download.
TEMPLATES: dict[str, tuple[str, ...]] = {
    "pegawai": (
        "nip",
        "name",
        "unit_code",
        "job_class",
        "tpp_base_idr",
        "position",
        "rank",
        "supervisor_nip",
        "active",
        "employment_status",
        "ptkp_status",
        "salary_gross_idr",
        "joined_on",
        "left_on",
    ),
    "kehadiran": ("nip", "date", "status", "minutes_late", "minutes_early", "missed_apel"),
    "rencana-aksi": ("nip", "periode", "rencana_aksi", "kode"),
}


def template_csv(kind: str) -> bytes:
    return (",".join(TEMPLATES[kind]) + "\r\n").encode("utf-8")


def template_xlsx(kind: str) -> bytes:
    from openpyxl import Workbook  # spreadsheets are not needed at start-up

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = kind
    sheet.append(list(TEMPLATES[kind]))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _xlsx_rows(content: bytes, required: Sequence[str]) -> list[dict[str, str]]:
    from openpyxl import load_workbook  # spreadsheets are not needed at start-up

    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError):
        raise errors.ImportRejectedError(
            "The file is not a readable xlsx workbook", rows=[]
        ) from None
    sheet = book.worksheets[0]
    lines = [[_cell(v) for v in row] for row in sheet.iter_rows(values_only=True)]
    book.close()
    lines = [line for line in lines if any(line)]
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(lines)
    return _rows(buffer.getvalue(), ",", required)


def read_table(content: bytes, required: Sequence[str]) -> list[dict[str, str]]:
    """Rows of a CSV (comma or semicolon, UTF-8 with or without BOM) or of the first sheet of an
    xlsx workbook, with the required columns."""
    if content.startswith(XLSX_MAGIC):
        return _xlsx_rows(content, required)
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise errors.ImportRejectedError("The file is not UTF-8 text", rows=[]) from None
    # Old spreadsheet programs end lines with a bare CR: one line ending for the csv module.
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    try:
        return _rows(text, delimiter, required)
    except csv.Error as exc:
        raise errors.ImportRejectedError(f"The file is not readable CSV: {exc}", rows=[]) from None


def _rows(text: str, delimiter: str, required: Sequence[str]) -> list[dict[str, str]]:
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    missing = [c for c in required if c not in header]
    if missing:
        raise errors.ImportRejectedError(
            f"The file lacks the columns: {', '.join(missing)}", rows=[]
        )
    rows = []
    for raw in reader:
        rows.append(
            {
                (k or "").strip().lower(): (v or "").strip()
                for k, v in raw.items()
                if isinstance(v, str) or v is None
            }
        )
    if not rows:
        raise errors.ImportRejectedError("The file has no data rows", rows=[])
    return rows


def reject_import(report: list[schemas.ImportRowError]) -> errors.ImportRejectedError:
    return errors.ImportRejectedError(
        f"{len(report)} row(s) have errors; nothing was imported",
        rows=[r.model_dump() for r in report],
    )
