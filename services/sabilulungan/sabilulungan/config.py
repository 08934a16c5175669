"""SABILULUNGAN's section of the regency configuration (`[sabilulungan]` in the regency TOML).

Every default follows the national rules of domain-brief §1 and can be replaced per regency:

- `workflow`: the stages (default: Permendagri 32/2011 as amended; a regency may describe its own
  flow, e.g. Bandung's seven steps, as a `[sabilulungan.workflow]` table).
- `action_effects`: what the domain does when an action is taken (record an amount, check the
  budget ceiling, ...). By default an action whose name is an effect has that effect, so a custom
  workflow that reuses the default action names needs nothing here.
- `proposal_windows`: per fiscal year, the dates proposals are accepted (e.g. Mojokerto closes on
  30 April of the year before); `yearly_window` gives the unlisted years theirs (default: the whole
  year before). A fiscal year without a window accepts no proposal (`require_window`); a regency
  that turns this off records why (`no_window_basis`).
- `freeze_periods`: dates (e.g. around a Pilkada) in which the listed actions are refused.
- `rule_sets`: the values that change over time, each with the date it takes effect; every
  transition records the `version` it used.
"""

from __future__ import annotations

import functools
from datetime import date
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from sabilulungan.workflow import DEFAULT_WORKFLOW
from shared.config import RegencyConfigBase, StrictModel
from shared.notifications import NotificationTemplates
from shared.workflow import WorkflowDef

