"""proposals: recipient category, bansos purpose, LPJ spending, refunds, releases, late LPJ

Revision ID: sabilulungan_0003_sabi
Revises: sabilulungan_0002
Create Date: 2026-12-05 17:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "sabilulungan_0003_sabi"
down_revision: str | None = "sabilulungan_0003_auth"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "sabilulungan"


def upgrade() -> None:
    with op.batch_alter_table("proposals", schema=SCHEMA) as batch:
        batch.add_column(sa.Column("recipient_category", sa.String(40), nullable=True))
        batch.add_column(sa.Column("purpose_code", sa.String(40), nullable=True))
        batch.add_column(sa.Column("spent_idr", sa.BigInteger(), nullable=True))
        batch.add_column(
            sa.Column("refunded_idr", sa.BigInteger(), nullable=False, server_default="0")
        )
        batch.add_column(
            sa.Column("released_idr", sa.BigInteger(), nullable=False, server_default="0")
        )
        batch.add_column(
            sa.Column("report_late", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("proposals", schema=SCHEMA) as batch:
        for name in (
            "report_late",
            "released_idr",
            "refunded_idr",
            "spent_idr",
            "purpose_code",
            "recipient_category",
        ):
            batch.drop_column(name)
