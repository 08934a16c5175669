"""SABILULUNGAN's tables, all in the `sabilulungan` schema.

Money is integer rupiah (BIGINT). Personal data (NIK, NPWP, bank account, an individual's address
and phone) is stored only as FieldCipher tokens (`*_enc`) beside a blind index (`*_idx`) for
duplicate search; an organisation's address is public and kept in `public_address`.
"""

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
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from shared.db import BigIntId, JSONType, UTCDateTime, metadata_for, utcnow
from shared.notifications import NotificationCursorTable, NotificationOutboxTable
from shared.tables import (
    AccountTable,
    AuditCheckpointTable,
    AuditEventTable,
    IdempotencyRecordTable,
)

SCHEMA = "sabilulungan"


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


class Budget(Base):
    """The ceiling of one fiscal year and kind, with running totals kept by conditional UPDATEs."""

    __tablename__ = "budgets"
    __table_args__: Any = (
        UniqueConstraint("fiscal_year", "kind"),
        CheckConstraint("approved_idr <= ceiling_idr", name="approved_within_ceiling"),
        CheckConstraint("disbursed_idr <= approved_idr", name="disbursed_within_approved"),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    fiscal_year: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))
    ceiling_idr: Mapped[int] = mapped_column(BigInteger)
    approved_idr: Mapped[int] = mapped_column(BigInteger, default=0)
    disbursed_idr: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class Proposal(Base):
    __tablename__ = "proposals"
    __table_args__: Any = (
        Index("ix_proposals_year_kind_status", "fiscal_year", "kind", "status"),
        Index("ix_proposals_applicant_key", "applicant_key"),
        Index("ix_proposals_nik_idx", "nik_idx"),
        Index("ix_proposals_bank_account_idx", "bank_account_idx"),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    tracking_code: Mapped[str] = mapped_column(String(24), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    fiscal_year: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    purpose: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(64))
    status_since: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    workflow_name: Mapped[str] = mapped_column(String(64))
    owner_id: Mapped[int | None] = mapped_column(BigIntId, ForeignKey("accounts.id"), default=None)
    owner_username: Mapped[str] = mapped_column(String(64))
    opd_code: Mapped[str | None] = mapped_column(String(64), default=None, index=True)

    requested_amount_idr: Mapped[int] = mapped_column(BigInteger)
    recommended_amount_idr: Mapped[int | None] = mapped_column(BigInteger, default=None)
    final_amount_idr: Mapped[int | None] = mapped_column(BigInteger, default=None)
    approved_amount_idr: Mapped[int | None] = mapped_column(BigInteger, default=None)
    disbursed_idr: Mapped[int] = mapped_column(BigInteger, default=0)
    tranches: Mapped[int] = mapped_column(Integer, default=0)
    recommended_by: Mapped[str | None] = mapped_column(String(64), default=None)
    considered_by: Mapped[str | None] = mapped_column(String(64), default=None)
    approved_by: Mapped[str | None] = mapped_column(String(64), default=None)
    decree_number: Mapped[str | None] = mapped_column(String(100), default=None)
    agreement_number: Mapped[str | None] = mapped_column(String(100), default=None)
    approved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    lpj_due_date: Mapped[dt.date | None] = mapped_column(Date, default=None)
    reported_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    evaluation_checklist: Mapped[dict[str, Any] | None] = mapped_column(JSONType, default=None)
    recipient_category: Mapped[str | None] = mapped_column(String(40), default=None)
    purpose_code: Mapped[str | None] = mapped_column(String(40), default=None)
    spent_idr: Mapped[int | None] = mapped_column(BigInteger, default=None)
    refunded_idr: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    released_idr: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    report_late: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # the disbursement schedule in rupiah (the NPHD's, or the rule set's at the first payment)
    tranche_plan: Mapped[list[int] | None] = mapped_column(JSONType, default=None)
    social_risk: Mapped[str | None] = mapped_column(String(40), default=None)

    applicant_type: Mapped[str] = mapped_column(String(16))
    applicant_name: Mapped[str] = mapped_column(String(200))
    applicant_key: Mapped[str] = mapped_column(String(80))
    legal_entity_number: Mapped[str | None] = mapped_column(String(100), default=None)
    region_code: Mapped[str] = mapped_column(String(16))
    public_address: Mapped[str | None] = mapped_column(Text, default=None)
    address_enc: Mapped[str] = mapped_column(Text)
    phone_enc: Mapped[str] = mapped_column(Text)
    nik_enc: Mapped[str | None] = mapped_column(Text, default=None)
    nik_idx: Mapped[str | None] = mapped_column(String(32), default=None)
    npwp_enc: Mapped[str | None] = mapped_column(Text, default=None)
    npwp_idx: Mapped[str | None] = mapped_column(String(32), default=None)
    bank_account_enc: Mapped[str | None] = mapped_column(Text, default=None)
    bank_account_idx: Mapped[str | None] = mapped_column(String(32), default=None)

    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    budget_lines: Mapped[list[BudgetLine]] = relationship(
        lazy="raise", order_by="BudgetLine.position"
    )
    board_members: Mapped[list[BoardMember]] = relationship(
        lazy="raise", order_by="BoardMember.position"
    )


class BudgetLine(Base):
    __tablename__ = "budget_lines"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    proposal_id: Mapped[int] = mapped_column(
        BigIntId, ForeignKey("proposals.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    description: Mapped[str] = mapped_column(String(300))
    amount_idr: Mapped[int] = mapped_column(BigInteger)
    spent_idr: Mapped[int | None] = mapped_column(BigInteger, default=None)  # the LPJ's figure


class BoardMember(Base):
    __tablename__ = "board_members"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    proposal_id: Mapped[int] = mapped_column(
        BigIntId, ForeignKey("proposals.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(100))
    nik_enc: Mapped[str] = mapped_column(Text)
    nik_idx: Mapped[str] = mapped_column(String(32), index=True)


class StageEntry(Base):
    """One entry of a proposal into a state: the history the timeline is computed from."""

    __tablename__ = "stage_entries"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    proposal_id: Mapped[int] = mapped_column(
        BigIntId, ForeignKey("proposals.id", ondelete="CASCADE"), index=True
    )
    state: Mapped[str] = mapped_column(String(64))
    entered_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    action: Mapped[str] = mapped_column(String(64))
    actor: Mapped[str] = mapped_column(String(64))
    actor_role: Mapped[str] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(Text, default=None)
    amount_idr: Mapped[int | None] = mapped_column(BigInteger, default=None)
    rule_version: Mapped[str] = mapped_column(String(40))


class Document(Base):
    """An uploaded file, stored content-addressed on the upload volume."""

    __tablename__ = "documents"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    proposal_id: Mapped[int] = mapped_column(
        BigIntId, ForeignKey("proposals.id", ondelete="CASCADE"), index=True
    )
    checklist_item: Mapped[str] = mapped_column(String(64))
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by: Mapped[str] = mapped_column(String(64))
    uploaded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class IssuedDocument(Base):
    """A generated document (NPHD, decree annex) that the public can verify by its number."""

    __tablename__ = "issued_documents"
    __table_args__: Any = (UniqueConstraint("doc_type", "official_number"),)

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    number: Mapped[str] = mapped_column(String(64), unique=True)
    doc_type: Mapped[str] = mapped_column(String(32))
    proposal_id: Mapped[int | None] = mapped_column(
        BigIntId, ForeignKey("proposals.id", ondelete="CASCADE"), default=None, index=True
    )
    fiscal_year: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str | None] = mapped_column(String(16), default=None)
    official_number: Mapped[str] = mapped_column(String(100))
    amount_idr: Mapped[int] = mapped_column(BigInteger)
    issued_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)
