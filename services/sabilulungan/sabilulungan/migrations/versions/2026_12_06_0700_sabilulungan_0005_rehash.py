"""accounts: password_rehashes, so that a hash upgrade at login does not end other sessions

The epoch trigger raises token_epoch for a new password_hash only when password_rehashes stays
the same; the login's argon2 parameter upgrade raises password_rehashes in the same UPDATE.

Revision ID: sabilulungan_0005_rehash
Revises: sabilulungan_0005_sabi
Create Date: 2026-12-06 07:00:00
"""

from collections.abc import Sequence

from shared.migrations_common import add_password_rehash_v3, drop_password_rehash_v3

revision: str = "sabilulungan_0005_rehash"
down_revision: str | None = "sabilulungan_0005_sabi"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "sabilulungan"


def upgrade() -> None:
    add_password_rehash_v3(SCHEMA)


def downgrade() -> None:
    drop_password_rehash_v3(SCHEMA)
