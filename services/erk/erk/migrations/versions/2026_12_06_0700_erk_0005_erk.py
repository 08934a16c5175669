"""Job class and employment status effective-dated (employee_grades): a change mid-year does not
rewrite earlier months' pay. Existing employees get no row: the recap then uses the values on
`employees`, as before; the first dated change records the values it replaces.

Revision ID: erk_0005_erk
Revises: erk_0004_erk
Create Date: 2026-12-06 07:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shared.db

revision: str = "erk_0005_erk"
down_revision: str | None = "erk_0004_erk"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "employee_grades",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "employee_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("job_class", sa.SmallInteger(), nullable=False),
        sa.Column("employment_status", sa.String(8), nullable=False),
        sa.Column("legal_basis", sa.String(300), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "job_class BETWEEN 1 AND 17", name=op.f("ck_employee_grades_job_class_range")
        ),
        sa.ForeignKeyConstraint(["employee_id"], ["erk.employees.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("employee_id", "effective_from"),
        schema="erk",
    )


def downgrade() -> None:
    op.drop_table("employee_grades", schema="erk")
