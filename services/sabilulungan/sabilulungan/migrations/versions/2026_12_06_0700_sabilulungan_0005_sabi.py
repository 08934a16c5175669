"""tranche schedule of a proposal, its bansos social risk, LPJ spending per RAB line

Revision ID: sabilulungan_0005_sabi
Revises: sabilulungan_0003_sabi
Create Date: 2026-12-06 07:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "sabilulungan_0005_sabi"
down_revision: str | None = "sabilulungan_0003_sabi"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "sabilulungan"


def upgrade() -> None:
    with op.batch_alter_table("proposals", schema=SCHEMA) as batch:
        batch.add_column(
            sa.Column(
                "tranche_plan",
                sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
                nullable=True,
            )
        )
        batch.add_column(sa.Column("social_risk", sa.String(40), nullable=True))
    with op.batch_alter_table("budget_lines", schema=SCHEMA) as batch:
        batch.add_column(sa.Column("spent_idr", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("budget_lines", schema=SCHEMA) as batch:
        batch.drop_column("spent_idr")
    with op.batch_alter_table("proposals", schema=SCHEMA) as batch:
        batch.drop_column("social_risk")
        batch.drop_column("tranche_plan")
