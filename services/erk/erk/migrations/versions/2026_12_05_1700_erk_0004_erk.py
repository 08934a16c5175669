"""BKN e-Kinerja's Rencana Aksi (action_plans, activities.action_plan_id), and TPP that follows
the Perkada: employment status, PTKP status, salary and employment dates of
an employee; a missed apel on attendance; the new figures of a closed month (days reduced, met,
missing, other deductions, effective base, PPh 21, BPJS and net).

Revision ID: erk_0004_erk
Revises: erk_0003
Create Date: 2026-12-05 17:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shared.db

revision: str = "erk_0004_erk"
down_revision: str | None = "erk_0004_auth"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _employee_columns() -> tuple[sa.Column[object], ...]:
    return (
        sa.Column("employment_status", sa.String(8), nullable=False, server_default="pns"),
        sa.Column("ptkp_status", sa.String(5), nullable=False, server_default="TK/0"),
        sa.Column("salary_gross_idr", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("joined_on", sa.Date(), nullable=True),
        sa.Column("left_on", sa.Date(), nullable=True),
    )


_RECAP_INT = (
    "employed_days",
    "reduced_days",
    "met_days",
    "missing_days",
    "other_bp",
    "sanction_bp",
)
_RECAP_BIG = (
    "base_effective_idr",
    "salary_gross_idr",
    "pph21_idr",
    "bpjs_idr",
    "tpp_net_idr",
    "sanction_cut_idr",
    "acting_addition_idr",
)


def upgrade() -> None:
    op.create_table(
        "action_plans",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "employee_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("period", sa.String(7), nullable=False),
        sa.Column("code", sa.String(40), nullable=False),
        sa.Column("title", sa.String(500), nullable=False),
        sa.Column("created_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["employee_id"], ["erk.employees.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("employee_id", "period", "title"),
        schema="erk",
    )
    op.create_table(
        "pay_adjustments",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "employee_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("percent_bp", sa.Integer(), nullable=False),
        sa.Column("acting_base_idr", sa.BigInteger(), nullable=False),
        sa.Column("legal_basis", sa.String(300), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("end_date >= start_date", name=op.f("ck_pay_adjustments_dates_ordered")),
        sa.CheckConstraint(
            "percent_bp BETWEEN 0 AND 10000", name=op.f("ck_pay_adjustments_percent_range")
        ),
        sa.ForeignKeyConstraint(["employee_id"], ["erk.employees.id"]),
        sa.PrimaryKeyConstraint("id"),
        schema="erk",
    )
    op.create_index(
        "ix_pay_adjustments_employee",
        "pay_adjustments",
        ["employee_id", "start_date"],
        schema="erk",
    )
    with op.batch_alter_table("activities", schema="erk") as batch_op:
        batch_op.add_column(
            sa.Column(
                "action_plan_id",
                sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                nullable=True,
            )
        )
    with op.batch_alter_table("employees", schema="erk") as batch_op:
        for column in _employee_columns():
            batch_op.add_column(column)
    with op.batch_alter_table("attendance", schema="erk") as batch_op:
        batch_op.add_column(
            sa.Column("missed_apel", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("recaps", schema="erk") as batch_op:
        for name in _RECAP_INT:
            batch_op.add_column(sa.Column(name, sa.Integer(), nullable=False, server_default="0"))
        for name in _RECAP_BIG:
            batch_op.add_column(
                sa.Column(name, sa.BigInteger(), nullable=False, server_default="0")
            )
        batch_op.add_column(
            sa.Column("employment_status", sa.String(8), nullable=False, server_default="pns")
        )
        batch_op.add_column(
            sa.Column("ptkp_status", sa.String(5), nullable=False, server_default="TK/0")
        )


def downgrade() -> None:
    with op.batch_alter_table("activities", schema="erk") as batch_op:
        batch_op.drop_column("action_plan_id")
    op.drop_table("action_plans", schema="erk")
    op.drop_index("ix_pay_adjustments_employee", table_name="pay_adjustments", schema="erk")
    op.drop_table("pay_adjustments", schema="erk")
    with op.batch_alter_table("recaps", schema="erk") as batch_op:
        for name in (*_RECAP_INT, *_RECAP_BIG, "employment_status", "ptkp_status"):
            batch_op.drop_column(name)
    with op.batch_alter_table("attendance", schema="erk") as batch_op:
        batch_op.drop_column("missed_apel")
    with op.batch_alter_table("employees", schema="erk") as batch_op:
        for column in _employee_columns():
            batch_op.drop_column(column.name)
