"""ERK's tables, all in the `erk` schema."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import DeclarativeBase

from shared.audit import AuditCheckpointMixin, AuditEventMixin
from shared.auth import AccountMixin
from shared.db import metadata_for
from shared.idempotency import IdempotencyRecordMixin

SCHEMA = "erk"


class Base(DeclarativeBase):
    metadata = metadata_for(SCHEMA)


class Account(AccountMixin, Base):
    __tablename__ = "accounts"


class AuditEvent(AuditEventMixin, Base):
    __tablename__ = "audit_events"
    __table_args__: Any = AuditEventMixin.audit_indexes("audit_events")


class AuditCheckpoint(AuditCheckpointMixin, Base):
    __tablename__ = "audit_checkpoints"


class IdempotencyRecord(IdempotencyRecordMixin, Base):
    __tablename__ = "idempotency_records"
    __table_args__: Any = IdempotencyRecordMixin.idempotency_constraints()
