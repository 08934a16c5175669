"""e-RK's tables, all in the `erk` schema."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.db import BigIntId, JSONType, UTCDateTime, metadata_for, utcnow
from shared.tables import (
    AccountTable,
    AuditCheckpointTable,
    AuditEventTable,
    IdempotencyRecordTable,
)

SCHEMA = "erk"


class Base(DeclarativeBase):
    metadata = metadata_for(SCHEMA)


# the plumbing tables (shared.tables)
class Account(AccountTable, Base): ...


class AuditEvent(AuditEventTable, Base): ...


class AuditCheckpoint(AuditCheckpointTable, Base): ...


class IdempotencyRecord(IdempotencyRecordTable, Base): ...


class Unit(Base):
    """An OPD, bidang or sub-bidang; `path` is `/OPD/BIDANG/.../` so a subtree is a prefix match."""

    __tablename__ = "units"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    parent_id: Mapped[int | None] = mapped_column(BigIntId, ForeignKey("units.id"), default=None)
    path: Mapped[str] = mapped_column(String(400), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class Employee(Base):
    __tablename__ = "employees"
    __table_args__: Any = (
        CheckConstraint("job_class BETWEEN 1 AND 17", name="job_class_range"),
        CheckConstraint("tpp_base_idr >= 0", name="tpp_base_non_negative"),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    nip: Mapped[str] = mapped_column(String(18), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    unit_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("units.id"), index=True)
    position: Mapped[str] = mapped_column(String(200), default="")
    # None: registered by someone other than HR, awaiting HR's pay inputs (the recap pays 0)
    job_class: Mapped[int | None] = mapped_column(SmallInteger)
    rank: Mapped[str] = mapped_column(String(8), default="")
    supervisor_nip: Mapped[str | None] = mapped_column(String(18), index=True, default=None)
    tpp_base_idr: Mapped[int] = mapped_column(BigInteger, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    employment_status: Mapped[str] = mapped_column(String(8), default="pns")  # pns, cpns, pppk
    ptkp_status: Mapped[str] = mapped_column(String(5), default="TK/0")  # PPh 21 TER category
    salary_gross_idr: Mapped[int] = mapped_column(BigInteger, default=0)  # taxed elsewhere
    joined_on: Mapped[dt.date | None] = mapped_column(Date, default=None)
    left_on: Mapped[dt.date | None] = mapped_column(Date, default=None)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class Target(Base):
    """An annual performance target (SKP) of one employee, approved by the supervisor."""

    __tablename__ = "targets"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    employee_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("employees.id"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(500))
    quantity: Mapped[int | None] = mapped_column(Integer, default=None)
    output_unit: Mapped[str | None] = mapped_column(String(50), default=None)
    status: Mapped[str] = mapped_column(String(16), default="proposed")
    approved_by: Mapped[str | None] = mapped_column(String(64), default=None)
    approved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class Activity(Base):
    __tablename__ = "activities"
    __table_args__: Any = (
        CheckConstraint("minutes > 0", name="minutes_positive"),
        Index("ix_activities_employee_date", "employee_id", "activity_date"),
        Index("ix_activities_date_status", "activity_date", "status"),
        Index("ix_activities_date_id", "activity_date", "id"),  # the lists' keyset order
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    employee_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("employees.id"))
    activity_date: Mapped[dt.date] = mapped_column(Date)
    description: Mapped[str] = mapped_column(Text)
    minutes: Mapped[int] = mapped_column(Integer)
    output_quantity: Mapped[int | None] = mapped_column(Integer, default=None)
    output_unit: Mapped[str | None] = mapped_column(String(50), default=None)
    target_id: Mapped[int | None] = mapped_column(BigIntId, ForeignKey("targets.id"), default=None)
    status: Mapped[str] = mapped_column(String(16), default="submitted")
    verified_by: Mapped[str | None] = mapped_column(String(64), default=None)
    verified_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    note: Mapped[str | None] = mapped_column(String(500), default=None)
    escalated_to_nip: Mapped[str | None] = mapped_column(String(18), default=None, index=True)
    evidence_sha256: Mapped[str | None] = mapped_column(String(64), default=None)
    evidence_type: Mapped[str | None] = mapped_column(String(40), default=None)
    evidence_name: Mapped[str | None] = mapped_column(String(200), default=None)
    action_plan_id: Mapped[int | None] = mapped_column(BigIntId, default=None)  # BKN Rencana Aksi
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class Attendance(Base):
    __tablename__ = "attendance"
    __table_args__: Any = (
        UniqueConstraint("employee_id", "day"),
        CheckConstraint("minutes_late >= 0 AND minutes_early >= 0", name="minutes_non_negative"),
        Index("ix_attendance_day", "day"),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    employee_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("employees.id"))
    day: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16))
    minutes_late: Mapped[int] = mapped_column(Integer, default=0)
    minutes_early: Mapped[int] = mapped_column(Integer, default=0)
    missed_apel: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class Delegation(Base):
    """An acting official (Plt/Plh) verifies for `supervisor_nip` from start to end date."""

    __tablename__ = "delegations"
    __table_args__: Any = (
        CheckConstraint("end_date >= start_date", name="dates_ordered"),
        Index("ix_delegations_delegate", "delegate_nip", "start_date"),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    supervisor_nip: Mapped[str] = mapped_column(String(18), index=True)
    delegate_nip: Mapped[str] = mapped_column(String(18))
    start_date: Mapped[dt.date] = mapped_column(Date)
    end_date: Mapped[dt.date] = mapped_column(Date)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class Period(Base):
    """A closed month, with the rule version (and the rule itself) its recap was computed with."""

    __tablename__ = "periods"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    period: Mapped[str] = mapped_column(String(7), unique=True)
    start_date: Mapped[dt.date] = mapped_column(Date)
    end_date: Mapped[dt.date] = mapped_column(Date, index=True)
    working_days: Mapped[int] = mapped_column(Integer)
    rule_version: Mapped[str] = mapped_column(String(40))
    rule: Mapped[dict[str, Any]] = mapped_column(JSONType)
    closed_by: Mapped[str] = mapped_column(String(64))
    closed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class Recap(Base):
    """One employee's frozen figures for a closed month."""

    __tablename__ = "recaps"
    __table_args__: Any = (UniqueConstraint("period", "nip"),)

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    period: Mapped[str] = mapped_column(String(7))
    rule_version: Mapped[str] = mapped_column(String(40))
    employee_id: Mapped[int] = mapped_column(BigInteger)
    nip: Mapped[str] = mapped_column(String(18))
    name: Mapped[str] = mapped_column(String(200))
    unit_code: Mapped[str] = mapped_column(String(32))
    unit_path: Mapped[str] = mapped_column(String(400))
    working_days: Mapped[int] = mapped_column(Integer)
    standard_minutes: Mapped[int] = mapped_column(Integer)
    verified_minutes: Mapped[int] = mapped_column(Integer)
    performance_bp: Mapped[int] = mapped_column(Integer)
    absent_days: Mapped[int] = mapped_column(Integer)
    late_events: Mapped[int] = mapped_column(Integer)
    late_bp: Mapped[int] = mapped_column(Integer)
    early_events: Mapped[int] = mapped_column(Integer)
    early_bp: Mapped[int] = mapped_column(Integer)
    discipline_bp: Mapped[int] = mapped_column(Integer)
    tpp_base_idr: Mapped[int] = mapped_column(BigInteger)
    tpp_performance_idr: Mapped[int] = mapped_column(BigInteger)
    tpp_discipline_idr: Mapped[int] = mapped_column(BigInteger)
    tpp_total_idr: Mapped[int] = mapped_column(BigInteger)
    employed_days: Mapped[int] = mapped_column(Integer, default=0)
    reduced_days: Mapped[int] = mapped_column(Integer, default=0)
    met_days: Mapped[int] = mapped_column(Integer, default=0)
    missing_days: Mapped[int] = mapped_column(Integer, default=0)
    other_bp: Mapped[int] = mapped_column(Integer, default=0)
    employment_status: Mapped[str] = mapped_column(String(8), default="pns")
    base_effective_idr: Mapped[int] = mapped_column(BigInteger, default=0)
    ptkp_status: Mapped[str] = mapped_column(String(5), default="TK/0")
    salary_gross_idr: Mapped[int] = mapped_column(BigInteger, default=0)
    pph21_idr: Mapped[int] = mapped_column(BigInteger, default=0)
    bpjs_idr: Mapped[int] = mapped_column(BigInteger, default=0)
    tpp_net_idr: Mapped[int] = mapped_column(BigInteger, default=0)
    sanction_bp: Mapped[int] = mapped_column(Integer, default=0)
    sanction_cut_idr: Mapped[int] = mapped_column(BigInteger, default=0)
    acting_addition_idr: Mapped[int] = mapped_column(BigInteger, default=0)
    pay_awaiting_hr: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class ActionPlan(Base):
    """A Rencana Aksi of one employee in one e-Kinerja period (a quarter, e.g. 2026-Q1), imported
    from the file e-Kinerja exports; activities link to it so their export needs no re-typing."""

    __tablename__ = "action_plans"
    __table_args__: Any = (UniqueConstraint("employee_id", "period", "title"),)

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    employee_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("employees.id"))
    period: Mapped[str] = mapped_column(String(7))
    code: Mapped[str] = mapped_column(String(40), default="")
    title: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class PayAdjustment(Base):
    """A decision that changes one employee's TPP for a date range, with its legal basis: a
    disciplinary sentence (PP 94/2021) cutting `percent_bp` of the TPP, or an acting post (Plt/Plh)
    adding `percent_bp` of the acting post's base, pro-rated by the working days it covers."""

    __tablename__ = "pay_adjustments"
    __table_args__: Any = (
        CheckConstraint("end_date >= start_date", name="dates_ordered"),
        CheckConstraint("percent_bp BETWEEN 0 AND 10000", name="percent_range"),
        Index("ix_pay_adjustments_employee", "employee_id", "start_date"),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    employee_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("employees.id"))
    kind: Mapped[str] = mapped_column(String(16))  # sanction | acting
    start_date: Mapped[dt.date] = mapped_column(Date)
    end_date: Mapped[dt.date] = mapped_column(Date)
    percent_bp: Mapped[int] = mapped_column(Integer)
    acting_base_idr: Mapped[int] = mapped_column(BigInteger, default=0)
    legal_basis: Mapped[str] = mapped_column(String(300))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class EmployeeGrade(Base):
    """An employee's job class (kelas jabatan) and employment status (CPNS, PNS, PPPK) from a date:
    a promotion or a CPNS appointed PNS changes the pay from that date on, never earlier months.
    The recap of a month uses the row in force on the month's first working day; an employee with
    no row uses the values on `employees` (which always mirror the row in force today)."""

    __tablename__ = "employee_grades"
    __table_args__: Any = (
        UniqueConstraint("employee_id", "effective_from"),
        CheckConstraint("job_class BETWEEN 1 AND 17", name="job_class_range"),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    employee_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("employees.id"))
    effective_from: Mapped[dt.date] = mapped_column(Date)
    job_class: Mapped[int | None] = mapped_column(SmallInteger)  # None: awaiting HR until then
    employment_status: Mapped[str] = mapped_column(String(8))
    legal_basis: Mapped[str] = mapped_column(String(300), default="")
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
