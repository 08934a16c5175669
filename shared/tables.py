"""The plumbing tables every service has, named and indexed the same in each service's schema.

A service's `models.py` declares them on its own declarative base (one schema per service):

    class Account(AccountTable, Base): ...

The columns come from the mixins beside the code that uses them (`AccountMixin` in
`shared.auth`, `AuditEventMixin` and `AuditCheckpointMixin` in `shared.audit`,
`IdempotencyRecordMixin` in `shared.idempotency`); this module adds the table names and the
indexes and constraints, so that the schema is spelled once.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Boolean, String, true
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from shared.audit import AuditCheckpointMixin, AuditEventMixin
from shared.auth import AccountMixin
from shared.crypto import token_length
from shared.db import UTCDateTime
from shared.idempotency import IdempotencyRecordMixin


class AccountTable(AccountMixin):
    """The accounts table, with a citizen's contact (`shared.contact`): e-mail and phone are
    encrypted with the service's data key; `email_index` is their blind index for the password
    reset; the two `notify_*` flags are the citizen's channel choices ("Pengaturan notifikasi").
    Staff accounts (and every e-RK account) leave them empty."""

    __tablename__ = "accounts"

    email_encrypted: Mapped[str | None] = mapped_column(String(token_length(254)), default=None)
    email_index: Mapped[str | None] = mapped_column(String(32), default=None, index=True)
    email_verified_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    phone_encrypted: Mapped[str | None] = mapped_column(String(token_length(32)), default=None)
    notify_email: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    notify_phone: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())


class AuditEventTable(AuditEventMixin):
    __tablename__ = "audit_events"

    @declared_attr.directive
    def __table_args__(cls) -> Any:
        # a declared attribute: each service's table gets its own Index objects
        return AuditEventMixin.audit_indexes("audit_events")


class AuditCheckpointTable(AuditCheckpointMixin):
    __tablename__ = "audit_checkpoints"


class IdempotencyRecordTable(IdempotencyRecordMixin):
    __tablename__ = "idempotency_records"

    @declared_attr.directive
    def __table_args__(cls) -> Any:
        return IdempotencyRecordMixin.idempotency_constraints()
