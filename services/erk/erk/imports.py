"""Reading import files: CSV rows with the required columns; one refusal lists every bad row."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from erk import errors, schemas


def read_csv(content: bytes, required: Sequence[str]) -> list[dict[str, str]]:
    """Rows of a CSV (comma or semicolon, UTF-8 with or without BOM) with the required columns."""
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
