"""accounts: password_rehashes, so that a hash upgrade at login does not end other sessions

The epoch trigger raises token_epoch for a new password_hash only when password_rehashes stays
the same; the login's argon2 parameter upgrade raises password_rehashes in the same UPDATE.

Revision ID: erk_0005_rehash
Revises: erk_0005_erk
Create Date: 2026-12-06 07:00:00
"""

from collections.abc import Sequence

from shared.migrations_common import add_password_rehash_v3, drop_password_rehash_v3

revision: str = "erk_0005_rehash"
down_revision: str | None = "erk_0005_erk"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "erk"


def upgrade() -> None:
    add_password_rehash_v3(SCHEMA)


def downgrade() -> None:
    drop_password_rehash_v3(SCHEMA)