Kind = Literal["hibah", "bansos"]
KINDS: tuple[Kind, ...] = ("hibah", "bansos")
Effect = Literal[
    "none",
    "verify_completeness",
    "assign_opd",
    "reassign_opd",
    "return_to_tapd",
    "reject",
    "return_for_revision",
    "cancel",
    "cancel_paid",
    "close_recovery",
    "refund",
    "refund_recovery",
    "recommend",
    "consider",
    "approve",
    "sign_agreement",
    "disburse",
    "submit_report",
    "accept_report",
    "return_report",
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


class YearlyWindow(StrictModel):
    """The window of every fiscal year N without its own `proposal_windows` entry: dates of the
    year before (proposals in year N-1 for the year-N APBD; Mojokerto: 2 January to 30 April)."""

    enabled: bool = Field(default=True, description="false: only the listed windows are open")
    opens_month: int = Field(default=1, ge=1, le=12)
    opens_day: int = Field(default=1, ge=1, le=31)
    closes_month: int = Field(default=12, ge=1, le=12)
    closes_day: int = Field(default=31, ge=1, le=31)

    @model_validator(mode="after")
    def _valid(self) -> YearlyWindow:
        opens = date(2001, self.opens_month, self.opens_day)  # ValueError on 31 April etc.
        if date(2001, self.closes_month, self.closes_day) < opens:
            raise ValueError("the yearly window closes before it opens")
        return self

    def for_year(self, fiscal_year: int) -> ProposalWindow | None:
        if not self.enabled:
            return None
        return _yearly_window(
            fiscal_year, self.opens_month, self.opens_day, self.closes_month, self.closes_day
        )


@functools.lru_cache(maxsize=256)
def _yearly_window(
    fiscal_year: int, opens_month: int, opens_day: int, closes_month: int, closes_day: int
) -> ProposalWindow:
    """Each submission asks for its year's window: validated once per year and dates, not per
    request (the window is frozen, so one instance serves every caller)."""
    year = fiscal_year - 1
    return ProposalWindow(
        fiscal_year=fiscal_year,
        opens_on=date(year, opens_month, opens_day),
        closes_on=date(year, closes_month, closes_day),
    )


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


DOC_PATTERNS: dict[str, str] = {
    # Kemenkumham (AHU) approval of a yayasan or perkumpulan, e.g. AHU-0012345.AH.01.04.2019
    "ahu": r"^AHU-\d{7}\.AH\.\d{2}\.\d{2}\.\d{4}$",
    # a koperasi's legal-entity decree, e.g. AHU-000123.AH.01.26.2021 or 518/BH/XIII/2015
    "koperasi": r"^(AHU-\d{6,7}\.AH\.\d{2}\.\d{2}\.\d{4}|\d{1,4}/BH/[A-Z0-9.\-/]{2,40})$",
    # an SKT or a regional decree recognising a community/adat group: a numbered letter
    "decree": r"^[0-9A-Za-z.\-]{1,20}(/[0-9A-Za-z.\-]{1,30}){2,8}$",
}


# Bansos criteria (domain-brief §6): recipients facing social risk, selective, domiciled in the
# region, temporary unless the need is permanent. [verify the article numbers at JDIH]
BANSOS_BASIS = (
    "Permendagri 32/2011 s.t.d.t.d. Permendagri 99/2019 Pasal 22-24 (bansos: risiko sosial, "
    "selektif, tidak terus-menerus kecuali kebutuhan permanen)"
)
SOCIAL_RISKS = [
    "kemiskinan", "keterlantaran", "disabilitas", "lanjut_usia_terlantar", "korban_bencana",
    "korban_kekerasan", "keterpencilan",
]  # fmt: skip
PERMANENT_RISKS = ["disabilitas", "lanjut_usia_terlantar"]


class RecipientCategory(StrictModel):
    """Who may receive what (UU 23/2014 Pasal 298(5); Permendagri 32/2011 as amended)."""

    label: str = Field(min_length=3)
    kind: Kind
    applicant_type: Literal["individual", "organization"]
    legal_document: Literal["ahu", "koperasi", "decree"] | None = Field(
        default=None, description="shape the legal-entity number must have (None: not needed)"
    )
    required_documents: list[str] = Field(
        default_factory=list, description="checklist items needed before 'Berkas lengkap'"
    )
    domicile_exempt: bool = Field(
        default=False, description="may sit outside the regency (e.g. vertical agencies)"
    )
    min_registered_years: int = Field(default=0, ge=0, le=10)
    max_amount_idr: int | None = Field(
        default=None, gt=0, description="largest amount one recipient may request"
    )
    purposes: list[str] = Field(
        default_factory=list, description="bansos purposes a proposal must name one of"
    )
    social_risks: list[str] = Field(
        default_factory=list,
        description="selective: the social risk a proposal must name one of (empty: not asked)",
    )
    max_consecutive_years: int | None = Field(
        default=None,
        ge=1,
        le=10,
        description="temporary: fiscal years in a row one recipient may receive (None: no limit)",
    )
    permanent_risks: list[str] = Field(
        default_factory=list,
        description="social risks of a permanent need, exempt from `max_consecutive_years`",
    )
    criteria_basis: str = Field(
        default=BANSOS_BASIS, min_length=3, description="legal basis named in every refusal"
    )

    @model_validator(mode="after")
    def _risks_known(self) -> RecipientCategory:
        unknown = sorted(set(self.permanent_risks) - set(self.social_risks))
        if unknown:
            raise ValueError(f"permanent_risks not in social_risks: {', '.join(unknown)}")
        return self


_ORG_DOCS = [
    "proposal_letter", "rab", "legal_entity_decree", "statute", "board_decree", "npwp",
    "domicile_letter", "ktp_chair", "ktp_secretary", "bank_statement", "integrity_pact",
]  # fmt: skip
_GOV_DOCS = ["proposal_letter", "rab", "bank_statement", "integrity_pact"]
BANSOS_PURPOSES = [
    "rehabilitasi_sosial", "perlindungan_sosial", "pemberdayaan_sosial", "jaminan_sosial",
    "penanggulangan_kemiskinan", "penanggulangan_bencana",
]  # fmt: skip
_BANSOS_CRITERIA: dict[str, Any] = {
    "social_risks": SOCIAL_RISKS, "max_consecutive_years": 1, "permanent_risks": PERMANENT_RISKS,
}  # fmt: skip

RECIPIENT_CATEGORIES: dict[str, RecipientCategory] = {
    "central_government": RecipientCategory(
        label="Pemerintah pusat / instansi vertikal", kind="hibah",
        applicant_type="organization", required_documents=_GOV_DOCS, domicile_exempt=True,
    ),
    "regional_government": RecipientCategory(
        label="Pemerintah daerah lain", kind="hibah", applicant_type="organization",
        required_documents=_GOV_DOCS, domicile_exempt=True,
    ),
    "state_enterprise": RecipientCategory(
        label="BUMN / BUMD", kind="hibah", applicant_type="organization",
        required_documents=[*_GOV_DOCS, "npwp"],
    ),
    "legal_entity": RecipientCategory(
        label="Badan, lembaga atau ormas berbadan hukum Indonesia", kind="hibah",
        applicant_type="organization", legal_document="ahu", required_documents=_ORG_DOCS,
    ),
    "cooperative": RecipientCategory(
        label="Koperasi", kind="hibah", applicant_type="organization",
        legal_document="koperasi", required_documents=_ORG_DOCS,
    ),
    "community_group": RecipientCategory(
        label="Kelompok masyarakat / masyarakat hukum adat yang diakui", kind="hibah",
        applicant_type="organization", legal_document="decree",
        required_documents=[d for d in _ORG_DOCS if d != "statute"],
    ),
    "individual": RecipientCategory(
        label="Perorangan", kind="bansos", applicant_type="individual",
        required_documents=["proposal_letter", "ktp_applicant", "domicile_letter",
                            "social_risk_letter", "bank_statement"],
        max_amount_idr=25_000_000, purposes=BANSOS_PURPOSES, **_BANSOS_CRITERIA,
    ),
    "family": RecipientCategory(
        label="Keluarga", kind="bansos", applicant_type="individual",
        required_documents=["proposal_letter", "ktp_applicant", "family_card",
                            "domicile_letter", "social_risk_letter", "bank_statement"],
        max_amount_idr=50_000_000, purposes=BANSOS_PURPOSES, **_BANSOS_CRITERIA,
    ),
    "social_group": RecipientCategory(
        label="Kelompok / masyarakat", kind="bansos", applicant_type="organization",
        required_documents=["proposal_letter", "rab", "domicile_letter", "ktp_chair",
                            "social_risk_letter", "bank_statement"],
        max_amount_idr=200_000_000, purposes=BANSOS_PURPOSES, **_BANSOS_CRITERIA,
    ),
}  # fmt: skip
DEFAULT_CATEGORY: dict[tuple[str, str], str] = {
    ("hibah", "organization"): "legal_entity",
    ("bansos", "individual"): "individual",
    ("bansos", "organization"): "social_group",
}
LPJ_DOCUMENTS = ["lpj_usage_report", "lpj_receipts", "lpj_photos", "lpj_statement"]


class RuleSet(StrictModel):
    version: str = Field(min_length=1, max_length=40)
    effective_from: date
    lpj_due_month: int = Field(
        default=1, ge=1, le=12, description="LPJ due month of the next budget year (10 January)"
    )
    lpj_due_day: int = Field(default=10, ge=1, le=28)
    max_tranches: int = Field(default=3, ge=1, le=12, description="disbursements per proposal")
    tranche_percentages: list[int] = Field(
        default_factory=lambda: [100],
        min_length=1,
        description="the schedule when the NPHD lists no amounts (bansos always): percent of the "
        "approved amount per tranche, adding up to 100; the last tranche takes the rounding",
    )
    tranche_report_documents: list[str] = Field(
        default_factory=list,
        description="documents uploaded after a tranche is paid before the next one is (e.g. "
        "'progress_report'; empty: order and amount only)",
    )
    lpj_line_ceiling: Literal["proportional", "total"] = Field(
        default="proportional",
        description="LPJ spending per RAB line: 'proportional' caps each line at its share of the "
        "approved amount (line x approved / requested, rounded up); 'total' caps only the sum",
    )
    basis: str = Field(
        default="Permendagri 32/2011 s.t.d.t.d. Permendagri 99/2019; Permendagri 77/2020; "
        "UU 23/2014 Pasal 298",
        min_length=3,
        description="legal basis (Perkada/Perwal number) recorded on every decision",
    )
    recipient_categories: dict[str, RecipientCategory] = Field(
        default_factory=lambda: dict(RECIPIENT_CATEGORIES)
    )
    lpj_documents: list[str] = Field(
        default_factory=lambda: list(LPJ_DOCUMENTS),
        description="evidence an LPJ needs before it is submitted and accepted",
    )
    disbursement_grace_days: int = Field(
        default=0, ge=0, le=90, description="days after 31 December a fiscal year may still pay"
    )

    @model_validator(mode="after")
    def _schedule(self) -> RuleSet:
        if any(p <= 0 for p in self.tranche_percentages) or sum(self.tranche_percentages) != 100:
            raise ValueError("tranche_percentages must be positive and add up to 100")
        if len(self.tranche_percentages) > self.max_tranches:
            raise ValueError("tranche_percentages has more tranches than max_tranches")
        return self

    def tranche_amounts(self, approved: int) -> list[int]:
        """The default schedule in rupiah: each share rounded down, the rest on the last."""
        amounts = [approved * p // 100 for p in self.tranche_percentages]
        amounts[-1] += approved - sum(amounts)
        return amounts


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
    "statute": "AD/ART",
    "board_decree": "SK susunan pengurus",
    "integrity_pact": "Surat pernyataan tanggung jawab / pakta integritas",
    "ktp_applicant": "KTP pemohon",
    "family_card": "Kartu keluarga",
    "social_risk_letter": "Surat keterangan risiko sosial (kelurahan/desa atau Dinas Sosial)",
    "lpj_evidence": "Bukti LPJ (foto dan kuitansi)",
    "lpj_usage_report": "LPJ: laporan penggunaan dana",
    "lpj_receipts": "LPJ: kuitansi / bukti pengeluaran",
    "lpj_photos": "LPJ: foto kegiatan (0/50/100%)",
    "lpj_statement": "LPJ: surat pernyataan tanggung jawab",
    "refund_receipt": "Bukti setor sisa dana ke Kas Daerah",
    "progress_report": "Laporan kemajuan penggunaan tahap sebelumnya",
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


OPD_UNITS: dict[str, str] = {
    "DINSOS": "Dinas Sosial",
    "DISPORA": "Dinas Pemuda dan Olahraga",
    "DISDIK": "Dinas Pendidikan",
    "DINKES": "Dinas Kesehatan",
    "DISBUDPAR": "Dinas Kebudayaan dan Pariwisata",
    "KESRA": "Bagian Kesejahteraan Rakyat",
    "KESBANGPOL": "Badan Kesatuan Bangsa dan Politik",
}

# Who does what on a file: each action is one duty; SEGREGATION lists the pairs of duties no one
# person may both hold on the same file (the applicant against every official duty; clerk,
# evaluator, TAPD, head, treasurer and LPJ reviewer all distinct). Signing the NPHD is its own duty
# ("signatory"): by default the head who approved may also sign it, because Permendagri 32/2011
# Pasal 13 has the NPHD signed by the kepala daerah (or the official he appoints) and the recipient;
# a regency that wants a different signer adds ("head", "signatory") to `segregation`. The
# signatory is still distinct from every other official duty and from the applicant.
ACTION_DUTIES: dict[str, str] = {
    "submit": "applicant", "resubmit": "applicant", "submit_report": "applicant",
    "withdraw": "applicant", "verify_completeness": "clerk", "assign_opd": "coordinator",
    "reassign_opd": "coordinator", "recommend": "evaluator", "consider": "tapd",
    "approve": "head", "return_to_tapd": "head", "sign_agreement": "signatory", "cancel": "head",
    "cancel_paid": "head", "disburse": "treasurer", "refund": "treasurer",
    "refund_recovery": "treasurer", "close_recovery": "treasurer",
    "accept_report": "lpj_reviewer", "return_report": "lpj_reviewer",
}  # fmt: skip
_OFFICIAL_DUTIES = [
    "clerk",
    "coordinator",
    "evaluator",
    "tapd",
    "head",
    "signatory",
    "treasurer",
    "lpj_reviewer",
]
_DISTINCT = ["clerk", "evaluator", "tapd", "head", "treasurer", "lpj_reviewer"]
SEGREGATION: list[tuple[str, str]] = (
    [("applicant", d) for d in _OFFICIAL_DUTIES]
    + [(a, b) for i, a in enumerate(_DISTINCT) for b in _DISTINCT[i + 1 :]]
    + [(d, "signatory") for d in _DISTINCT if d != "head"]
)
SEGREGATION_BASIS = (
    "Permendagri 32/2011 s.t.d.t.d. Permendagri 99/2019 Pasal 13 (NPHD ditandatangani kepala "
    "daerah atau pejabat yang ditunjuk dan penerima hibah); PP 12/2019 Pasal 3 dan Permendagri "
    "77/2020 (pemisahan fungsi otorisasi, verifikasi dan pembayaran)"
)


WINDOW_BASIS = (
    "Permendagri 32/2011 s.t.d.t.d. Permendagri 99/2019 (usulan tertulis pada tahun anggaran "
    "sebelumnya, sebelum KUA-PPAS); jadwal pengajuan menurut Perkada"
)


class SabilulunganSection(StrictModel):
    tracking_prefix: str = Field(default="SB", pattern=r"^[A-Z]{1,10}$")
    workflow: WorkflowDef | None = Field(
        default=None, description="replaces the default workflow (sabilulungan.workflow)"
    )
    action_effects: dict[str, Effect] = Field(
        default_factory=dict, description="effect of an action whose name is not an effect"
    )
    proposal_windows: list[ProposalWindow] = Field(default_factory=list)
    yearly_window: YearlyWindow = Field(
        default_factory=YearlyWindow,
        description="window of a fiscal year not listed in proposal_windows (the year before)",
    )
    require_window: bool = Field(
        default=True, description="refuse proposals for fiscal years without a window"
    )
    window_basis: str = Field(
        default=WINDOW_BASIS,
        min_length=3,
        description="legal basis of the proposal windows, named in every refusal",
    )
    no_window_basis: str = Field(
        default="",
        description="with require_window = false: why a year without a window is open (recorded "
        "on every proposal filed so)",
    )
    freeze_periods: list[FreezePeriod] = Field(default_factory=list)
    rule_sets: list[RuleSet] = Field(default_factory=lambda: [DEFAULT_RULE_SET], min_length=1)
    continuity_exempt: list[str] = Field(
        default_factory=list,
        description="legal-entity numbers of bodies funded yearly by law (KONI, PMI, Pramuka, "
        "Korpri): no 'funded last year' flag (Permendagri 32/2011 Pasal 4(4)c)",
    )
    opd_units: dict[str, str] = Field(
        default_factory=lambda: dict(OPD_UNITS),
        description="units the coordinator may route a proposal to (code: name)",
    )
    segregation: list[tuple[str, str]] = Field(
        default_factory=lambda: list(SEGREGATION),
        description="pairs of duties one person may not both hold on the same file",
    )
    segregation_basis: str = Field(
        default=SEGREGATION_BASIS,
        min_length=3,
        description="legal basis of the segregation table, named in every refusal",
    )
    duties: dict[str, str] = Field(
        default_factory=dict,
        description="duty of an action of a custom workflow (default: ACTION_DUTIES, else role)",
    )
    signatory_name: str = Field(default="", description="who signs the NPHD for the regency")
    signatory_position: str = Field(default="Sekretaris Daerah", min_length=3)
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
        if not self.require_window and len(self.no_window_basis.strip()) < 3:
            raise ValueError(
                "require_window = false needs no_window_basis (the Perkada that allows it)"
            )
        items = set(self.checklist_items)
        for rule in self.rule_sets:
            named = set(rule.lpj_documents) | set(rule.tranche_report_documents)
            for category in rule.recipient_categories.values():
                named |= set(category.required_documents)
            wrong = sorted(named - items)
            if wrong:
                raise ValueError(
                    f"rule set '{rule.version}' names documents that are not checklist items: "
                    + ", ".join(wrong)
                )
        return self

    def rule_set_on(self, day: date) -> RuleSet:
        current = self.rule_sets[0]
        for rule in self.rule_sets:
            if rule.effective_from <= day:
                current = rule
        return current

    def window_for(self, fiscal_year: int) -> ProposalWindow | None:
        listed = next((w for w in self.proposal_windows if w.fiscal_year == fiscal_year), None)
        return listed or self.yearly_window.for_year(fiscal_year)


class SabilulunganConfig(RegencyConfigBase):
    sabilulungan: SabilulunganSection = SabilulunganSection()
    # [sabilulungan_notifications.<kind>]: the citizens' messages (shared.notifications)
    sabilulungan_notifications: NotificationTemplates = NotificationTemplates()
