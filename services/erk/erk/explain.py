"""Why this amount: each recap row explained in Indonesian, line by line."""

from __future__ import annotations

from typing import Any

from erk import schemas
from erk.config import DeductionBand, TppRule
from shared.money import format_rupiah


def _pct(bp: int) -> str:
    return f"{bp // 100},{bp % 100:02d} %"


def _bands_text(bands: list[DeductionBand]) -> str:
    parts = []
    for b in bands:
        upper = f"{b.min_minutes}–{b.max_minutes}" if b.max_minutes else f"> {b.min_minutes - 1}"
        parts.append(f"{upper} menit {_pct(b.basis_points)}")
    return "; ".join(parts)


def _n(value: int) -> str:
    """A whole number in Indonesian style: 12.600."""
    return f"{value:,}".replace(",", ".")


LEAVE_WORDS = {
    "met": "dihitung memenuhi",
    "reduces_standard": "mengurangi standar",
    "cuts": "memotong TPP",
}


STATUS_WORDS = {"pns": "PNS", "cpns": "CPNS", "pppk": "PPPK"}


AWAITING_HR = (
    "Pegawai ini didaftarkan oleh admin unit tanpa data penghasilan: kelas jabatan, status "
    "kepegawaian dan TPP dasar belum ditetapkan BKPSDM, sehingga TPP dasar Rp0 dan TPP bulan ini "
    "Rp0 sampai BKPSDM menetapkannya."
)


