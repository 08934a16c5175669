"""What the page modules share: labels, the form-field map and the problems in Bahasa Indonesia."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import ValidationError

from shared.money import format_rupiah
from shared.pesan import field_errors, problem_id
from shared.problems import AppError
from shared.web import tanggal

KIND_LABELS = {"hibah": "Hibah", "bansos": "Bantuan sosial"}
LINE_ROWS = 5
# Form field id and its label, by the last matching parts of a pydantic error location.
FIELDS: dict[tuple[str, ...], tuple[str, str]] = {
    ("kind",): ("kind", "Jenis bantuan"),
    ("fiscal_year",): ("fiscal_year", "Tahun anggaran"),
    ("title",): ("title", "Judul usulan"),
    ("purpose",): ("purpose", "Tujuan penggunaan dana"),
    ("requested_amount_idr",): ("requested_amount_idr", "Jumlah yang diusulkan"),
    ("budget_lines",): ("line_description_0", "Rincian anggaran (RAB)"),
    ("applicant", "type"): ("applicant_type", "Pemohon adalah"),
    ("applicant", "name"): ("applicant_name", "Nama pemohon"),
    ("applicant", "nik"): ("nik", "NIK"),
    ("npwp",): ("npwp", "NPWP"),
    ("phone",): ("phone", "Nomor telepon"),
    ("region_code",): ("region_code", "Kode wilayah"),
    ("address",): ("address", "Alamat"),
    ("bank_account",): ("bank_account", "Nomor rekening bank"),
    ("legal_entity_number",): ("legal_entity_number", "Nomor badan hukum"),
    ("registered_on",): ("registered_on", "Tanggal akta / SK / SKT"),
    ("note",): ("note", "Catatan"),
    ("amount_idr",): ("amount_idr", "Jumlah"),
    ("decree_number",): ("decree_number", "Nomor Keputusan"),
    ("agreement_number",): ("agreement_number", "Nomor NPHD"),
    ("opd_code",): ("opd_code", "Kode OPD"),
}


def field_of(loc: tuple[Any, ...]) -> tuple[str | None, str]:
    parts = tuple(str(p) for p in loc)
    if len(parts) >= 3 and parts[0] == "budget_lines":
        what = "line_amount" if parts[2] == "amount_idr" else "line_description"
        label = "Jumlah" if parts[2] == "amount_idr" else "Uraian"
        return f"{what}_{parts[1]}", f"RAB baris {int(parts[1]) + 1}, {label.lower()}"
    if "board_members" in parts and len(parts) >= 4:
        who = "chair" if parts[-2] == "0" else "secretary"
        field = parts[-1] if parts[-1] in ("name", "nik") else "name"
        role = "ketua" if who == "chair" else "sekretaris"
        return f"{who}_{field}", f"{'NIK' if field == 'nik' else 'Nama'} {role}"
    names = tuple(p for p in parts if not p.isdigit())
    for size in (2, 1):
        if len(names) >= size and names[-size:] in FIELDS:
            return FIELDS[names[-size:]]
    return None, ""


def _rupiah_id(amount: Any) -> str:
    return format_rupiah(int(amount)) if isinstance(amount, int) else str(amount)


def _outstanding(exc: AppError) -> str:
    """What is still to be returned to the Kas Daerah, from an 'unspent-not-returned' problem."""
    unspent, refunded = exc.extensions.get("unspent_idr"), exc.extensions.get("refunded_idr")
    if isinstance(unspent, int) and isinstance(refunded, int):
        return " " + format_rupiah(unspent - refunded)
    return ""


def _window_closed(exc: AppError) -> str:
    opens, closes = exc.extensions.get("opens_on"), exc.extensions.get("closes_on")
    basis = f" Dasar: {exc.extensions['basis']}." if exc.extensions.get("basis") else ""
    if opens and closes:
        return (
            "Usulan untuk tahun anggaran ini hanya diterima dari "
            f"{tanggal(dt.date.fromisoformat(opens))} sampai "
            f"{tanggal(dt.date.fromisoformat(closes))}.{basis}"
        )
    return (
        "Belum ada masa pengajuan usulan yang ditetapkan untuk tahun anggaran ini; usulan "
        f"hanya diterima dalam masa pengajuan.{basis}"
    )


PROBLEMS: dict[str, Any] = {
    "ineligible-applicant": (
        "Hibah hanya untuk organisasi berbadan hukum dengan nomor SK Kemenkumham "
        "(UU 23/2014 Pasal 298 ayat 5); perorangan dan kelompok mengajukan bansos dengan NIK."
    ),
    "budget-lines-mismatch": lambda e: (
        f"Jumlah rincian anggaran ({_rupiah_id(e.extensions.get('lines_total_idr'))}) tidak sama "
        f"dengan jumlah yang diusulkan ({_rupiah_id(e.extensions.get('requested_amount_idr'))})."
    ),
    "proposal-window-closed": _window_closed,
    "amount-above-requested": lambda e: (
        "Jumlah tidak boleh melebihi jumlah yang diusulkan "
        f"({_rupiah_id(e.extensions.get('requested_amount_idr'))})."
    ),
    "invalid-amount": "Jumlah harus berupa rupiah bulat lebih dari nol.",
    "freeze-period": lambda e: (
        f"Tindakan ini dihentikan sementara selama masa {e.extensions.get('period', '')} "
        f"({e.extensions.get('starts_on', '')} sampai {e.extensions.get('ends_on', '')})."
    ),
    "budget-ceiling-exceeded": lambda e: (
        "Persetujuan ini melampaui pagu tahun anggaran; sisa pagu "
        f"{_rupiah_id(e.extensions.get('remaining_idr'))}."
    ),
    "budget-not-set": "Pagu untuk jenis bantuan dan tahun anggaran ini belum ditetapkan.",
    "segregation-of-duties": (
        "Pejabat yang merekomendasikan atau menetapkan jumlah tidak boleh juga menyetujuinya."
    ),
    "agreement-required": "Hibah tidak dapat dicairkan sebelum NPHD ditandatangani.",
    "disbursement-exceeds-approved": lambda e: (
        "Pencairan melebihi jumlah yang disetujui; sisa yang dapat dicairkan "
        f"{_rupiah_id(e.extensions.get('remaining_idr'))}."
    ),
    "too-many-tranches": "Jumlah tahap pencairan sudah mencapai batas.",
    "integrity-flag": "Tanda integritas menghalangi persetujuan; periksa bagian Tanda integritas.",
    "not-your-proposal": "Hanya pemohon atau Tata Usaha yang dapat melakukan ini.",
    "opd-mismatch": "Usulan ini ditugaskan kepada OPD lain.",
    "unknown-checklist-item": "Jenis dokumen tidak dikenal; pilih dari daftar.",
    "unsupported-file": "Hanya berkas PDF, JPEG atau PNG (tidak kosong) yang diterima.",
    "payload-too-large": "Berkas terlalu besar.",
    "document-not-available": "Dokumen ini belum tersedia.",
    "proposal-not-found": "Usulan tidak ditemukan. Periksa kembali kode pelacakan.",
    "document-not-found": "Dokumen tidak ditemukan.",
    "personal-data-forbidden": "Peran Anda tidak berwenang melihat data pribadi.",
    "missing-documents": "Dokumen persyaratan belum lengkap; lihat daftar dokumen yang kurang.",
    "checklist-incomplete": "Semua butir berita acara evaluasi wajib dijawab dan terpenuhi "
    "sebelum merekomendasikan jumlah; jika tidak, kembalikan atau tolak usulan.",
    "uploads-locked": "Unggahan ditutup pada tahap ini.",
    "outside-fiscal-year": "Pencairan hanya dalam tahun anggaran usulan.",
    "amount-above-recommendation": "Jumlah tidak boleh melebihi rekomendasi sebelumnya.",
    "unknown-opd": "Pilih OPD dari daftar.",
    "not-stage-holder": "Hanya pemegang tahap saat ini yang dapat melakukan tindakan ini.",
    "invalid-refund": lambda e: (
        "Jumlah pengembalian melebihi sisa dana yang masih dapat disetor ke Kas Daerah "
        f"({_rupiah_id(e.extensions.get('returnable_idr'))})."
    ),
    "unspent-not-returned": lambda e: (
        f"Sisa dana{_outstanding(e)} belum disetor kembali ke Kas Daerah; Keuangan mencatat "
        "pengembalian berdasarkan bukti setor sebelum berkas ditutup."
    ),
    "past-fiscal-year": "Tahun anggaran sudah lewat.",
    "invalid-tranche-schedule": lambda e: (
        "Tahap pencairan dalam NPHD harus berjumlah sama dengan jumlah yang disetujui "
        f"({_rupiah_id(e.extensions.get('approved_amount_idr'))}), paling banyak "
        f"{e.extensions.get('max_tranches')} tahap."
    ),
    "wrong-tranche-amount": lambda e: (
        f"Pencairan tahap {e.extensions.get('tranche')} harus sebesar "
        f"{_rupiah_id(e.extensions.get('expected_idr'))} sesuai jadwal NPHD."
    ),
    "tranche-condition-unmet": lambda e: (
        "Tahap berikutnya baru dapat dicairkan setelah diunggah: "
        + "; ".join(e.extensions.get("labels", []))
        + "."
    ),
    "lpj-lines-mismatch": "Realisasi LPJ harus diisi untuk setiap baris RAB, sesuai urutan RAB.",
    "lpj-line-above-approved": lambda e: (
        f"Realisasi baris RAB {e.extensions.get('line')} melebihi bagiannya dari jumlah yang "
        f"disetujui ({_rupiah_id(e.extensions.get('ceiling_idr'))})."
    ),
    "lpj-total-mismatch": lambda e: (
        "Jumlah realisasi ditambah sisa dana harus sama dengan dana yang dicairkan "
        f"({_rupiah_id(e.extensions.get('disbursed_idr'))})."
    ),
}
PROBLEM_FIELDS = {
    "budget-lines-mismatch": ("requested_amount_idr", "Jumlah yang diusulkan"),
    "ineligible-applicant": ("legal_entity_number", "Nomor badan hukum"),
    "past-fiscal-year": ("fiscal_year", "Tahun anggaran"),
    "proposal-window-closed": ("fiscal_year", "Tahun anggaran"),
}
# A refused eligibility rule, in Bahasa Indonesia, next to the field it concerns.
RULE_MESSAGES = {
    "recipient_category": ("category", "Kategori penerima tidak sesuai dengan jenis bantuan "
                           "(hibah hanya untuk pemerintah, BUMN/BUMD dan organisasi berbadan "
                           "hukum; perorangan mengajukan bansos)."),
    "legal_document": ("legal_entity_number", "Nomor badan hukum wajib diisi dengan format yang "
                       "benar, misalnya AHU-0012345.AH.01.04.2019."),
    "registration_age": ("registered_on", "Lembaga belum terdaftar cukup lama menurut "
                         "ketentuan kategori ini; isi tanggal akta / SK / SKT."),
    "max_amount": ("requested_amount_idr", "Jumlah melebihi batas untuk kategori penerima ini."),
    "bansos_purpose": ("purpose_code", "Pilih tujuan bansos."),
    "domicile": ("region_code", "Domisili atau kedudukan penerima harus di wilayah daerah ini."),
    "fiscal_year": ("fiscal_year", "Tahun anggaran sudah lewat."),
    "social_risk": ("social_risk", "Bansos bersifat selektif: pilih risiko sosial yang dihadapi "
                    "penerima."),
    "temporary": ("fiscal_year", "Bansos tidak diberikan terus-menerus: penerima ini sudah "
                  "menerima bansos pada tahun anggaran sebelumnya."),
}  # fmt: skip


def problem(exc: AppError) -> str:
    return problem_id(exc, PROBLEMS)


def validation_messages(exc: ValidationError) -> list[tuple[str, str]]:
    return [("error", str(e)) for e in field_errors(exc, field_of)]
