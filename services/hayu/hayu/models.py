"""HAYU's tables, all in the `hayu` schema."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import BigInteger, Boolean, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.crypto import token_length
from shared.db import BigIntId, JSONType, UTCDateTime, metadata_for, utcnow
from shared.notifications import NotificationCursorTable, NotificationOutboxTable
from shared.tables import (
    AccountTable,
    AuditCheckpointTable,
    AuditEventTable,
    IdempotencyRecordTable,
)

SCHEMA = "hayu"


class Base(DeclarativeBase):
    metadata = metadata_for(SCHEMA)


# the plumbing tables (shared.tables)
class Account(AccountTable, Base): ...


class AuditEvent(AuditEventTable, Base): ...


class AuditCheckpoint(AuditCheckpointTable, Base): ...


class IdempotencyRecord(IdempotencyRecordTable, Base): ...


# notifications to citizens (shared.notifications)
class NotificationOutbox(NotificationOutboxTable, Base): ...


class NotificationCursor(NotificationCursorTable, Base): ...


class KbliCode(Base):
    """A KBLI 2020 kelompok (5-digit) code, imported from the official list."""

    __tablename__ = "kbli_codes"

    code: Mapped[str] = mapped_column(String(5), primary_key=True)
    title: Mapped[str] = mapped_column(String(400))
    category: Mapped[str] = mapped_column(String(1))


class KbliRisk(Base):
    """The OSS-RBA risk level of a KBLI code from a date on (imported, effective-dated)."""

    __tablename__ = "kbli_risks"

    code: Mapped[str] = mapped_column(String(5), primary_key=True)
    effective_from: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    risk_level: Mapped[str] = mapped_column(String(20))
    basis: Mapped[str] = mapped_column(String(200))


class Region(Base):
    """A Kemendagri kode wilayah (province, kabupaten/kota or kecamatan)."""

    __tablename__ = "regions"

    code: Mapped[str] = mapped_column(String(13), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    level: Mapped[str] = mapped_column(String(16))


class Business(Base):
    """A business as its owner reported it; the owner's NIK and phone are encrypted at rest."""

    __tablename__ = "businesses"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    owner_account_id: Mapped[int | None] = mapped_column(
        ForeignKey("accounts.id"), default=None, index=True
    )
    owner_nik_encrypted: Mapped[str] = mapped_column(String(token_length(16)))
    owner_nik_index: Mapped[str] = mapped_column(String(32), index=True)
    owner_name: Mapped[str] = mapped_column(String(200))
    owner_phone_encrypted: Mapped[str] = mapped_column(String(token_length(16)))
    name: Mapped[str] = mapped_column(String(200))
    kbli_codes: Mapped[list[str]] = mapped_column(JSONType)
    address: Mapped[str] = mapped_column(String(500))
    region_code: Mapped[str] = mapped_column(String(13))
    capital_idr: Mapped[int] = mapped_column(BigInteger)
    workforce: Mapped[int] = mapped_column(Integer)
    nib: Mapped[str | None] = mapped_column(String(13), default=None, index=True)
    """Nomor Induk Berusaha from OSS-RBA (13 digits): the business's national identity."""
    annual_sales_idr: Mapped[int | None] = mapped_column(BigInteger, default=None)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class Application(Base):
    """One filing: a self-report registered at once, or a permit application in the workflow."""

    __tablename__ = "applications"
    __table_args__: Any = (Index("ix_applications_status_due", "status", "stage_due_date"),)

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))
    permit_type_code: Mapped[str] = mapped_column(String(32), index=True)
    business_id: Mapped[int] = mapped_column(ForeignKey("businesses.id"), index=True)
    applicant_account_id: Mapped[int | None] = mapped_column(
        ForeignKey("accounts.id"), default=None, index=True
    )
    status: Mapped[str] = mapped_column(String(64))
    status_since: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    stage_due_date: Mapped[dt.date | None] = mapped_column(Date, default=None)
    tracking_code: Mapped[str] = mapped_column(String(32), unique=True)
    number: Mapped[str | None] = mapped_column(String(120), unique=True, default=None)
    rule_version: Mapped[str] = mapped_column(String(120))
    decision_reason: Mapped[str] = mapped_column(Text)
    workflow_name: Mapped[str] = mapped_column(String(64))
    submitted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    issued_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    valid_until: Mapped[dt.date | None] = mapped_column(Date, default=None)
    deemed_approved: Mapped[bool] = mapped_column(Boolean, default=False)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    revoke_reason: Mapped[str | None] = mapped_column(Text, default=None)
    audit_sample_id: Mapped[int | None] = mapped_column(
        ForeignKey("audit_samples.id"), default=None, index=True
    )
    # The whole-SLA clock (`hayu.sla`): started when the file is complete, paused while it
    # waits for the applicant; `sla_due_date` is the last working day inside the SLA.
    sla_started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    sla_paused_since: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    sla_paused_days: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    sla_due_date: Mapped[dt.date | None] = mapped_column(Date, default=None, index=True)
    oss_application_id: Mapped[str | None] = mapped_column(String(64), default=None)


