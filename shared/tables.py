"""The plumbing tables every service has, named and indexed the same in each service's schema.

A service's `models.py` declares them on its own declarative base (one schema per service):

    class Account(AccountTable, Base): ...

The columns come from the mixins beside the code that uses them (`AccountMixin` in
`shared.auth`, `AuditEventMixin` and `AuditCheckpointMixin` in `shared.audit`,
`IdempotencyRecordMixin` in `shared.idempotency`); this module adds the table names and the
indexes and constraints, so that the schema is spelled once.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import declared_attr

from shared.audit import AuditCheckpointMixin, AuditEventMixin
from shared.auth import AccountMixin
from shared.idempotency import IdempotencyRecordMixin


class AccountTable(AccountMixin):
    __tablename__ = "accounts"


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
