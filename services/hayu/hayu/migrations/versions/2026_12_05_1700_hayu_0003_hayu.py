"""NIB and annual sales on businesses, KBLI risk levels, the whole-SLA clock on applications

Revision ID: hayu_0003_hayu
Revises: hayu_0002
Create Date: 2026-12-05 17:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import shared.db

revision: str = "hayu_0003_hayu"
down_revision: str | None = "hayu_0003_auth"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "hayu"
TS = shared.db.UTCDateTime(timezone=True)
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "kbli_risks",
        sa.Column("code", sa.String(length=5), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("risk_level", sa.String(length=20), nullable=False),
        sa.Column("basis", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("code", "effective_from", name=op.f("pk_kbli_risks")),
        schema=SCHEMA,
    )
    with op.batch_alter_table("businesses", schema=SCHEMA) as batch:
        batch.add_column(sa.Column("nib", sa.String(length=13), nullable=True))
        batch.add_column(sa.Column("annual_sales_idr", sa.BigInteger(), nullable=True))
        batch.create_index(op.f("ix_hayu_businesses_nib"), ["nib"], unique=False)
    with op.batch_alter_table("applications", schema=SCHEMA) as batch:
        batch.add_column(sa.Column("sla_started_at", TS, nullable=True))
        batch.add_column(sa.Column("sla_paused_since", TS, nullable=True))
        batch.add_column(
            sa.Column("sla_paused_days", sa.Integer(), server_default="0", nullable=False)
        )
        batch.add_column(sa.Column("sla_due_date", sa.Date(), nullable=True))
        batch.add_column(sa.Column("oss_application_id", sa.String(length=64), nullable=True))
        batch.create_index(
            op.f("ix_hayu_applications_sla_due_date"), ["sla_due_date"], unique=False
        )

    op.create_table(
        "oss_outbox",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("application_id", ID, nullable=False),
        sa.Column("idempotency_key", sa.String(length=80), nullable=False),
        sa.Column("status_code", sa.String(length=4), nullable=False),
        sa.Column("payload", JSON, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", TS, nullable=False),
        sa.Column("sent_at", TS, nullable=True),
        sa.Column("dead", sa.Boolean(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["hayu.applications.id"],
            name=op.f("fk_oss_outbox_application_id_applications"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oss_outbox")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_oss_outbox_idempotency_key")),
        schema=SCHEMA,
    )
    op.create_index(
        op.f("ix_hayu_oss_outbox_application_id"), "oss_outbox", ["application_id"], schema=SCHEMA
    )
    op.create_index(
        op.f("ix_hayu_oss_outbox_next_attempt_at"),
        "oss_outbox",
        ["next_attempt_at"],
        schema=SCHEMA,
    )
    op.create_table(
        "oss_nib_records",
        sa.Column("nib", sa.String(length=13), nullable=False),
        sa.Column("payload", JSON, nullable=False),
        sa.Column("received_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("nib", name=op.f("pk_oss_nib_records")),
        schema=SCHEMA,
    )
    with op.batch_alter_table("audit_samples", schema=SCHEMA) as batch:
        batch.add_column(sa.Column("seed", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("seed_checkpoint_position", sa.BigInteger(), nullable=True))
    op.create_table(
        "audit_findings",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("sample_id", ID, nullable=False),
        sa.Column("application_id", ID, nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("findings", sa.Text(), nullable=False),
        sa.Column("follow_up", sa.String(length=20), nullable=False),
        sa.Column("recorded_by", sa.String(length=64), nullable=False),
        sa.Column("recorded_at", TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["sample_id"],
            ["hayu.audit_samples.id"],
            name=op.f("fk_audit_findings_sample_id_audit_samples"),
        ),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["hayu.applications.id"],
            name=op.f("fk_audit_findings_application_id_applications"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_findings")),
        sa.UniqueConstraint("application_id", name=op.f("uq_audit_findings_application_id")),
        schema=SCHEMA,
    )
    op.create_index(
        op.f("ix_hayu_audit_findings_sample_id"), "audit_findings", ["sample_id"], schema=SCHEMA
    )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_hayu_audit_findings_sample_id"), table_name="audit_findings", schema=SCHEMA
    )
    op.drop_table("audit_findings", schema=SCHEMA)
    with op.batch_alter_table("audit_samples", schema=SCHEMA) as batch:
        batch.drop_column("seed_checkpoint_position")
        batch.drop_column("seed")
    op.drop_table("oss_nib_records", schema=SCHEMA)
    op.drop_index(
        op.f("ix_hayu_oss_outbox_next_attempt_at"), table_name="oss_outbox", schema=SCHEMA
    )
    op.drop_index(op.f("ix_hayu_oss_outbox_application_id"), table_name="oss_outbox", schema=SCHEMA)
    op.drop_table("oss_outbox", schema=SCHEMA)
    with op.batch_alter_table("applications", schema=SCHEMA) as batch:
        batch.drop_index(op.f("ix_hayu_applications_sla_due_date"))
        batch.drop_column("oss_application_id")
        batch.drop_column("sla_due_date")
        batch.drop_column("sla_paused_days")
        batch.drop_column("sla_paused_since")
        batch.drop_column("sla_started_at")
    with op.batch_alter_table("businesses", schema=SCHEMA) as batch:
        batch.drop_index(op.f("ix_hayu_businesses_nib"))
        batch.drop_column("annual_sales_idr")
        batch.drop_column("nib")
    op.drop_table("kbli_risks", schema=SCHEMA)
