"""accounts: token_epoch and epoch_changed_at, raised by a trigger, so that tokens can be revoked

Revision ID: sabilulungan_0003_auth
Revises: sabilulungan_0002
Create Date: 2026-12-05 16:40:00
"""

from collections.abc import Sequence

from shared.migrations_common import add_account_epoch_v2, drop_account_epoch_v2

revision: str = "sabilulungan_0003_auth"
down_revision: str | None = "sabilulungan_0003_audit"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "sabilulungan"


def upgrade() -> None:
    add_account_epoch_v2(SCHEMA)


def downgrade() -> None:
    drop_account_epoch_v2(SCHEMA)
