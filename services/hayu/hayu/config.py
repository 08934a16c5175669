"""HAYU's section of the regency configuration (`[hayu]` in the regency TOML).

Every default follows a national rule and says which; a regency overrides what its own Perbup sets.

```toml
[[hayu.capital_thresholds]]        # a new row with a later date changes the line from that date
effective_from = 2008-07-04
self_report_below_idr = 500000000   # UU 20/2008: the "usaha kecil" ceiling (Bandung's cut-off)
basis = "UU 20/2008 Pasal 6"

[[hayu.permit_types]]               # replaces the whole default catalogue when given
code = "REKLAME"
name = "Izin Penyelenggaraan Reklame"
self_report_allowed = false
sla_working_days = 9                # = the stage SLAs on its path (1 + 2 + 3 + 2 + 1)
...
[hayu.workflow]                     # replaces the default permit workflow (shared.workflow format)
```
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal, cast

from pydantic import Field, StringConstraints, model_validator

from hayu.workflow import (
    DEFAULT_ACTION_EFFECTS,
    DEFAULT_PERMIT_WORKFLOW,
    DEFAULT_SEPARATED_ACTIONS,
    EFFECT_NAMES,
    REQUIRED_STATES,
)
from shared.config import RegencyConfigBase, StrictModel
from shared.notifications import NotificationTemplates
from shared.workflow import WorkflowDef

RiskLevel = Literal["rendah", "menengah_rendah", "menengah_tinggi", "tinggi"]
RISK_LABELS: dict[str, str] = {
    "rendah": "Rendah",
    "menengah_rendah": "Menengah rendah",
    "menengah_tinggi": "Menengah tinggi",
    "tinggi": "Tinggi",
}
Code = Annotated[str, StringConstraints(pattern=r"^[A-Z][A-Z0-9-]{1,31}$")]
Slug = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{1,39}$")]


SizeClass = Literal["mikro", "kecil", "menengah", "besar"]
SIZE_LABELS: dict[str, str] = {
    "mikro": "Usaha mikro",
    "kecil": "Usaha kecil",
    "menengah": "Usaha menengah",
    "besar": "Usaha besar",
}
SIZE_ORDER: tuple[str, ...] = ("mikro", "kecil", "menengah", "besar")
RISK_ORDER: tuple[str, ...] = ("rendah", "menengah_rendah", "menengah_tinggi", "tinggi")


class CapitalThreshold(StrictModel):
    """Which businesses only self-report, from `effective_from` on. Exactly one of:

    * `self_report_below_idr`: business capital (excluding land and buildings) strictly below;
    * `self_report_max_idr`: capital at most this amount (inclusive);
    * `self_report_classes`: the business-size classes (`size_classes`) that self-report.
    """

    effective_from: date
    self_report_below_idr: int | None = Field(default=None, gt=0, description="whole rupiah")
    self_report_max_idr: int | None = Field(default=None, gt=0, description="whole rupiah")
    self_report_classes: list[SizeClass] | None = Field(default=None, min_length=1)
    basis: str = Field(min_length=3, description="the rule this line comes from")

    @model_validator(mode="after")
    def _exactly_one_line(self) -> CapitalThreshold:
        given = [
            self.self_report_below_idr is not None,
            self.self_report_max_idr is not None,
            self.self_report_classes is not None,
        ]
        if sum(given) != 1:
            raise ValueError(
                "give exactly one of self_report_below_idr, self_report_max_idr, "
                "self_report_classes"
            )
        return self

    @property
    def limit_idr(self) -> int:
        """The capital line in rupiah (0 when the rule is by size class)."""
        return self.self_report_below_idr or self.self_report_max_idr or 0

    def allows(self, capital_idr: int, size_class: str) -> bool:
        if self.self_report_below_idr is not None:
            return capital_idr < self.self_report_below_idr
        if self.self_report_max_idr is not None:
            return capital_idr <= self.self_report_max_idr
        return size_class in (self.self_report_classes or [])

    @property
    def version(self) -> str:
        if self.self_report_below_idr is not None:
            return (
                f"capital-threshold:{self.effective_from.isoformat()}:{self.self_report_below_idr}"
            )
        if self.self_report_max_idr is not None:
            return f"capital-max:{self.effective_from.isoformat()}:{self.self_report_max_idr}"
        return f"self-report-classes:{self.effective_from.isoformat()}:" + "+".join(
            self.self_report_classes or []
        )


class SizeClassRule(StrictModel):
    """Business-size classes (PP 7/2021 Pasal 35): upper bounds, inclusive, in whole rupiah.

    Capital excludes land and buildings. Annual sales are the alternative criterion: when a
    business states them, HAYU takes the larger of the two classes.
    """

    effective_from: date
    basis: str = Field(min_length=3)
    micro_capital_max_idr: int = Field(default=1_000_000_000, gt=0)
    small_capital_max_idr: int = Field(default=5_000_000_000, gt=0)
    medium_capital_max_idr: int = Field(default=10_000_000_000, gt=0)
    micro_sales_max_idr: int = Field(default=2_000_000_000, gt=0)
    small_sales_max_idr: int = Field(default=15_000_000_000, gt=0)
    medium_sales_max_idr: int = Field(default=50_000_000_000, gt=0)

    @model_validator(mode="after")
    def _increasing(self) -> SizeClassRule:
        for kind in ("capital", "sales"):
            bounds = [getattr(self, f"{c}_{kind}_max_idr") for c in ("micro", "small", "medium")]
            if bounds != sorted(set(bounds)) or len(set(bounds)) != 3:
                raise ValueError(f"size_classes: the {kind} bounds must increase")
        return self

    @staticmethod
    def _band(amount: int, bounds: tuple[int, int, int]) -> str:
        for name, bound in zip(SIZE_ORDER, bounds, strict=False):
            if amount <= bound:
                return name
        return "besar"

    def classify(self, capital_idr: int, annual_sales_idr: int | None = None) -> str:
        by_capital = self._band(
            capital_idr,
            (self.micro_capital_max_idr, self.small_capital_max_idr, self.medium_capital_max_idr),
        )
        if annual_sales_idr is None:
            return by_capital
        by_sales = self._band(
            annual_sales_idr,
            (self.micro_sales_max_idr, self.small_sales_max_idr, self.medium_sales_max_idr),
        )
        return max(by_capital, by_sales, key=SIZE_ORDER.index)

    @property
    def version(self) -> str:
        return f"size-classes:{self.effective_from.isoformat()}"


DEFAULT_SIZE_CLASSES: tuple[SizeClassRule, ...] = (
    SizeClassRule(
        effective_from=date(2021, 2, 2),
        basis="PP 7/2021 Pasal 35: modal usaha di luar tanah dan bangunan; hasil penjualan tahunan",
    ),
)


def _dated(rows: list[Any], day: date) -> Any:
    """The row in force on `day` (the earliest one before any row existed)."""
    ordered = sorted(rows, key=lambda r: r.effective_from)
    current = ordered[0]
    for row in ordered:
        if row.effective_from <= day:
            current = row
    return current


class DocumentItem(StrictModel):
    code: Slug
    label: str = Field(min_length=2, max_length=200)


class PermitTypeDef(StrictModel):
    code: Code
    name: str = Field(min_length=3, max_length=200)
    self_report_allowed: bool = Field(
        description="below the capital threshold the business only self-reports"
    )
    required_documents: list[DocumentItem] = Field(default_factory=list)
    sla_working_days: int = Field(ge=0, le=365, description="whole process, in working days")
    fee_idr: int = Field(default=0, ge=0, description="retribusi in whole rupiah; 0 = free")
    validity_months: int | None = Field(
        default=None, ge=1, le=600, description="None: valid while the business runs"
    )
    risk_level: RiskLevel = "rendah"
    needs_inspection: bool = False
    deemed_approval: bool = Field(
        default=True,
        description="fiktif positif: issued when the whole SLA lapses undecided",
    )
    oss_permit: bool = Field(
        default=False,
        description="a permit inside OSS-RBA (PP 28/2025); false: a local permit",
    )
    oss_code: str | None = Field(
        default=None,
        pattern=r"^[0-9A-Za-z._-]{1,40}$",
        description="OSS's code of this permit (kd_izin); default: the type's own code",
    )
    legal_basis: str = Field(
        default="Peraturan Daerah/Peraturan Kepala Daerah setempat",
        min_length=3,
        description="printed on the certificate",
    )
    deemed_approval_basis: str | None = Field(
        default=None,
        description="cited by deemed approval; default by `oss_permit`",
    )

    @property
    def deemed_basis(self) -> str:
        if self.deemed_approval_basis:
            return self.deemed_approval_basis
        if self.oss_permit:
            return "PP 28/2025 (fiktif positif perizinan berusaha berbasis risiko)"
        return "UU 30/2014 Pasal 53 sebagaimana diubah UU 6/2023"

    def document(self, code: str) -> DocumentItem | None:
        return next((d for d in self.required_documents if d.code == code), None)


_KTP = DocumentItem(code="ktp", label="KTP pemilik")
DEFAULT_PERMIT_TYPES: tuple[PermitTypeDef, ...] = (
    PermitTypeDef(
        code="REG-UMK",
        name="Pendaftaran Usaha Mikro dan Kecil",
        self_report_allowed=True,
        required_documents=[_KTP],
        sla_working_days=6,  # stages: 1 + 2 + 2 + 1
        risk_level="rendah",
        legal_basis="PP 6/2021; PP 7/2021 Pasal 35 (kriteria usaha mikro dan kecil)",
    ),
    # SIUP, TDP and IUI are gone since PP 5/2021 (now PP 28/2025): trade and industry are
    # licensed through the NIB and, by risk, a Sertifikat Standar or an Izin inside OSS-RBA.
    PermitTypeDef(
        code="SS",
        name="Sertifikat Standar (verifikasi daerah)",
        self_report_allowed=True,
        required_documents=[
            _KTP,
            DocumentItem(code="npwp", label="NPWP usaha"),
            DocumentItem(code="akta", label="Akta pendirian atau surat keterangan usaha"),
        ],
        sla_working_days=6,
        validity_months=60,
        risk_level="menengah_rendah",
        oss_permit=True,
        legal_basis="PP 28/2025 (perizinan berusaha berbasis risiko); PP 6/2021",
    ),
    PermitTypeDef(
        code="REKLAME",
        name="Izin Penyelenggaraan Reklame",
        self_report_allowed=False,
        required_documents=[
            _KTP,
            DocumentItem(code="desain", label="Desain dan ukuran reklame"),
            DocumentItem(code="bukti_retribusi", label="Bukti bayar retribusi"),
        ],
        sla_working_days=9,  # stages: 1 + 2 + 3 (inspection) + 2 + 1
        fee_idr=0,  # Kotawaringin Timur: free; the retribution is paid separately
        validity_months=12,
        risk_level="menengah_tinggi",
        needs_inspection=True,
        legal_basis="Peraturan Daerah tentang penyelenggaraan reklame",
    ),
)

DEFAULT_THRESHOLDS: tuple[CapitalThreshold, ...] = (
    CapitalThreshold(
        effective_from=date(2008, 7, 4),
        self_report_below_idr=500_000_000,
        basis="UU 20/2008: batas atas kekayaan bersih usaha kecil (di luar tanah dan bangunan)",
    ),
)


class Signatory(StrictModel):
    """The official who signs certificates on behalf of the bupati/wali kota."""

    title: str = Field(
        default="Kepala Dinas Penanaman Modal dan Pelayanan Terpadu Satu Pintu", min_length=3
    )
    name: str | None = Field(default=None, min_length=3, max_length=200)
    nip: str | None = Field(default=None, pattern=r"^\d{18}$", description="18-digit NIP")
    delegation: str = Field(
        default="Peraturan Kepala Daerah tentang pendelegasian kewenangan perizinan",
        min_length=3,
        description="the act delegating the authority to sign",
    )


DEFAULT_OSS_STATUS_CODES: dict[str, str] = {
    "submit": "09",  # received
    "request_documents": "11",  # incomplete: documents asked for (the clock pauses)
    "verify_documents": "10",  # complete: the officer found every document complete and right
    "accept": "20",  # in review: the officer takes the file into verification
    "record_inspection": "20",  # in review again, now with the approver
    "schedule_inspection": "40",  # field check
    "request_revision": "41",  # returned to the applicant (the clock pauses)
    "resubmit": "42",  # resubmitted (the clock runs again)
    "approve": "50",  # approved
    "deemed_approval": "57",  # deemed approved (fiktif positif)
    "reject": "90",  # rejected
}
"""Workflow action -> OSS status code. Public OSS-RBA integrations show 10 (documents complete),
20 (in review) and 50 (issued); the other codes are placeholders to check against the guide.
`accept` does not check the checklist (an officer may accept a file with documents still
missing), so it reports 20, not 10; 10 comes with `verify_documents`, which does."""
DEFAULT_OSS_STATUS_NAMES: dict[str, str] = {
    "09": "Permohonan Diterima",
    "10": "Dokumen Lengkap",
    "11": "Dokumen Belum Lengkap",
    "20": "Verifikasi/Pemenuhan Komitmen",
    "40": "Pemeriksaan Lapangan",
    "41": "Dikembalikan kepada Pelaku Usaha",
    "42": "Perbaikan Diajukan Kembali",
    "50": "Izin Terbit",
    "57": "Izin Terbit (Fiktif Positif)",
    "90": "Ditolak",
}

OssCode = Annotated[str, StringConstraints(pattern=r"^\d{2}$")]


class OssSection(StrictModel):
    """The OSS-RBA link; it runs only when `HAYU_OSS_BASE_URL` is set."""

    status_codes: dict[str, OssCode] = Field(
        default_factory=lambda: dict(DEFAULT_OSS_STATUS_CODES),
        description="workflow action → OSS status code (receiveLicenseStatus kd_status)",
    )
    status_names: dict[OssCode, Annotated[str, StringConstraints(min_length=2)]] = Field(
        default_factory=lambda: dict(DEFAULT_OSS_STATUS_NAMES),
        description="OSS status code → nama_status sent with it",
    )
    issued_code: OssCode = Field(
        default="50", description="status_izin of a licence sent by receiveLicense"
    )
    token_header: str = Field(
        default="user_key",
        pattern=r"^[A-Za-z][A-Za-z0-9_-]{0,63}$",
        description="the request header carrying HAYU_OSS_TOKEN",
    )
    max_attempts: int = Field(default=8, ge=1, le=100)
    backoff_seconds: int = Field(default=30, ge=1, le=3600)


class LkpmSection(StrictModel):
    """LKPM windows: months (by size class) whose days 1..last_day are for reporting."""

    months: dict[SizeClass, list[Annotated[int, Field(ge=1, le=12)]]] = Field(
        default_factory=lambda: cast(
            "dict[SizeClass, list[int]]",
            {"kecil": [1, 7], "menengah": [1, 4, 7, 10], "besar": [1, 4, 7, 10]},
        )
    )
    last_day: int = Field(default=10, ge=1, le=28)


class HayuSection(StrictModel):
    capital_thresholds: list[CapitalThreshold] = Field(
        default_factory=lambda: list(DEFAULT_THRESHOLDS), min_length=1
    )
    permit_types: list[PermitTypeDef] = Field(
        default_factory=lambda: list(DEFAULT_PERMIT_TYPES), min_length=1
    )
    workflow: WorkflowDef = DEFAULT_PERMIT_WORKFLOW
    office_name: str = "Dinas Penanaman Modal dan Pelayanan Terpadu Satu Pintu"
    registration_number_template: str = "REG-{code}-{year}-{seq:06d}"
    permit_number_template: str = "{seq:05d}/{type}/{code}/DPMPTSP/{roman_month}/{year}"
    tracking_prefix: str = Field(default="HY", pattern=r"^[A-Z]{1,10}$")
    audit_sample_max_percent: int = Field(default=100, ge=1, le=100)
    signatory: Signatory = Signatory()
    oss: OssSection = OssSection()
    lkpm: LkpmSection = LkpmSection()
    size_classes: list[SizeClassRule] = Field(
        default_factory=lambda: list(DEFAULT_SIZE_CLASSES), min_length=1
    )
    jurisdiction_prefixes: list[Annotated[str, StringConstraints(pattern=r"^\d{2}(\.\d{2})*$")]] = (
        Field(
            default_factory=list,
            description="region codes a business must lie in; empty: the regency's own code",
        )
    )
    action_effects: dict[str, list[str]] = Field(
        default_factory=lambda: {k: list(v) for k, v in DEFAULT_ACTION_EFFECTS.items()}
    )
    separated_actions: list[tuple[str, str]] = Field(
        default_factory=lambda: list(DEFAULT_SEPARATED_ACTIONS),
        description="pairs of actions one person may not both take on the same file",
    )
    permit_required_risk_levels: list[RiskLevel] = Field(
        default_factory=lambda: cast("list[RiskLevel]", ["menengah_tinggi", "tinggi"]),
        description="a KBLI of these risk levels always goes to the permit path",
    )

    @model_validator(mode="after")
    def _consistent(self) -> HayuSection:
        days = [t.effective_from for t in self.capital_thresholds]
        if len(set(days)) != len(days):
            raise ValueError("capital_thresholds: two rows take effect on the same date")
        codes = [p.code for p in self.permit_types]
        if len(set(codes)) != len(codes):
            raise ValueError("permit_types: a code is defined more than once")
        names = {s.name for s in self.workflow.states}
        missing = sorted(REQUIRED_STATES - names)
        if missing:
            raise ValueError(f"workflow: HAYU needs the states {', '.join(missing)}")
        if self.workflow.initial_state != "submitted":
            raise ValueError("workflow: the initial state must be 'submitted'")
        # Names of actions a replaced workflow lacks are ignored (the defaults name the default
        # workflow's actions); an unknown effect stops start-up.
        for action, effects in self.action_effects.items():
            unknown = sorted(set(effects) - EFFECT_NAMES)
            if unknown:
                raise ValueError(f"action_effects.{action}: unknown effects {', '.join(unknown)}")
        days = [t.effective_from for t in self.size_classes]
        if len(set(days)) != len(days):
            raise ValueError("size_classes: two rows take effect on the same date")
        for permit_type in self.permit_types:
            stages = self.stage_sla_sum(permit_type)
            # equal, not merely within: stage SLAs above the type's would make every file late
            # by its stages, below it would leave working days no stage owns (issue 15)
            if stages != permit_type.sla_working_days:
                raise ValueError(
                    f"permit_types: the stage SLAs of {permit_type.code} add up to {stages} "
                    f"working days, not its SLA of {permit_type.sla_working_days}"
                )
        return self

    def stage_sla_sum(self, permit_type: PermitTypeDef) -> int:
        """Working days the workflow's stages allow on this type's path (inspection or not)."""
        return sum(
            s.sla_working_days or 0
            for s in self.workflow.states
            if permit_type.needs_inspection or s.name != "field_inspection"
        )

    def size_classes_on(self, day: date) -> SizeClassRule:
        return cast("SizeClassRule", _dated(self.size_classes, day))

    def threshold_on(self, day: date) -> CapitalThreshold:
        """The rule in force on `day` (the earliest one before any rule existed)."""
        ordered = sorted(self.capital_thresholds, key=lambda t: t.effective_from)
        current = ordered[0]
        for rule in ordered:
            if rule.effective_from <= day:
                current = rule
        return current

    def permit_type(self, code: str) -> PermitTypeDef | None:
        return next((p for p in self.permit_types if p.code == code), None)


class HayuConfig(RegencyConfigBase):
    hayu: HayuSection = HayuSection()
    # [hayu_notifications.<kind>]: the citizens' messages (shared.notifications)
    hayu_notifications: NotificationTemplates = NotificationTemplates()
