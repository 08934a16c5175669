"""Pay inputs awaiting HR: an employee registered by someone other than HR has no job class until
HR (BKPSDM) sets it (`employees.job_class` and the dated `employee_grades.job_class` may be
empty), and a recap row records whether it was computed while the pay inputs awaited HR.

Revision ID: erk_0006_awaiting_hr
Revises: erk_0005_notify
Create Date: 2026-12-06 21:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "erk_0006_awaiting_hr"
down_revision: str | None = "erk_0005_notify"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    for table in ("employees", "employee_grades"):
        with op.batch_alter_table(table, schema="erk") as batch_op:
            batch_op.alter_column("job_class", existing_type=sa.SmallInteger(), nullable=True)
    with op.batch_alter_table("recaps", schema="erk") as batch_op:
        batch_op.add_column(
            sa.Column("pay_awaiting_hr", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    awaiting = op.get_bind().scalar(
        sa.text("SELECT count(*) FROM erk.employees WHERE job_class IS NULL")
    )
    if awaiting:
        raise RuntimeError(
            f"{awaiting} employee(s) await a job class from HR: set it before downgrading"
        )
    with op.batch_alter_table("recaps", schema="erk") as batch_op:
        batch_op.drop_column("pay_awaiting_hr")
    op.execute("DELETE FROM erk.employee_grades WHERE job_class IS NULL")
    for table in ("employees", "employee_grades"):
        with op.batch_alter_table(table, schema="erk") as batch_op:
            batch_op.alter_column("job_class", existing_type=sa.SmallInteger(), nullable=False)
