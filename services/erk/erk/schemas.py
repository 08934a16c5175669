"""e-RK's request and response bodies."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from shared.validators import NIP

Code = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z0-9._-]{1,32}$")]
PERIOD_PATTERN = r"^\d{4}-(0[1-9]|1[0-2])$"
QUARTER = re.compile(r"\d{4}-Q[1-4]")
MAX_ID = 2**63 - 1
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
Quantity = Annotated[int, Field(ge=0, le=1_000_000_000)]


class ActivityStatus(StrEnum):
    submitted = "submitted"
    approved = "approved"
    rejected = "rejected"


class Decision(StrEnum):
    approved = "approved"
    rejected = "rejected"


class AttendanceStatus(StrEnum):
    present = "present"
    no_clock_in = "no_clock_in"  # at work, but the clock-in is missing
    leave = "leave"  # annual leave (cuti tahunan)
    sick = "sick"
    maternity_leave = "maternity_leave"
    important_leave = "important_leave"  # cuti alasan penting
    duty_travel = "duty_travel"
    training = "training"
    absent = "absent"  # unexcused


ATTENDANCE_WORDS = {
    "present": "hadir",
    "no_clock_in": "tidak absen masuk",
    "leave": "cuti tahunan",
    "sick": "sakit",
    "maternity_leave": "cuti melahirkan",
    "important_leave": "cuti alasan penting",
    "duty_travel": "dinas luar",
    "training": "diklat",
    "absent": "tanpa keterangan",
}

# The status column of an attendance file: the code, or its Indonesian word (with or without
# spaces), or a common short form.
ATTENDANCE_STATUS_OF: dict[str, str] = {
    **{code: code for code in ATTENDANCE_WORDS},
    **{word: code for code, word in ATTENDANCE_WORDS.items()},
    **{word.replace(" ", "_"): code for code, word in ATTENDANCE_WORDS.items()},
    "cuti": "leave",
    "dl": "duty_travel",
    "alpa": "absent",
    "tk": "absent",
}

# Days on which nobody logs work in e-RK: every leave type (the rule says what the day counts
# for) and unexcused absence.
NO_WORK_STATUSES = tuple(
    s for s in AttendanceStatus if s not in (AttendanceStatus.present, AttendanceStatus.no_clock_in)
)
# Statuses on which being late or leaving early can be recorded.
AT_WORK_STATUSES = (AttendanceStatus.present,)
# Approved leave (every leave type of the rules' `leave_effects`, duty travel and training
# included): a day recorded so takes no lateness or early leave, not even by a later record
# that would turn it into "present"; the leave is corrected first, without minutes (audited).
LEAVE_STATUSES = tuple(s for s in NO_WORK_STATUSES if s is not AttendanceStatus.absent)


_BAD_CHARACTER = re.compile("[\ud800-\udfff\x00]")
"""A lone surrogate or NUL: one search in C per string, not a Python step per character."""


def _has_bad_text(value: Any) -> bool:
    if isinstance(value, str):
        return _BAD_CHARACTER.search(value) is not None
    if isinstance(value, dict):
        value = value.values()
    elif not isinstance(value, list):
        return False
    return any(_has_bad_text(item) for item in value)


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _plain_text(cls, data: Any) -> Any:
        # Lone surrogates and NUL cannot be stored as UTF-8 text: refuse them as a 422.
        if _has_bad_text(data):
            raise ValueError("text contains characters that cannot be stored (surrogates or NUL)")
        return data


class UnitCreate(Body):
    code: Code
    name: str = Field(min_length=2, max_length=200)
    parent_code: Code | None = None


class UnitRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    code: str
    name: str
    path: str


class EmploymentStatus(StrEnum):
    pns = "pns"
    cpns = "cpns"
    pppk = "pppk"


PtkpStatus = Literal["TK/0", "TK/1", "TK/2", "TK/3", "K/0", "K/1", "K/2", "K/3"]


class EmployeeCreate(Body):
    """A new employee. The pay inputs (job_class, tpp_base_idr, employment_status, ptkp_status,
    salary_gross_idr) are HR's: HR gives job_class and tpp_base_idr; anyone else gives none of
    them, and the employee is paid nothing until HR sets them."""

    nip: NIP
    name: str = Field(min_length=2, max_length=200)
    unit_code: Code
    position: str = Field(default="", max_length=200)
    job_class: int | None = Field(default=None, ge=1, le=17, description="HR only")
    rank: str = Field(default="", max_length=8, description="golongan, e.g. III/a")
    supervisor_nip: NIP | None = None
    tpp_base_idr: int | None = Field(default=None, ge=0, le=1_000_000_000, description="HR only")
    active: bool = True
    employment_status: EmploymentStatus | None = Field(default=None, description="HR only; pns")
    ptkp_status: PtkpStatus | None = Field(default=None, description="HR only; TK/0")
    salary_gross_idr: int | None = Field(
        default=None,
        ge=0,
        le=1_000_000_000,
        description="HR only; monthly salary, for the PPh 21 bracket (0)",
    )
    joined_on: dt.date | None = None
    left_on: dt.date | None = None

    @model_validator(mode="after")
    def _dates_ordered(self) -> EmployeeCreate:
        if self.joined_on and self.left_on and self.left_on < self.joined_on:
            raise ValueError("left_on is before joined_on")
        return self


class EmployeeRead(BaseModel):
    nip: str
    name: str
    unit_code: str
    position: str
    job_class: int | None = Field(description="None: awaiting HR, no TPP until HR sets it")
    rank: str
    supervisor_nip: str | None
    tpp_base_idr: int | None = Field(
        description="personal pay data: shown to the employee and to HR, not to supervisors"
    )
    active: bool
    employment_status: str = "pns"
    ptkp_status: str | None = None
    salary_gross_idr: int | None = None
    joined_on: dt.date | None = None
    left_on: dt.date | None = None


class GradeChange(Body):
    """A job class / employment status change from a date (e.g. the TMT of a PNS appointment)."""

    effective_from: dt.date
    job_class: int = Field(ge=1, le=17)
    employment_status: EmploymentStatus
    legal_basis: str = Field(
        min_length=3, max_length=300, description="the decision, e.g. SK Bupati 800/12/BKPSDM/2025"
    )


class GradeRead(BaseModel):
    effective_from: dt.date
    job_class: int | None = Field(description="None: awaiting HR until the next row")
    employment_status: str
    legal_basis: str


class ImportRowError(BaseModel):
    row: int
    nip: str | None
    errors: list[str]


class ImportReport(BaseModel):
    imported: int
    created: int
    updated: int


class TargetCreate(Body):
    nip: NIP | None = Field(default=None, description="default: the caller")
    year: int = Field(ge=2000, le=2100)
    title: str = Field(min_length=3, max_length=500)
    quantity: int | None = Field(default=None, ge=1, le=1_000_000_000)
    output_unit: str | None = Field(default=None, max_length=50)


class TargetRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    year: int
    title: str
    quantity: int | None
    output_unit: str | None
    status: str
    approved_by: str | None


class ActivityCreate(Body):
    date: dt.date
    description: str = Field(min_length=3, max_length=2000)
    minutes: int = Field(gt=0, le=1440, description="whole minutes, more than zero")
    output_quantity: Quantity | None = None
    output_unit: str | None = Field(default=None, max_length=50)
    target_id: Id | None = None


class ActivityBatch(Body):
    """Several activities at once (up to 20), logged all or none."""

    items: list[ActivityCreate] = Field(min_length=1, max_length=20)


class ActivityUpdate(Body):
    date: dt.date | None = None
    description: str | None = Field(default=None, min_length=3, max_length=2000)
    minutes: int | None = Field(default=None, gt=0, le=1440)
    output_quantity: Quantity | None = None
    output_unit: str | None = Field(default=None, max_length=50)
    target_id: Id | None = None


class ActivityRead(BaseModel):
    id: int
    nip: str
    date: dt.date
    description: str
    minutes: int
    output_quantity: int | None
    output_unit: str | None
    target_id: int | None
    status: ActivityStatus
    verified_by: str | None = None
    note: str | None = None
    escalated_to_nip: str | None = None
    has_evidence: bool = False


class ActivityBatchRead(BaseModel):
    items: list[ActivityRead]


class VerifyRequest(Body):
    decision: Decision
    note: str | None = Field(default=None, max_length=500)


class BulkVerifyRequest(Body):
    activity_ids: list[Id] = Field(min_length=1, max_length=500)
    decision: Decision
    note: str | None = Field(default=None, max_length=500)


class VerifyResult(BaseModel):
    decision: Decision
    activity_ids: list[int]


class AttendanceCreate(Body):
    nip: NIP
    date: dt.date
    status: AttendanceStatus
    minutes_late: int = Field(default=0, ge=0, le=1440)
    minutes_early: int = Field(default=0, ge=0, le=1440)
    missed_apel: bool = False


class AttendanceRead(BaseModel):
    nip: str
    date: dt.date
    status: AttendanceStatus
    minutes_late: int
    minutes_early: int
    missed_apel: bool = False


class DelegationCreate(Body):
    supervisor_nip: NIP
    delegate_nip: NIP
    start_date: dt.date
    end_date: dt.date


class DelegationRead(BaseModel):
    id: int
    supervisor_nip: str
    delegate_nip: str
    start_date: dt.date
    end_date: dt.date


class RecapRow(BaseModel):
    nip: str
    name: str
    unit_code: str
    working_days: int
    employed_days: int
    reduced_days: int = Field(description="leave days that reduce the standard")
    met_days: int = Field(description="leave days credited as met")
    absent_days: int
    missing_days: int = Field(description="past working days without an attendance record")
    standard_minutes: int
    verified_minutes: int
    performance_pct: float
    discipline_pct: float
    employment_status: str
    tpp_base_idr: int
    base_effective_idr: int = Field(description="after the CPNS share and mid-month pro-rating")
    tpp_performance_idr: int
    tpp_discipline_idr: int
    sanction_cut_idr: int = Field(description="disciplinary sentence (PP 94/2021)")
    acting_addition_idr: int = Field(description="Plt/Plh addition")
    tpp_total_idr: int = Field(description="gross")
    pph21_idr: int
    bpjs_idr: int
    tpp_net_idr: int
    pay_awaiting_hr: bool = Field(
        default=False,
        description="registered by someone other than HR: no TPP until HR sets the job class",
    )
    explanation: list[str]


class RecapPage(BaseModel):
    period: str
    closed: bool
    rule_version: str
    items: list[RecapRow]
    next_cursor: str | None = None


class PeriodRead(BaseModel):
    period: str
    working_days: int
    rule_version: str
    employees: int
    closed_at: dt.datetime
    not_counted_activities: int = Field(
        default=0, description="pending activities left out by a 'close anyway'"
    )
    missing_attendance_days: int = Field(
        default=0,
        description="working days without attendance frozen by a 'close anyway' (treated as the "
        "rule says: unexcused absence by default)",
    )


class PeriodReadiness(BaseModel):
    period: str
    closed: bool
    entry_cutoff: dt.date
    verification_deadline: dt.date
    deadlines_passed: bool
    pending_activities: int
    missing_attendance_days: int
    blockers: list[str]


class PasswordReset(Body):
    password: str = Field(min_length=8, max_length=256)


class ActionPlanRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    period: str
    code: str
    title: str


class ActionPlanLink(Body):
    action_plan_id: Id | None = Field(description="a Rencana Aksi of the activity's quarter")


class PayAdjustmentKind(StrEnum):
    sanction = "sanction"  # hukuman disiplin (PP 94/2021): cuts `percent` of the TPP
    acting = "acting"  # Plt/Plh: adds `percent` of the acting post's base


class PayAdjustmentCreate(Body):
    nip: NIP
    kind: PayAdjustmentKind
    start_date: dt.date
    end_date: dt.date
    percent: Decimal = Field(ge=0, le=100, decimal_places=2)
    acting_base_idr: int = Field(default=0, ge=0, le=1_000_000_000)
    legal_basis: str = Field(
        min_length=3, max_length=300, description="the decree and the Perkada article"
    )

    @model_validator(mode="after")
    def _consistent(self) -> PayAdjustmentCreate:
        if self.end_date < self.start_date:
            raise ValueError("end_date is before start_date")
        if self.kind == PayAdjustmentKind.acting and not self.acting_base_idr:
            raise ValueError("an acting post needs acting_base_idr (the post's TPP base)")
        return self


class PayAdjustmentRead(BaseModel):
    id: int
    nip: str
    kind: PayAdjustmentKind
    start_date: dt.date
    end_date: dt.date
    percent: Decimal
    acting_base_idr: int
    legal_basis: str
