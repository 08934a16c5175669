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
sla_working_days = 7
...
[hayu.workflow]                     # replaces the default permit workflow (shared.workflow format)
```
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import Field, StringConstraints, model_validator

from hayu.workflow import DEFAULT_PERMIT_WORKFLOW, REQUIRED_STATES
from shared.config import RegencyConfigBase, StrictModel
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


class CapitalThreshold(StrictModel):
    """Below this business capital (excluding land and buildings) a business only self-reports."""

    effective_from: date
    self_report_below_idr: int = Field(gt=0, description="whole rupiah")
    basis: str = Field(min_length=3, description="the rule this line comes from")

    @property
    def version(self) -> str:
        return f"capital-threshold:{self.effective_from.isoformat()}:{self.self_report_below_idr}"


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
        description="PP 28/2025 fiktif positif: issued when the approval SLA lapses undecided",
    )

    def document(self, code: str) -> DocumentItem | None:
        return next((d for d in self.required_documents if d.code == code), None)


_KTP = DocumentItem(code="ktp", label="KTP pemilik")
DEFAULT_PERMIT_TYPES: tuple[PermitTypeDef, ...] = (
    PermitTypeDef(
        code="REG-UMK",
        name="Pendaftaran Usaha Mikro dan Kecil",
        self_report_allowed=True,
        required_documents=[_KTP],
        sla_working_days=3,
        risk_level="rendah",
    ),
    PermitTypeDef(
        code="SIUP",
        name="Izin Usaha Perdagangan",
        self_report_allowed=True,
        required_documents=[
            _KTP,
            DocumentItem(code="npwp", label="NPWP usaha"),
            DocumentItem(code="akta", label="Akta pendirian atau surat keterangan usaha"),
        ],
        sla_working_days=3,  # Purbalingga SOP: SIUP 3 hari kerja (domain brief §2.5)
        validity_months=60,
        risk_level="menengah_rendah",
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
        sla_working_days=7,  # Purbalingga SOP: reklame 7 hari kerja
        fee_idr=0,  # Kotawaringin Timur: free; the retribution is paid separately
        validity_months=12,
        risk_level="menengah_tinggi",
        needs_inspection=True,
    ),
    PermitTypeDef(
        code="IUI",
        name="Izin Usaha Industri",
        self_report_allowed=False,
        required_documents=[
            _KTP,
            DocumentItem(code="npwp", label="NPWP usaha"),
            DocumentItem(code="denah", label="Denah lokasi dan tata letak pabrik"),
        ],
        sla_working_days=10,
        validity_months=60,
        risk_level="tinggi",
        needs_inspection=True,
    ),
)

DEFAULT_THRESHOLDS: tuple[CapitalThreshold, ...] = (
    CapitalThreshold(
        effective_from=date(2008, 7, 4),
        self_report_below_idr=500_000_000,
        basis="UU 20/2008: batas atas kekayaan bersih usaha kecil (di luar tanah dan bangunan)",
    ),
)


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
        return self

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
