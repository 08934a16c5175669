"""SABILULUNGAN's API models: what comes in and what goes out."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from shared.pagination import Page
from shared.validators import NIK, NPWP, KodeWilayah, PhoneNumber

Kind = Literal["hibah", "bansos"]
Rupiah = Annotated[int, Field(gt=0, le=10**15, description="whole rupiah")]
Text200 = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
BankAccount = Annotated[
    str, StringConstraints(strip_whitespace=True, pattern=r"^[0-9][0-9 .\-]{5,30}$")
]


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class BudgetCreate(Input):
    fiscal_year: int = Field(ge=2000, le=2100)
    kind: Kind
    ceiling_idr: Rupiah


class BudgetUpdate(Input):
    ceiling_idr: Rupiah


class BudgetKindRead(BaseModel):
    kind: Kind
    ceiling_idr: int
    approved_idr: int
    disbursed_idr: int
    remaining_idr: int
    proposed_idr: int = 0
    recommended_idr: int = 0
    reported_idr: int = 0
    refunded_idr: int = 0
    released_idr: int = 0
    proposals: int = 0


class BudgetRead(BaseModel):
    id: int
    fiscal_year: int
    kind: Kind
    ceiling_idr: int
    approved_idr: int
    disbursed_idr: int
    remaining_idr: int


class PublicBudgetRead(BaseModel):
    fiscal_year: int
    kinds: dict[str, BudgetKindRead]


class RegisterCreate(Input):
    username: Annotated[
        str, StringConstraints(strip_whitespace=True, pattern=r"^[a-zA-Z0-9_.\-]{3,64}$")
    ]
    password: Annotated[str, StringConstraints(min_length=10, max_length=256)]
    full_name: Text200
    email: Annotated[str, StringConstraints(strip_whitespace=True, max_length=254)] | None = Field(
        default=None, description="verified by a link; required when EMAIL_REQUIRED is set"
    )
    phone: Annotated[str, StringConstraints(strip_whitespace=True, max_length=32)] | None = None


class RegisterRead(BaseModel):
    username: str
    roles: list[str]


class BudgetLineIn(Input):
    description: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)
    ]
    amount_idr: Rupiah


class BoardMemberIn(Input):
    name: Text200
    nik: NIK
    position: Text200


class ApplicantIn(Input):
    type: Literal["individual", "organization"]
    name: Text200
    nik: NIK | None = None
    legal_entity_number: (
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=100)]
        | None
    ) = None
    npwp: NPWP | None = None
    address: Annotated[str, StringConstraints(strip_whitespace=True, min_length=5, max_length=500)]
    region_code: KodeWilayah
    phone: PhoneNumber
    bank_account: BankAccount | None = None
    board_members: list[BoardMemberIn] = Field(default_factory=list, max_length=30)
    category: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{1,40}$")] | None = Field(
        default=None,
        description="recipient category (rule set's recipient_categories); by default the "
        "kind's usual one: legal_entity for hibah, individual or social_group for bansos",
    )
    registered_on: dt.date | None = Field(
        default=None, description="date of the legal-entity decree / SKT (registration age)"
    )


class ProposalCreate(Input):
    kind: Kind
    fiscal_year: int = Field(ge=2000, le=2100)
    title: Text200
    purpose: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=5000)]
    requested_amount_idr: Rupiah
    budget_lines: list[BudgetLineIn] = Field(min_length=1, max_length=200)
    applicant: ApplicantIn
    purpose_code: Annotated[str, StringConstraints(max_length=40)] | None = Field(
        default=None, description="bansos purpose (rehabilitasi_sosial, ...)"
    )
    social_risk: Annotated[str, StringConstraints(max_length=40)] | None = Field(
        default=None,
        description="bansos: the social risk the recipient faces (the category's social_risks)",
    )


class LineSpending(Input):
    description: Annotated[str, StringConstraints(strip_whitespace=True, max_length=300)]
    spent_idr: int = Field(ge=0, le=10**15)


class TransitionCreate(Input):
    action: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_-]*$", max_length=64)]
    note: Annotated[str, StringConstraints(max_length=2000)] | None = None
    amount_idr: Rupiah | None = None
    decree_number: (
        Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)] | None
    ) = None
    agreement_number: (
        Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)] | None
    ) = None
    opd_code: (
        Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z0-9_.\-]{1,64}$")]
        | None
    ) = None
    checklist: dict[str, bool] | None = Field(
        default=None, description="berita acara checklist of the OPD evaluation"
    )
    spent_idr: int | None = Field(
        default=None, ge=0, le=10**15, description="LPJ: rupiah spent (the sum of `spending`)"
    )
    spending: list[LineSpending] | None = Field(
        default=None,
        max_length=200,
        description="LPJ: rupiah spent per RAB line, one per line in the RAB's order",
    )
    unspent_idr: int | None = Field(
        default=None, ge=0, le=10**15, description="LPJ: rupiah unspent, returned to Kas Daerah"
    )
    tranches: list[Rupiah] | None = Field(
        default=None,
        min_length=1,
        max_length=12,
        description="NPHD: the disbursement schedule in rupiah, adding up to the approved amount",
    )


class BudgetLineRead(BaseModel):
    description: str
    amount_idr: int
    spent_idr: int | None = None


class BoardMemberRead(BaseModel):
    name: str
    position: str
    nik: str


class ApplicantRead(BaseModel):
    type: str
    name: str
    legal_entity_number: str | None
    region_code: str
    address: str
    phone: str
    nik: str | None
    npwp: str | None
    bank_account: str | None
    board_members: list[BoardMemberRead]


class HistoryEntry(BaseModel):
    state: str
    label: str
    action: str
    actor_role: str
    entered_at: dt.datetime
    note: str | None
    amount_idr: int | None
    rule_version: str


class ProposalRead(BaseModel):
    id: int
    tracking_code: str
    kind: str
    fiscal_year: int
    title: str
    purpose: str
    status: str
    status_label: str
    status_since: dt.datetime
    holder: str | None
    opd_code: str | None
    requested_amount_idr: int
    recommended_amount_idr: int | None
    final_amount_idr: int | None
    approved_amount_idr: int | None
    disbursed_idr: int
    decree_number: str | None
    agreement_number: str | None
    lpj_due_date: dt.date | None
    reported_at: dt.datetime | None
    recipient_category: str | None = None
    spent_idr: int | None = None
    refunded_idr: int = 0
    released_idr: int = 0
    report_late: bool = False
    tranche_plan: list[int] | None = Field(
        default=None, description="the disbursement schedule in rupiah (NPHD or rule set)"
    )
    missing_documents: list[str] = Field(
        default_factory=list, description="documents the next step still needs"
    )
    available_actions: list[str]
    budget_lines: list[BudgetLineRead]
    applicant: ApplicantRead
    history: list[HistoryEntry] = Field(
        default_factory=list, description="every stage entered, with the notes given"
    )


class ProposalSummary(BaseModel):
    id: int
    tracking_code: str
    kind: str
    fiscal_year: int
    title: str
    applicant_name: str
    status: str
    status_label: str
    status_since: dt.datetime
    opd_code: str | None
    requested_amount_idr: int
    overdue: bool
    due_date: dt.date | None


ProposalPage = Page[ProposalSummary]


class FlagRead(BaseModel):
    code: str
    message: str
    blocking: bool
    related: list[str] = Field(description="tracking codes of the other proposals involved")


class FlagsRead(BaseModel):
    proposal_id: int
    flags: list[FlagRead]


class TimelineEntry(BaseModel):
    stage: str
    label: str | None
    holder: str | None
    entered_at: dt.datetime
    left_at: dt.datetime | None
    working_days: int
    sla_working_days: int | None
    overdue: bool


class TrackRead(BaseModel):
    tracking_code: str
    kind: str
    fiscal_year: int
    title: str
    status: str
    status_label: str
    holder: str | None
    holder_label: str | None
    since: dt.datetime
    final: bool
    timeline: list[TimelineEntry]


class LedgerRow(BaseModel):
    tracking_code: str
    fiscal_year: int
    kind: str
    recipient_type: str
    recipient_name: str
    recipient_address: str | None
    region_code: str
    title: str
    status: str
    opd_code: str | None
    requested_idr: int
    recommended_idr: int | None
    approved_idr: int | None
    disbursed_idr: int
    reported: bool
    decree_number: str | None
    refunded_idr: int = 0
    released_idr: int = 0
    report_late: bool = False


LedgerPage = Page[LedgerRow]


class DictionaryField(BaseModel):
    name: str
    type: str
    description: str


class DataDictionaryRead(BaseModel):
    dataset: str
    license: str
    privacy: str
    fields: list[DictionaryField]


class DocumentRead(BaseModel):
    id: int
    proposal_id: int
    checklist_item: str
    filename: str
    content_type: str
    size_bytes: int
    sha256: str
    uploaded_at: dt.datetime


class DecreeAnnexCreate(Input):
    decree_number: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)
    ]
    fiscal_year: int = Field(ge=2000, le=2100)


class IssuedDocumentRead(BaseModel):
    number: str
    doc_type: str
    official_number: str
    fiscal_year: int
    amount_idr: int
    issued_at: dt.datetime
    verify_url: str
    pdf_url: str


class VerificationRead(BaseModel):
    valid: bool
    signature_valid: bool | None = Field(
        description="the QR token's Ed25519 signature checks out (null when no token was given)"
    )
    document_number: str
    doc_type: str
    official_number: str
    fiscal_year: int
    kind: str | None
    tracking_code: str | None
    recipient_name: str | None
    amount_idr: int
    issued_date: dt.date


class PersonalDataRead(BaseModel):
    proposal_id: int
    applicant: ApplicantRead
