"""SABILULUNGAN's section of the regency configuration (`[sabilulungan]` in the regency TOML).

Every default follows the national rules of domain-brief §1 and can be replaced per regency:

- `workflow`: the stages (default: Permendagri 32/2011 as amended; a regency may describe its own
  flow, e.g. Bandung's seven steps, as a `[sabilulungan.workflow]` table).
- `action_effects`: what the domain does when an action is taken (record an amount, check the
  budget ceiling, ...). By default an action whose name is an effect has that effect, so a custom
  workflow that reuses the default action names needs nothing here.
- `proposal_windows`: per fiscal year, the dates proposals are accepted (e.g. Mojokerto closes on
  30 April of the year before). A fiscal year not listed accepts proposals unless
  `require_window` is true.
- `freeze_periods`: dates (e.g. around a Pilkada) in which the listed actions are refused.
- `rule_sets`: the values that change over time, each with the date it takes effect; every
  transition records the `version` it used.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import Field, field_validator, model_validator

from sabilulungan.workflow import DEFAULT_WORKFLOW
from shared.config import RegencyConfigBase, StrictModel
from shared.workflow import WorkflowDef

Kind = Literal["hibah", "bansos"]
KINDS: tuple[Kind, ...] = ("hibah", "bansos")
Effect = Literal[
    "none",
    "assign_opd",
    "recommend",
    "consider",
    "approve",
    "sign_agreement",
    "disburse",
    "submit_report",
    "accept_report",
    "withdraw",
]
EFFECT_NAMES: frozenset[str] = frozenset(Effect.__args__)  # type: ignore[attr-defined]


class ProposalWindow(StrictModel):
    fiscal_year: int = Field(ge=2000, le=2100)
    opens_on: date
    closes_on: date = Field(description="last local date a proposal is accepted")

    @model_validator(mode="after")
    def _ordered(self) -> ProposalWindow:
        if self.closes_on < self.opens_on:
            raise ValueError("closes_on is before opens_on")
        return self


class FreezePeriod(StrictModel):
    name: str = Field(min_length=3, description="named in every refusal, e.g. 'Pilkada 2029'")
    starts_on: date
    ends_on: date = Field(description="inclusive, local date")
    kinds: list[Kind] = Field(default_factory=lambda: list(KINDS))
    actions: list[str] = Field(
        default_factory=lambda: ["approve", "disburse"],
        description="action effects refused during the period",
    )

    @model_validator(mode="after")
    def _ordered(self) -> FreezePeriod:
        if self.ends_on < self.starts_on:
            raise ValueError("ends_on is before starts_on")
        return self


class RuleSet(StrictModel):
    version: str = Field(min_length=1, max_length=40)
    effective_from: date
    lpj_due_month: int = Field(
        default=1, ge=1, le=12, description="LPJ due month of the next budget year (10 January)"
    )
    lpj_due_day: int = Field(default=10, ge=1, le=28)
    max_tranches: int = Field(default=3, ge=1, le=12, description="disbursements per proposal")


DEFAULT_RULE_SET = RuleSet(version="permendagri-32-2011-123-2018", effective_from=date(2018, 1, 1))

CHECKLIST_ITEMS: dict[str, str] = {
    "proposal_letter": "Surat permohonan / proposal",
    "rab": "Rencana anggaran biaya (RAB)",
    "legal_entity_decree": "Akta / SK Kemenkumham",
    "npwp": "NPWP",
    "domicile_letter": "Surat keterangan domisili",
    "ktp_chair": "KTP ketua",
    "ktp_secretary": "KTP sekretaris",
    "bank_statement": "Rekening bank",
    "lpj_evidence": "Bukti LPJ (foto dan kuitansi)",
}

# The OPD's berita acara checklist (Bandung's SKPD checklist, domain-brief §1.5).
EVALUATION_CHECKLIST: dict[str, str] = {
    "unit_costs_match": "Harga sesuai standar satuan harga",
    "items_needed": "Barang/kegiatan memang dibutuhkan",
    "organisation_real": "Organisasi tidak fiktif (hasil kunjungan lapangan)",
    "address_matches": "Alamat sesuai",
    "not_funded_last_year": "Tidak menerima hibah tahun anggaran sebelumnya",
    "ktp_verified": "KTP pengurus terverifikasi",
    "legal_entity_verified": "Status badan hukum terverifikasi",
}

DESK_LABELS: dict[str, str] = {
    "applicant": "Pemohon",
    "clerk": "Tata Usaha",
    "coordinator": "Tim Pertimbangan",
    "opd_evaluator": "OPD pengevaluasi",
    "tapd": "TAPD",
    "head": "Kepala Daerah",
    "finance": "Keuangan (BPKAD)",
    "auditor": "Auditor",
    "admin": "Admin",
}


class SabilulunganSection(StrictModel):
    tracking_prefix: str = Field(default="SB", pattern=r"^[A-Z]{1,10}$")
    workflow: WorkflowDef | None = Field(
        default=None, description="replaces the default workflow (sabilulungan.workflow)"
    )
    action_effects: dict[str, Effect] = Field(
        default_factory=dict, description="effect of an action whose name is not an effect"
    )
    proposal_windows: list[ProposalWindow] = Field(default_factory=list)
    require_window: bool = Field(
        default=False, description="refuse proposals for fiscal years without a window"
    )
    freeze_periods: list[FreezePeriod] = Field(default_factory=list)
    rule_sets: list[RuleSet] = Field(default_factory=lambda: [DEFAULT_RULE_SET], min_length=1)
    continuity_exempt: list[str] = Field(
        default_factory=lambda: ["KONI", "PMI", "Pramuka", "Korpri"],
        description="bodies funded yearly by law: no 'funded last year' flag (name contains)",
    )
    blocking_flags: list[
        Literal[
            "funded_previous_year",
            "shared_nik",
            "shared_bank_account",
            "shared_board_member",
            "overdue_report",
        ]
    ] = Field(default_factory=list, description="integrity flags that refuse an approval")
    checklist_items: dict[str, str] = Field(default_factory=lambda: dict(CHECKLIST_ITEMS))
    evaluation_checklist: dict[str, str] = Field(
        default_factory=lambda: dict(EVALUATION_CHECKLIST),
        description="berita acara items the OPD answers when recommending",
    )
    desk_labels: dict[str, str] = Field(default_factory=lambda: dict(DESK_LABELS))
    decree_annex_title: str = "Lampiran Keputusan Kepala Daerah tentang Penerima Hibah dan Bansos"

    @field_validator("rule_sets")
    @classmethod
    def _unique_versions(cls, value: list[RuleSet]) -> list[RuleSet]:
        versions = [r.version for r in value]
        if len(set(versions)) != len(versions):
            raise ValueError("rule set versions must be unique")
        return sorted(value, key=lambda r: r.effective_from)

    @field_validator("proposal_windows")
    @classmethod
    def _one_window_per_year(cls, value: list[ProposalWindow]) -> list[ProposalWindow]:
        years = [w.fiscal_year for w in value]
        if len(set(years)) != len(years):
            raise ValueError("one proposal window per fiscal year")
        return value

    @model_validator(mode="after")
    def _names_are_known(self) -> SabilulunganSection:
        names = {a.name for a in (self.workflow or DEFAULT_WORKFLOW).actions}
        unknown = sorted(set(self.action_effects) - names)
        if unknown:
            raise ValueError(f"action_effects names unknown actions: {', '.join(unknown)}")
        for period in self.freeze_periods:
            wrong = sorted(set(period.actions) - names - EFFECT_NAMES)
            if wrong:
                raise ValueError(
                    f"freeze period '{period.name}' names unknown actions: {', '.join(wrong)}"
                )
        return self

    def rule_set_on(self, day: date) -> RuleSet:
        current = self.rule_sets[0]
        for rule in self.rule_sets:
            if rule.effective_from <= day:
                current = rule
        return current

    def window_for(self, fiscal_year: int) -> ProposalWindow | None:
        return next((w for w in self.proposal_windows if w.fiscal_year == fiscal_year), None)


class SabilulunganConfig(RegencyConfigBase):
    sabilulungan: SabilulunganSection = SabilulunganSection()
