"""The objection rule behind every refusal: configuration validated at start-up, effective-dated,
the deadline counted in the regency's working days; the receipt and letter PDFs."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from shared.calendar import WorkingCalendar
from shared.config import RegencyConfigBase, RegencyConfigError, load_regency_config
from shared.letters import Receipt, receipt_pdf, refusal_of, refusal_pdf

TWO_RULES = """
[[objection_rules]]
effective_from = 2014-10-17
working_days = 21
addressed_to = "pejabat yang menetapkan keputusan ini"
basis = "UU 30/2014 Pasal 77 ayat (1)"

[[objection_rules]]
effective_from = 2027-01-01
working_days = 30
addressed_to = "Inspektorat Daerah"
basis = "UU 99/2026 (contoh) Pasal 1"
"""


def _load(tmp_path: Path, text: str) -> RegencyConfigBase:
    path = tmp_path / "regency.toml"
    path.write_text(text, encoding="utf-8")
    return load_regency_config(path, RegencyConfigBase)


def test_default_is_uu_30_2014_pasal_77_with_21_working_days() -> None:
    rule = RegencyConfigBase().objection_rule_on(dt.date(2026, 12, 6))
    assert rule.working_days == 21
    assert "UU 30/2014" in rule.basis
    assert "Pasal 77" in rule.basis


def test_the_rule_in_force_on_the_decision_day_applies(tmp_path: Path) -> None:
    config = _load(tmp_path, TWO_RULES)
    assert config.objection_rule_on(dt.date(2026, 12, 31)).working_days == 21
    assert config.objection_rule_on(dt.date(2027, 1, 1)).working_days == 30


@pytest.mark.parametrize(
    "text",
    [
        TWO_RULES.replace("2027-01-01", "2014-10-17"),  # two rules from the same day
        TWO_RULES.replace("working_days = 30", "working_days = 0"),
        TWO_RULES.replace('basis = "UU 99/2026 (contoh) Pasal 1"', 'basis = ""'),
        "objection_rules = []\n",
    ],
)
def test_a_bad_objection_rule_stops_start_up(tmp_path: Path, text: str) -> None:
    with pytest.raises(RegencyConfigError, match="objection_rules"):
        _load(tmp_path, text)


def test_deadline_counts_working_days_not_calendar_days() -> None:
    calendar = WorkingCalendar("Asia/Jakarta")
    decided = dt.date(2026, 12, 4)  # a Friday
    refusal = refusal_of(
        RegencyConfigBase(),
        calendar,
        tracking_code="SB-0000-0000-000",
        subject="Usulan",
        applicant_name="Siti",
        decided_on=decided,
        reason="",
    )
    assert refusal.deadline == calendar.add_working_days(decided, 21)
    assert calendar.is_working_day(refusal.deadline)
    assert (refusal.deadline - decided).days >= 29  # four weekends, and Christmas
    assert refusal.reason == "Tidak dicatat."  # never an empty reason on a letter
    pdf = refusal_pdf(refusal, service_title="Layanan", regency_name="Kota Contoh", track_url="x")
    assert pdf.startswith(b"%PDF-")


def test_receipt_pdf_is_deterministic() -> None:
    receipt = Receipt(
        service_title="Layanan",
        regency_name="Kota Contoh",
        tracking_code="SB-0000-0000-000",
        subject="Usulan",
        applicant_name="Siti",
        received_at=dt.datetime(2026, 12, 4, 3, 0, tzinfo=dt.UTC),
        stage_label="Pemeriksaan kelengkapan",
        holder_label="Tata Usaha",
        due_date=dt.date(2026, 12, 11),
        due_basis="5 hari kerja",
        track_url="https://contoh.go.id/lacak/SB-0000-0000-000",
        documents=["Isian usulan", "Surat permohonan: surat.pdf"],
    )
    assert receipt_pdf(receipt).startswith(b"%PDF-")
    assert receipt_pdf(receipt) == receipt_pdf(receipt)
