"""accounts, audit trail and idempotency records

Revision ID: erk_0001
Revises:
Create Date: 2026-11-28
"""

from collections.abc import Sequence

from shared.migrations_common import create_common_tables_v1, drop_common_tables_v1

revision: str = "erk_0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_common_tables_v1("erk")


def downgrade() -> None:
    drop_common_tables_v1("erk")
