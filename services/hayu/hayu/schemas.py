"""HAYU's API shapes: what comes in (XCreate) and what goes out (XRead, XPage)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from shared.pagination import Page
from shared.validators import KBLI, NIK, KodeWilayah, PhoneNumber

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=200)]
# Whole rupiah only: strict refuses 1.5, "500000000" and true; the ceiling keeps BIGINT safe.
Rupiah = Annotated[int, Field(strict=True, ge=0, le=10**15)]
# Nomor Induk Berusaha (OSS-RBA): 13 digits, no published check digit.
NIB = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^\d{13}$")]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class OwnerCreate(_In):
    nik: NIK
    name: Text
    phone: PhoneNumber


class BusinessCreate(_In):
    name: Text
    owner: OwnerCreate
    kbli_codes: list[KBLI] = Field(min_length=1, max_length=20)
    address: Annotated[str, StringConstraints(strip_whitespace=True, min_length=5, max_length=500)]
    region_code: KodeWilayah
    capital_idr: Rupiah
    workforce: Annotated[int, Field(strict=True, ge=0, le=1_000_000)]
    nib: NIB | None = None
    annual_sales_idr: Rupiah | None = None

    @field_validator("kbli_codes")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("a KBLI code is listed twice")
        return value


class ApplicationCreate(_In):
    permit_type_code: Annotated[str, StringConstraints(strip_whitespace=True, max_length=32)]
    business: BusinessCreate


QueryRupiah = Annotated[int, Field(ge=0, le=10**15)]


class FilingFacts(BaseModel):
    """What decides a filing's path: the preview (`GET /filing-decision`) takes what the owner
    knows so far; a filing gives all of it. Both go through `decisions.assess`."""

    permit_type_code: Annotated[str, StringConstraints(strip_whitespace=True, max_length=32)]
    capital_idr: QueryRupiah
    annual_sales_idr: QueryRupiah | None = None
    kbli_codes: list[KBLI] = Field(default_factory=list, max_length=20)
    region_code: KodeWilayah | None = None


class FilingDecisionRead(BaseModel):
    kind: Literal["self_report", "permit"]
    reason: str
    rule_version: str
    threshold_idr: int
    size_class: str = ""
    risk_level: str | None = None
    rule_versions: list[str] = []
    permit_type_name: str
    sla_working_days: int
    fee_idr: int
    required_documents: list[str]


class ApplicationCreated(BaseModel):
    id: int
    kind: Literal["self_report", "permit"]
    status: str
    tracking_code: str
    registration_number: str | None = None
    decision_reason: str
    rule_version: str


class OwnerRead(BaseModel):
    nik: str
    name: str
    phone: str
    masked: bool


class BusinessRead(BaseModel):
    id: int
    name: str
    owner: OwnerRead
    kbli_codes: list[str]
    address: str
    region_code: str
    capital_idr: int
    workforce: int
    nib: str | None = None
    annual_sales_idr: int | None = None


class DocumentRead(BaseModel):
    id: int
    checklist_item: str
    filename: str
    content_type: str
    size_bytes: int
    sha256: str
    uploaded_at: dt.datetime


class ChecklistItemRead(BaseModel):
    code: str
    label: str
    uploaded: bool


class HistoryRead(BaseModel):
    action: str
    from_state: str | None
    to_state: str
    actor_role: str
    note: str | None
    details: dict[str, Any] | None
    occurred_at: dt.datetime


class ApplicationRead(BaseModel):
    id: int
    kind: str
    permit_type_code: str
    status: str
    status_label: str
    status_since: dt.datetime
    stage_due_date: dt.date | None
    overdue: bool
    holder: str | None
    tracking_code: str
    number: str | None
    rule_version: str
    decision_reason: str
    submitted_at: dt.datetime
    issued_at: dt.datetime | None
    valid_until: dt.date | None
    deemed_approved: bool
    revoked_at: dt.datetime | None
    revoke_reason: str | None
    audit_sample_id: int | None
    # the whole-SLA clock (`hayu.sla`): from the complete application, pauses left out
    sla_working_days: int | None = None
    sla_started_at: dt.datetime | None = None
    sla_due_date: dt.date | None = None
    sla_paused: bool = False
    sla_working_days_used: int | None = None
    business: BusinessRead
    checklist: list[ChecklistItemRead]
    documents: list[DocumentRead]
    available_actions: list[str]
    history: list[HistoryRead]


class ApplicationSummary(BaseModel):
    id: int
    kind: str
    permit_type_code: str
    status: str
    status_label: str
    stage_due_date: dt.date | None
    overdue: bool
    tracking_code: str
    number: str | None
    business_name: str
    submitted_at: dt.datetime


ApplicationPage = Page[ApplicationSummary]


class TransitionCreate(_In):
    action: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
    note: Annotated[str, StringConstraints(max_length=2000)] | None = None
    inspection_date: dt.date | None = None
    findings: Annotated[str, StringConstraints(max_length=4000)] | None = None
    inspection_result: Literal["lulus", "tidak_lulus"] | None = None


class StageRead(BaseModel):
    state: str
    label: str
    holder: str | None
    holder_label: str | None
    entered_at: dt.datetime
    left_at: dt.datetime | None
    working_days: int
    sla_working_days: int | None
    due_date: dt.date | None
    overdue: bool


class TrackRead(BaseModel):
    tracking_code: str
    kind: str
    permit_type_code: str
    permit_type_name: str
    status: str
    status_label: str
    holder: str | None
    holder_label: str
    status_since: dt.datetime
    submitted_at: dt.datetime
    sla_working_days: int
    working_days_so_far: int
    """Working days on the whole-SLA clock: from the complete application, pauses left out."""
    sla_started_at: dt.datetime | None = None
    sla_due_date: dt.date | None = None
    sla_paused: bool = False
    overdue: bool
    deemed_approved: bool
    number: str | None
    timeline: list[StageRead]


class VerifyRead(BaseModel):
    valid: bool
    status: Literal["active", "revoked", "expired"]
    number: str
    kind: str
    permit_type: str
    business_name: str
    holder_name_masked: str
    issued_at: dt.datetime
    valid_until: dt.date | None
    deemed_approved: bool
    revoked_at: dt.datetime | None
    signature_checked: bool = False
    signature_valid: bool | None = None


class VerificationKeyRead(BaseModel):
    algorithm: str = "Ed25519"
    key_id: str
    public_key: str
    token_format: str = "base64url(canonical JSON).base64url(Ed25519 signature)"


class CertificateTokenRead(BaseModel):
    number: str
    token: str
    url: str


class PermitTypeRead(BaseModel):
    code: str
    name: str
    self_report_allowed: bool
    required_documents: list[dict[str, str]]
    sla_working_days: int
    fee_idr: int
    validity_months: int | None
    risk_level: str
    needs_inspection: bool
    deemed_approval: bool


class RegionRead(BaseModel):
    code: str
    name: str
    level: str


class KbliRead(BaseModel):
    code: str
    title: str
    category: str


class RegisterCreate(_In):
    username: Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9._-]{2,63}$")]
    password: Annotated[str, StringConstraints(min_length=8, max_length=256)]
    full_name: Text
    email: Annotated[str, StringConstraints(strip_whitespace=True, max_length=254)] | None = Field(
        default=None, description="verified by a link; required when HAYU_EMAIL_REQUIRED is set"
    )
    phone: Annotated[str, StringConstraints(strip_whitespace=True, max_length=32)] | None = None


class AccountRead(BaseModel):
    id: int
    username: str
    full_name: str
    roles: list[str]


class AuditSampleCreate(_In):
    percent: Annotated[int, Field(strict=True, ge=1, le=100)]


class SampledRegistration(BaseModel):
    id: int
    number: str | None
    permit_type_code: str


class AuditSampleRead(BaseModel):
    id: int
    percent: int
    population: int
    drawn_at: dt.datetime
    drawn_by: str
    seed: str | None = None
    seed_checkpoint_position: int | None = None
    selected: list[SampledRegistration]


class AuditFindingCreate(_In):
    application_id: int = Field(ge=1)
    outcome: Literal["sesuai", "tidak_sesuai", "tidak_ditemukan"]
    findings: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=3, max_length=4000)
    ]
    follow_up: Literal["tidak_ada", "pembinaan", "teguran", "pencabutan"]


class AuditFindingRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    sample_id: int
    application_id: int
    outcome: str
    findings: str
    follow_up: str
    recorded_by: str
    recorded_at: dt.datetime


class StatsRow(BaseModel):
    permit_type_code: str
    permit_type_name: str
    sla_working_days: int
    registered: int
    issued: int
    deemed_approved: int
    rejected: int
    revoked: int
    in_progress: int
    median_working_days: float | None
    p90_working_days: float | None
    within_sla_share: float | None


class PostAuditMonth(BaseModel):
    month: str
    sampled: int
    checked: int
    compliant: int
    not_compliant: int
    not_found: int


class StatsRead(BaseModel):
    generated_at: dt.datetime
    items: list[StatsRow]
    post_audit: list[PostAuditMonth] = []


class OssNibPush(BaseModel):
    """OSS's `receiveNIB` push (fields as the integration guide names them). Other fields are
    ignored, never stored; `nik_pemilik` (the owner OSS named) is kept only as a blind index and
    `alamat` not at all (`hayu.oss.receive_nib`)."""

    model_config = ConfigDict(extra="ignore")

    nib: Annotated[str, StringConstraints(pattern=r"^\d{13}$")]
    nama_usaha: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    nik_pemilik: Annotated[str, StringConstraints(pattern=r"^\d{16}$")] | None = None
    kbli: list[KBLI] = Field(default_factory=list, max_length=50)
    alamat: Annotated[str, StringConstraints(max_length=500)] | None = None
    kode_wilayah: KodeWilayah | None = None
    id_permohonan: Annotated[str, StringConstraints(max_length=64)] | None = None


class OssOutboxRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    application_id: int
    idempotency_key: str
    status_code: str
    attempts: int
    next_attempt_at: dt.datetime
    sent_at: dt.datetime | None
    dead: bool
    last_error: str | None


class LkpmDueRead(BaseModel):
    business_id: int
    business_name: str
    nib: str | None
    size_class: str
    period: str
    deadline: dt.date
