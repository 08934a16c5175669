"""budgets, proposals, stage history, documents and issued documents

Revision ID: sabilulungan_0002
Revises: sabilulungan_0001
Create Date: 2026-11-28 07:41:20.683753
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import shared.db

revision: str = "sabilulungan_0002"
down_revision: str | None = "sabilulungan_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "budgets",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("fiscal_year", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("ceiling_idr", sa.BigInteger(), nullable=False),
        sa.Column("approved_idr", sa.BigInteger(), nullable=False),
        sa.Column("disbursed_idr", sa.BigInteger(), nullable=False),
        sa.Column("created_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "approved_idr <= ceiling_idr", name=op.f("ck_budgets_approved_within_ceiling")
        ),
        sa.CheckConstraint(
            "disbursed_idr <= approved_idr", name=op.f("ck_budgets_disbursed_within_approved")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_budgets")),
        sa.UniqueConstraint("fiscal_year", "kind", name=op.f("uq_budgets_fiscal_year_kind")),
        schema="sabilulungan",
    )
    op.create_table(
        "proposals",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("tracking_code", sa.String(length=24), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("fiscal_year", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=64), nullable=False),
        sa.Column("status_since", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("workflow_name", sa.String(length=64), nullable=False),
        sa.Column("owner_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("owner_username", sa.String(length=64), nullable=False),
        sa.Column("opd_code", sa.String(length=64), nullable=True),
        sa.Column("requested_amount_idr", sa.BigInteger(), nullable=False),
        sa.Column("recommended_amount_idr", sa.BigInteger(), nullable=True),
        sa.Column("final_amount_idr", sa.BigInteger(), nullable=True),
        sa.Column("approved_amount_idr", sa.BigInteger(), nullable=True),
        sa.Column("disbursed_idr", sa.BigInteger(), nullable=False),
        sa.Column("tranches", sa.Integer(), nullable=False),
        sa.Column("recommended_by", sa.String(length=64), nullable=True),
        sa.Column("considered_by", sa.String(length=64), nullable=True),
        sa.Column("approved_by", sa.String(length=64), nullable=True),
        sa.Column("decree_number", sa.String(length=100), nullable=True),
        sa.Column("agreement_number", sa.String(length=100), nullable=True),
        sa.Column("approved_at", shared.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("lpj_due_date", sa.Date(), nullable=True),
        sa.Column("reported_at", shared.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "evaluation_checklist",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("applicant_type", sa.String(length=16), nullable=False),
        sa.Column("applicant_name", sa.String(length=200), nullable=False),
        sa.Column("applicant_key", sa.String(length=80), nullable=False),
        sa.Column("legal_entity_number", sa.String(length=100), nullable=True),
        sa.Column("region_code", sa.String(length=16), nullable=False),
        sa.Column("public_address", sa.Text(), nullable=True),
        sa.Column("address_enc", sa.Text(), nullable=False),
        sa.Column("phone_enc", sa.Text(), nullable=False),
        sa.Column("nik_enc", sa.Text(), nullable=True),
        sa.Column("nik_idx", sa.String(length=32), nullable=True),
        sa.Column("npwp_enc", sa.Text(), nullable=True),
        sa.Column("npwp_idx", sa.String(length=32), nullable=True),
        sa.Column("bank_account_enc", sa.Text(), nullable=True),
        sa.Column("bank_account_idx", sa.String(length=32), nullable=True),
        sa.Column("created_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["sabilulungan.accounts.id"], name=op.f("fk_proposals_owner_id_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_proposals")),
        sa.UniqueConstraint("tracking_code", name=op.f("uq_proposals_tracking_code")),
        schema="sabilulungan",
    )
    op.create_index(
        "ix_proposals_applicant_key",
        "proposals",
        ["applicant_key"],
        unique=False,
        schema="sabilulungan",
    )
    op.create_index(
        "ix_proposals_bank_account_idx",
        "proposals",
        ["bank_account_idx"],
        unique=False,
        schema="sabilulungan",
    )
    op.create_index(
        "ix_proposals_nik_idx", "proposals", ["nik_idx"], unique=False, schema="sabilulungan"
    )
    op.create_index(
        "ix_proposals_year_kind_status",
        "proposals",
        ["fiscal_year", "kind", "status"],
        unique=False,
        schema="sabilulungan",
    )
    op.create_index(
        "ix_sabilulungan_proposals_opd_code",
        "proposals",
        ["opd_code"],
        unique=False,
        schema="sabilulungan",
    )

    op.create_table(
        "board_members",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "proposal_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=100), nullable=False),
        sa.Column("nik_enc", sa.Text(), nullable=False),
        sa.Column("nik_idx", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["proposal_id"],
            ["sabilulungan.proposals.id"],
            name=op.f("fk_board_members_proposal_id_proposals"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_board_members")),
        schema="sabilulungan",
    )
    op.create_index(
        "ix_sabilulungan_board_members_nik_idx",
        "board_members",
        ["nik_idx"],
        unique=False,
        schema="sabilulungan",
    )
    op.create_index(
        "ix_sabilulungan_board_members_proposal_id",
        "board_members",
        ["proposal_id"],
        unique=False,
        schema="sabilulungan",
    )

    op.create_table(
        "budget_lines",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "proposal_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("description", sa.String(length=300), nullable=False),
        sa.Column("amount_idr", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["proposal_id"],
            ["sabilulungan.proposals.id"],
            name=op.f("fk_budget_lines_proposal_id_proposals"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_budget_lines")),
        schema="sabilulungan",
    )
    op.create_index(
        "ix_sabilulungan_budget_lines_proposal_id",
        "budget_lines",
        ["proposal_id"],
        unique=False,
        schema="sabilulungan",
    )

    op.create_table(
        "documents",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "proposal_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("checklist_item", sa.String(length=64), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("content_type", sa.String(length=64), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("uploaded_by", sa.String(length=64), nullable=False),
        sa.Column("uploaded_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["proposal_id"],
            ["sabilulungan.proposals.id"],
            name=op.f("fk_documents_proposal_id_proposals"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_documents")),
        schema="sabilulungan",
    )
    op.create_index(
        "ix_sabilulungan_documents_proposal_id",
        "documents",
        ["proposal_id"],
        unique=False,
        schema="sabilulungan",
    )

    op.create_table(
        "issued_documents",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("number", sa.String(length=64), nullable=False),
        sa.Column("doc_type", sa.String(length=32), nullable=False),
        sa.Column(
            "proposal_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("fiscal_year", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=True),
        sa.Column("official_number", sa.String(length=100), nullable=False),
        sa.Column("amount_idr", sa.BigInteger(), nullable=False),
        sa.Column("issued_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["proposal_id"],
            ["sabilulungan.proposals.id"],
            name=op.f("fk_issued_documents_proposal_id_proposals"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_issued_documents")),
        sa.UniqueConstraint(
            "doc_type", "official_number", name=op.f("uq_issued_documents_doc_type_official_number")
        ),
        sa.UniqueConstraint("number", name=op.f("uq_issued_documents_number")),
        schema="sabilulungan",
    )
    op.create_index(
        "ix_sabilulungan_issued_documents_proposal_id",
        "issued_documents",
        ["proposal_id"],
        unique=False,
        schema="sabilulungan",
    )

    op.create_table(
        "stage_entries",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "proposal_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("state", sa.String(length=64), nullable=False),
        sa.Column("entered_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("actor_role", sa.String(length=64), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("amount_idr", sa.BigInteger(), nullable=True),
        sa.Column("rule_version", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["proposal_id"],
            ["sabilulungan.proposals.id"],
            name=op.f("fk_stage_entries_proposal_id_proposals"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stage_entries")),
        schema="sabilulungan",
    )
    op.create_index(
        "ix_sabilulungan_stage_entries_proposal_id",
        "stage_entries",
        ["proposal_id"],
        unique=False,
        schema="sabilulungan",
    )


def downgrade() -> None:
    op.drop_index(
        "ix_sabilulungan_stage_entries_proposal_id",
        table_name="stage_entries",
        schema="sabilulungan",
    )

    op.drop_table("stage_entries", schema="sabilulungan")
    op.drop_index(
        "ix_sabilulungan_issued_documents_proposal_id",
        table_name="issued_documents",
        schema="sabilulungan",
    )

    op.drop_table("issued_documents", schema="sabilulungan")
    op.drop_index(
        "ix_sabilulungan_documents_proposal_id", table_name="documents", schema="sabilulungan"
    )

    op.drop_table("documents", schema="sabilulungan")
    op.drop_index(
        "ix_sabilulungan_budget_lines_proposal_id", table_name="budget_lines", schema="sabilulungan"
    )

    op.drop_table("budget_lines", schema="sabilulungan")
    op.drop_index(
        "ix_sabilulungan_board_members_proposal_id",
        table_name="board_members",
        schema="sabilulungan",
    )
    op.drop_index(
        "ix_sabilulungan_board_members_nik_idx", table_name="board_members", schema="sabilulungan"
    )

    op.drop_table("board_members", schema="sabilulungan")
    op.drop_index(
        "ix_sabilulungan_proposals_opd_code", table_name="proposals", schema="sabilulungan"
    )
    op.drop_index("ix_proposals_year_kind_status", table_name="proposals", schema="sabilulungan")
    op.drop_index("ix_proposals_nik_idx", table_name="proposals", schema="sabilulungan")
    op.drop_index("ix_proposals_bank_account_idx", table_name="proposals", schema="sabilulungan")
    op.drop_index("ix_proposals_applicant_key", table_name="proposals", schema="sabilulungan")

    op.drop_table("proposals", schema="sabilulungan")
    op.drop_table("budgets", schema="sabilulungan")