def explain(row: Any, rule: TppRule) -> list[str]:
    """The lines that answer "why is my TPP this amount" (Bahasa Indonesia, shown as is)."""
    base = int(row.tpp_base_idr)
    effective = int(row.base_effective_idr)
    working, employed = int(row.working_days), int(row.employed_days)
    net = rule.net
    if rule.standard_minutes_per_month is not None:
        standard_rule = f"standar tetap {_n(rule.standard_minutes_per_month)} menit sebulan"
    else:
        standard_rule = f"{working} hari kerja × {rule.standard_minutes_per_day} menit"
    leave_rules = ", ".join(
        f"{schemas.ATTENDANCE_WORDS[k]} {LEAVE_WORDS[v.effect]}"
        for k, v in sorted(rule.leave_effects.items())
    )
    status = STATUS_WORDS.get(str(row.employment_status), str(row.employment_status))
    status_percent = rule.cpns_percent if row.employment_status == "cpns" else 100
    missing_charged = rule.missing_attendance == "absent"
    absence_days = int(row.absent_days) + (int(row.missing_days) if missing_charged else 0)
    lines = [
        f"Aturan TPP versi {rule.version} (berlaku {rule.effective_from.isoformat()}; dasar: "
        f"{rule.legal_basis}): bobot produktivitas {rule.weight_performance} %, disiplin "
        f"{rule.weight_discipline} %.",
        f"TPP dasar {format_rupiah(base)} × {status} {status_percent} % × {employed} dari "
        f"{working} hari kerja menjabat = {format_rupiah(effective)}.",
        f"Menit kerja standar: {standard_rule}, dikurangi {row.reduced_days} hari cuti/dinas "
        f"yang mengurangi standar, untuk {employed} hari menjabat = "
        f"{_n(int(row.standard_minutes))} menit ({leave_rules}).",
        f"Menit terverifikasi atasan: {_n(int(row.verified_minutes))} menit (paling banyak "
        f"batas harian per hari, hanya hari kerja) + {row.met_days} hari dihitung memenuhi → "
        f"capaian kinerja {_pct(int(row.performance_bp))} (paling tinggi 100 %).",
        f"TPP produktivitas: {format_rupiah(effective)} × {rule.weight_performance} % × "
        f"{_pct(int(row.performance_bp))} = {format_rupiah(int(row.tpp_performance_idr))}.",
        f"Potongan disiplin: {row.absent_days} hari tanpa keterangan"
        + (
            f" + {row.missing_days} hari kerja tanpa catatan kehadiran"
            if missing_charged
            else f" ({row.missing_days} hari kerja tanpa catatan kehadiran menahan tutup bulan)"
        )
        + f" × {_pct(rule.absence_basis_points)} = "
        f"{_pct(absence_days * rule.absence_basis_points)}; terlambat {row.late_events} kali = "
        f"{_pct(int(row.late_bp))}; pulang cepat {row.early_events} kali = "
        f"{_pct(int(row.early_bp))} (tarif: {_bands_text(rule.late_bands)}); tidak absen masuk, "
        f"tidak apel dan cuti yang memotong = {_pct(int(row.other_bp))} → disiplin "
        f"{_pct(int(row.discipline_bp))} (paling rendah 0 %).",
        f"TPP disiplin: {format_rupiah(effective)} × {rule.weight_discipline} % × "
        f"{_pct(int(row.discipline_bp))} = {format_rupiah(int(row.tpp_discipline_idr))}.",
        f"Hukuman disiplin (PP 94/2021): potongan {_pct(int(row.sanction_bp))} dari TPP "
        f"produktivitas dan disiplin = {format_rupiah(int(row.sanction_cut_idr))}.",
        f"Tambahan Plt/Plh: persentase TPP dasar jabatan yang dirangkap, sebanding hari kerja "
        f"yang dicakup surat perintah dari {working} hari kerja = "
        f"{format_rupiah(int(row.acting_addition_idr))}.",
        f"Jumlah TPP bruto: {format_rupiah(int(row.tpp_performance_idr))} + "
        f"{format_rupiah(int(row.tpp_discipline_idr))} − "
        f"{format_rupiah(int(row.sanction_cut_idr))} + "
        f"{format_rupiah(int(row.acting_addition_idr))} = {format_rupiah(int(row.tpp_total_idr))}.",
        f"PPh 21 ({net.ter_legal_basis}, tabel TER {net.ter_year}, PTKP {row.ptkp_status}, gaji "
        f"{format_rupiah(int(row.salary_gross_idr))} dipotong terpisah): "
        f"{format_rupiah(int(row.pph21_idr))}.",
        f"Iuran BPJS Kesehatan {net.bpjs_employee_percent} % ({net.bpjs_legal_basis}, batas upah "
        f"{format_rupiah(net.bpjs_wage_ceiling_idr)}): {format_rupiah(int(row.bpjs_idr))}.",
        f"TPP bersih: {format_rupiah(int(row.tpp_total_idr))} − "
        f"{format_rupiah(int(row.pph21_idr))} − {format_rupiah(int(row.bpjs_idr))} = "
        f"{format_rupiah(int(row.tpp_net_idr))}.",
    ]
    if row.pay_awaiting_hr:
        lines.insert(1, AWAITING_HR)
    return lines


def to_read(row: Any, rule: TppRule) -> schemas.RecapRow:
    return schemas.RecapRow(
        nip=row.nip,
        name=row.name,
        unit_code=row.unit_code,
        working_days=int(row.working_days),
        employed_days=int(row.employed_days),
        reduced_days=int(row.reduced_days),
        met_days=int(row.met_days),
        absent_days=int(row.absent_days),
        missing_days=int(row.missing_days),
        standard_minutes=int(row.standard_minutes),
        verified_minutes=int(row.verified_minutes),
        performance_pct=int(row.performance_bp) / 100,
        discipline_pct=int(row.discipline_bp) / 100,
        employment_status=str(row.employment_status),
        tpp_base_idr=int(row.tpp_base_idr),
        base_effective_idr=int(row.base_effective_idr),
        tpp_performance_idr=int(row.tpp_performance_idr),
        tpp_discipline_idr=int(row.tpp_discipline_idr),
        sanction_cut_idr=int(row.sanction_cut_idr),
        acting_addition_idr=int(row.acting_addition_idr),
        tpp_total_idr=int(row.tpp_total_idr),
        pph21_idr=int(row.pph21_idr),
        bpjs_idr=int(row.bpjs_idr),
        tpp_net_idr=int(row.tpp_net_idr),
        pay_awaiting_hr=bool(row.pay_awaiting_hr),
        explanation=explain(row, rule),
    )
