"""Search and filters of a staff queue page, read from the query string (`?q=&tahap=&tahun=`).

Values arrive as text and are checked here, so a bad one (`?tahun=abc`) gets an Indonesian
message next to the filter form instead of a framework's English. Queues are short (the files
waiting on one desk), so the filtering is done on the rows already read.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from shared.codes import normalize_tracking_code

OVERDUE_CHOICES = {"terlambat": "Terlambat", "tepat": "Belum lewat batas"}


@dataclass(frozen=True)
class QueueFilter:
    q: str = ""
    tahap: str = ""
    tahun: int | None = None
    batas: str = ""

    def form(self) -> dict[str, str]:
        return {
            "q": self.q,
            "tahap": self.tahap,
            "tahun": "" if self.tahun is None else str(self.tahun),
            "batas": self.batas,
        }

    def matches(
        self,
        *,
        tracking_code: str,
        name: str,
        status: str,
        overdue: bool,
        fiscal_year: int | None = None,
    ) -> bool:
        if self.tahap and status != self.tahap:
            return False
        if self.tahun is not None and fiscal_year != self.tahun:
            return False
        if self.batas and overdue != (self.batas == "terlambat"):
            return False
        if self.q:
            needle = self.q.casefold()
            try:
                code = normalize_tracking_code(self.q)
            except ValueError:
                code = self.q.upper().replace(" ", "")
            return needle in name.casefold() or code in tracking_code.upper()
        return True


def read_queue_filter(
    query: Mapping[str, str], *, stages: Mapping[str, str], with_year: bool
) -> tuple[QueueFilter, list[tuple[str, str]], dict[str, str]]:
    """The filter, the Indonesian messages for bad values, and the form as typed (to show it
    again). A bad value is dropped from the filter; the others still apply."""
    errors: list[tuple[str, str]] = []
    typed = {k: str(query.get(k, "")).strip()[:100] for k in ("q", "tahap", "tahun", "batas")}
    q = typed["q"]
    if len(str(query.get("q", ""))) > 100:
        errors.append(("error", "Pencarian: paling banyak 100 karakter."))
    tahap = typed["tahap"]
    if tahap and tahap not in stages:
        errors.append(("error", "Tahap: pilih salah satu tahap dari daftar."))
        tahap = ""
    tahun = None
    if with_year and typed["tahun"]:
        text = typed["tahun"]
        if text.isdigit() and 2000 <= int(text) <= 2100:
            tahun = int(text)
        else:
            errors.append(("error", "Tahun anggaran: tulis angka tahun, misalnya 2027."))
    batas = typed["batas"]
    if batas and batas not in OVERDUE_CHOICES:
        errors.append(("error", "Batas waktu: pilih dari daftar."))
        batas = ""
    return QueueFilter(q=q, tahap=tahap, tahun=tahun, batas=batas), errors, typed
