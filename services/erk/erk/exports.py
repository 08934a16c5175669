"""The recap exported for payroll: CSV and xlsx."""

from __future__ import annotations

import csv
import io
from typing import Any

from erk.recap import RecapResult

EXPORT_HEADER = (
    "NIP",
    "Nama",
    "Unit",
    "Hari kerja",
    "Menit standar",
    "Menit terverifikasi",
    "Kinerja (%)",
    "Disiplin (%)",
    "TPP dasar (Rp)",
    "TPP produktivitas (Rp)",
    "TPP disiplin (Rp)",
    "TPP bruto (Rp)",
    "PPh 21 (Rp)",
    "BPJS Kesehatan (Rp)",
    "TPP bersih (Rp)",
)


MONEY_COLUMNS = ("I", "J", "K", "L", "M", "N", "O")


def _export_values(row: Any) -> list[Any]:
    return [
        row.nip,
        row.name,
        row.unit_code,
        int(row.working_days),
        int(row.standard_minutes),
        int(row.verified_minutes),
        int(row.performance_bp) / 100,
        int(row.discipline_bp) / 100,
        int(row.tpp_base_idr),
        int(row.tpp_performance_idr),
        int(row.tpp_discipline_idr),
        int(row.tpp_total_idr),
        int(row.pph21_idr),
        int(row.bpjs_idr),
        int(row.tpp_net_idr),
    ]


def export_csv(result: RecapResult) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(EXPORT_HEADER)
    for row in result.rows:
        writer.writerow(_export_values(row))
    return out.getvalue().encode("utf-8-sig")


def export_xlsx(result: RecapResult, regency: str) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = f"Rekap {result.period}"
    status = "ditutup" if result.closed else "sementara (bulan belum ditutup)"
    sheet.append([f"Rekap TPP {regency} — {result.period} — {status}"])
    sheet.append([f"Aturan versi {result.rule.version}"])
    sheet.append(list(EXPORT_HEADER))
    for cell in sheet[3]:
        cell.font = Font(bold=True)
    for row in result.rows:
        sheet.append(_export_values(row))
    last = sheet.max_row
    total_row = ["JUMLAH", "", "", "", "", "", "", ""]
    if result.rows:
        total_row += [f"=SUM({col}4:{col}{last})" for col in MONEY_COLUMNS]
    sheet.append(total_row)
    # The totals are also written as values beside the formulas for readers that do not compute.
    sheet.append(
        ["JUMLAH (nilai)", "", "", "", "", "", "", ""]
        + [
            sum(int(getattr(r, c)) for r in result.rows)
            for c in (
                "tpp_base_idr",
                "tpp_performance_idr",
                "tpp_discipline_idr",
                "tpp_total_idr",
                "pph21_idr",
                "bpjs_idr",
                "tpp_net_idr",
            )
        ]
    )
    for column in MONEY_COLUMNS:
        for cell in sheet[column][3:]:
            cell.number_format = "#,##0"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
