"""index activities by (activity_date, id): the keyset order of the activity lists

Without it, page 1 of a month's activities (HR's view) sorts the whole month: 0.36 s over two
million rows, against a few milliseconds with the index.

Revision ID: erk_0003
Revises: erk_0002
Create Date: 2026-11-28 10:40:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "erk_0003"
down_revision: str | None = "erk_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("activities", schema="erk") as batch_op:
        batch_op.create_index("ix_activities_date_id", ["activity_date", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("activities", schema="erk") as batch_op:
        batch_op.drop_index("ix_activities_date_id")
