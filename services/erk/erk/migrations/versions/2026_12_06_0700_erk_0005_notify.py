"""accounts: e-mail, phone and notification choices (the accounts table is shared; e-RK sends none)

Revision ID: erk_0005_notify
Revises: erk_0005_rehash
Create Date: 2026-12-06 07:00:00
"""

from collections.abc import Sequence

from shared.notification_schema import add_account_contact, drop_account_contact

revision: str = "erk_0005_notify"
down_revision: str | None = "erk_0005_rehash"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "erk"


def upgrade() -> None:
    add_account_contact(SCHEMA)


def downgrade() -> None:
    drop_account_contact(SCHEMA)