class ApplicationEvent(Base):
    """One step of an application's history: the timeline is read from these rows."""

    __tablename__ = "application_events"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), index=True)
    action: Mapped[str] = mapped_column(String(64))
    from_state: Mapped[str | None] = mapped_column(String(64), default=None)
    to_state: Mapped[str] = mapped_column(String(64))
    actor: Mapped[str] = mapped_column(String(64))
    actor_role: Mapped[str] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(Text, default=None)
    details: Mapped[dict[str, Any] | None] = mapped_column(JSONType, default=None)
    occurred_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class ApplicationDocument(Base):
    """An uploaded checklist document, stored content-addressed on the upload volume."""

    __tablename__ = "application_documents"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), index=True)
    checklist_item: Mapped[str] = mapped_column(String(40))
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by: Mapped[str] = mapped_column(String(64))
    uploaded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class AuditSample(Base):
    """A random draw of self-reports for post-audit, kept so the draw itself can be audited."""

    __tablename__ = "audit_samples"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    percent: Mapped[int] = mapped_column(Integer)
    population: Mapped[int] = mapped_column(Integer)
    application_ids: Mapped[list[int]] = mapped_column(JSONType)
    drawn_by: Mapped[str] = mapped_column(String(64))
    drawn_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    seed: Mapped[str | None] = mapped_column(String(64), default=None)
    """sha256 of the previous day's published audit checkpoint, the date and the percent."""
    seed_checkpoint_position: Mapped[int | None] = mapped_column(BigInteger, default=None)


class AuditFinding(Base):
    """The post-audit result for one sampled registration: outcome, findings, follow-up."""

    __tablename__ = "audit_findings"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    sample_id: Mapped[int] = mapped_column(ForeignKey("audit_samples.id"), index=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), unique=True)
    outcome: Mapped[str] = mapped_column(String(20))
    findings: Mapped[str] = mapped_column(Text)
    follow_up: Mapped[str] = mapped_column(String(20))
    recorded_by: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class NumberSequence(Base):
    """The last number handed out per scope (e.g. `permit:2026`), bumped in one statement."""

    __tablename__ = "number_sequences"

    scope: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_value: Mapped[int] = mapped_column(BigInteger)


class OssOutboxMessage(Base):
    """A status message for OSS-RBA (`receiveLicenseStatus`), written with the transition and
    sent later by `hayu.oss.deliver`; its key makes a resend after a crash harmless."""

    __tablename__ = "oss_outbox"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), index=True)
    idempotency_key: Mapped[str] = mapped_column(String(80), unique=True)
    status_code: Mapped[str] = mapped_column(String(4))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    dead: Mapped[bool] = mapped_column(Boolean, default=False)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)


class OssNibRecord(Base):
    """A `receiveNIB` push from OSS: the business identity and KBLI to prefill a filing.

    `payload` keeps only the declared fields the service uses (`hayu.oss.NIB_FIELDS`), never the
    raw push; the owner's NIK is kept only as its blind index (purpose "nik", as on businesses),
    so a filing is prefilled and linked only for the owner OSS named."""

    __tablename__ = "oss_nib_records"

    nib: Mapped[str] = mapped_column(String(13), primary_key=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType)
    owner_nik_index: Mapped[str | None] = mapped_column(String(32), default=None)
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
