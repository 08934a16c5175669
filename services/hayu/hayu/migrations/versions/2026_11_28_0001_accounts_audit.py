"""accounts, audit trail and idempotency records

Revision ID: hayu_0001
Revises:
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import shared.db
from shared.migrations import (
    AUDIT_CONTENT_COLUMNS,
    append_only_statements,
    drop_append_only_statements,
)

revision: str = "hayu_0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "hayu"
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
TS = shared.db.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("full_name", sa.String(length=200), nullable=False),
        sa.Column("roles", JSON, nullable=False),
        sa.Column("unit", sa.String(length=64), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("must_change_password", sa.Boolean(), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", TS, nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accounts")),
        sa.UniqueConstraint("username", name=op.f("uq_accounts_username")),
        schema=SCHEMA,
    )
    op.create_table(
        "audit_checkpoints",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.Column("chain_hash", sa.String(length=64), nullable=False),
        sa.Column("sealed_at", TS, nullable=False),
        sa.Column("key_id", sa.String(length=16), nullable=False),
        sa.Column("signature", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_checkpoints")),
        schema=SCHEMA,
    )
    op.create_table(
        "audit_events",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("occurred_at", TS, nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("actor_role", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("entity_type", sa.String(length=64), nullable=False),
        sa.Column("entity_id", sa.String(length=64), nullable=False),
        sa.Column("before", JSON, nullable=True),
        sa.Column("after", JSON, nullable=True),
        sa.Column("request_id", sa.String(length=64), nullable=True),
        sa.Column("seal_position", sa.BigInteger(), nullable=True),
        sa.Column("seal_hash", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_events")),
        sa.UniqueConstraint("seal_position", name=op.f("uq_audit_events_seal_position")),
        schema=SCHEMA,
    )
    op.create_index(
        "ix_audit_events_entity", "audit_events", ["entity_type", "entity_id"], schema=SCHEMA
    )
    op.create_table(
        "idempotency_records",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("scope", sa.String(length=200), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column("response_body", JSON, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_idempotency_records")),
        sa.UniqueConstraint("scope", "key", name=op.f("uq_idempotency_records_scope_key")),
        schema=SCHEMA,
    )
    dialect = op.get_bind().dialect.name
    for statement in append_only_statements(dialect, SCHEMA, "audit_events", AUDIT_CONTENT_COLUMNS):
        op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for statement in drop_append_only_statements(dialect, SCHEMA, "audit_events"):
        op.execute(statement)
    op.drop_table("idempotency_records", schema=SCHEMA)
    op.drop_index("ix_audit_events_entity", table_name="audit_events", schema=SCHEMA)
    op.drop_table("audit_events", schema=SCHEMA)
    op.drop_table("audit_checkpoints", schema=SCHEMA)
    op.drop_table("accounts", schema=SCHEMA)
