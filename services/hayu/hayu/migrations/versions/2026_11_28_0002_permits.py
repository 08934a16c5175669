"""businesses, applications, their history and documents, KBLI and regions

Revision ID: hayu_0002
Revises: hayu_0001
Create Date: 2026-11-28 07:38:16.094482
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import shared.db

revision: str = "hayu_0002"
down_revision: str | None = "hayu_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "hayu"
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
TS = shared.db.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "audit_samples",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("percent", sa.Integer(), nullable=False),
        sa.Column("population", sa.Integer(), nullable=False),
        sa.Column("application_ids", JSON, nullable=False),
        sa.Column("drawn_by", sa.String(length=64), nullable=False),
        sa.Column("drawn_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_samples")),
        schema=SCHEMA,
    )
    op.create_table(
        "kbli_codes",
        sa.Column("code", sa.String(length=5), nullable=False),
        sa.Column("title", sa.String(length=400), nullable=False),
        sa.Column("category", sa.String(length=1), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_kbli_codes")),
        schema=SCHEMA,
    )
    op.create_table(
        "number_sequences",
        sa.Column("scope", sa.String(length=64), nullable=False),
        sa.Column("last_value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("scope", name=op.f("pk_number_sequences")),
        schema=SCHEMA,
    )
    op.create_table(
        "regions",
        sa.Column("code", sa.String(length=13), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_regions")),
        schema=SCHEMA,
    )
    op.create_table(
        "businesses",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("owner_account_id", ID, nullable=True),
        sa.Column("owner_nik_encrypted", sa.String(length=71), nullable=False),
        sa.Column("owner_nik_index", sa.String(length=32), nullable=False),
        sa.Column("owner_name", sa.String(length=200), nullable=False),
        sa.Column("owner_phone_encrypted", sa.String(length=71), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kbli_codes", JSON, nullable=False),
        sa.Column("address", sa.String(length=500), nullable=False),
        sa.Column("region_code", sa.String(length=13), nullable=False),
        sa.Column("capital_idr", sa.BigInteger(), nullable=False),
        sa.Column("workforce", sa.Integer(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_account_id"],
            ["hayu.accounts.id"],
            name=op.f("fk_businesses_owner_account_id_accounts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_businesses")),
        schema=SCHEMA,
    )
    op.create_index(
        op.f("ix_hayu_businesses_owner_account_id"),
        "businesses",
        ["owner_account_id"],
        schema=SCHEMA,
    )
    op.create_index(
        op.f("ix_hayu_businesses_owner_nik_index"), "businesses", ["owner_nik_index"], schema=SCHEMA
    )

    op.create_table(
        "applications",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("permit_type_code", sa.String(length=32), nullable=False),
        sa.Column("business_id", ID, nullable=False),
        sa.Column("applicant_account_id", ID, nullable=True),
        sa.Column("status", sa.String(length=64), nullable=False),
        sa.Column("status_since", TS, nullable=False),
        sa.Column("stage_due_date", sa.Date(), nullable=True),
        sa.Column("tracking_code", sa.String(length=32), nullable=False),
        sa.Column("number", sa.String(length=120), nullable=True),
        sa.Column("rule_version", sa.String(length=120), nullable=False),
        sa.Column("decision_reason", sa.Text(), nullable=False),
        sa.Column("workflow_name", sa.String(length=64), nullable=False),
        sa.Column("submitted_at", TS, nullable=False),
        sa.Column("issued_at", TS, nullable=True),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.Column("deemed_approved", sa.Boolean(), nullable=False),
        sa.Column("revoked_at", TS, nullable=True),
        sa.Column("revoke_reason", sa.Text(), nullable=True),
        sa.Column("audit_sample_id", ID, nullable=True),
        sa.ForeignKeyConstraint(
            ["applicant_account_id"],
            ["hayu.accounts.id"],
            name=op.f("fk_applications_applicant_account_id_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["audit_sample_id"],
            ["hayu.audit_samples.id"],
            name=op.f("fk_applications_audit_sample_id_audit_samples"),
        ),
        sa.ForeignKeyConstraint(
            ["business_id"],
            ["hayu.businesses.id"],
            name=op.f("fk_applications_business_id_businesses"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_applications")),
        sa.UniqueConstraint("number", name=op.f("uq_applications_number")),
        sa.UniqueConstraint("tracking_code", name=op.f("uq_applications_tracking_code")),
        schema=SCHEMA,
    )
    op.create_index(
        op.f("ix_applications_status_due"),
        "applications",
        ["status", "stage_due_date"],
        schema=SCHEMA,
    )
    op.create_index(
        op.f("ix_hayu_applications_applicant_account_id"),
        "applications",
        ["applicant_account_id"],
        schema=SCHEMA,
    )
    op.create_index(
        op.f("ix_hayu_applications_audit_sample_id"),
        "applications",
        ["audit_sample_id"],
        schema=SCHEMA,
    )
    op.create_index(
        op.f("ix_hayu_applications_business_id"), "applications", ["business_id"], schema=SCHEMA
    )
    op.create_index(
        op.f("ix_hayu_applications_permit_type_code"),
        "applications",
        ["permit_type_code"],
        schema=SCHEMA,
    )

    op.create_table(
        "application_documents",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("application_id", ID, nullable=False),
        sa.Column("checklist_item", sa.String(length=40), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("content_type", sa.String(length=64), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("uploaded_by", sa.String(length=64), nullable=False),
        sa.Column("uploaded_at", TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["hayu.applications.id"],
            name=op.f("fk_application_documents_application_id_applications"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_application_documents")),
        schema=SCHEMA,
    )
    op.create_index(
        op.f("ix_hayu_application_documents_application_id"),
        "application_documents",
        ["application_id"],
        schema=SCHEMA,
    )

    op.create_table(
        "application_events",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("application_id", ID, nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("from_state", sa.String(length=64), nullable=True),
        sa.Column("to_state", sa.String(length=64), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("actor_role", sa.String(length=64), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("details", JSON, nullable=True),
        sa.Column("occurred_at", TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["hayu.applications.id"],
            name=op.f("fk_application_events_application_id_applications"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_application_events")),
        schema=SCHEMA,
    )
    op.create_index(
        op.f("ix_hayu_application_events_application_id"),
        "application_events",
        ["application_id"],
        schema=SCHEMA,
    )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_hayu_application_events_application_id"),
        table_name="application_events",
        schema=SCHEMA,
    )

    op.drop_table("application_events", schema=SCHEMA)
    op.drop_index(
        op.f("ix_hayu_application_documents_application_id"),
        table_name="application_documents",
        schema=SCHEMA,
    )

    op.drop_table("application_documents", schema=SCHEMA)
    op.drop_index(
        op.f("ix_hayu_applications_permit_type_code"), table_name="applications", schema=SCHEMA
    )
    op.drop_index(
        op.f("ix_hayu_applications_business_id"), table_name="applications", schema=SCHEMA
    )
    op.drop_index(
        op.f("ix_hayu_applications_audit_sample_id"), table_name="applications", schema=SCHEMA
    )
    op.drop_index(
        op.f("ix_hayu_applications_applicant_account_id"), table_name="applications", schema=SCHEMA
    )
    op.drop_index(op.f("ix_applications_status_due"), table_name="applications", schema=SCHEMA)

    op.drop_table("applications", schema=SCHEMA)
    op.drop_index(
        op.f("ix_hayu_businesses_owner_nik_index"), table_name="businesses", schema=SCHEMA
    )
    op.drop_index(
        op.f("ix_hayu_businesses_owner_account_id"), table_name="businesses", schema=SCHEMA
    )

    op.drop_table("businesses", schema=SCHEMA)
    op.drop_table("regions", schema=SCHEMA)
    op.drop_table("number_sequences", schema=SCHEMA)
    op.drop_table("kbli_codes", schema=SCHEMA)
    op.drop_table("audit_samples", schema=SCHEMA)
