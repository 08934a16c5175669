"""accounts: password_rehashes, so that a hash upgrade at login does not end other sessions

The epoch trigger raises token_epoch for a new password_hash only when password_rehashes stays
the same; the login's argon2 parameter upgrade raises password_rehashes in the same UPDATE.

Revision ID: hayu_0005_rehash
Revises: hayu_0003_hayu
Create Date: 2026-12-06 07:00:00
"""

from collections.abc import Sequence

from shared.migrations_common import add_password_rehash_v3, drop_password_rehash_v3

revision: str = "hayu_0005_rehash"
down_revision: str | None = "hayu_0003_hayu"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "hayu"


def upgrade() -> None:
    add_password_rehash_v3(SCHEMA)


def downgrade() -> None:
    drop_password_rehash_v3(SCHEMA)
