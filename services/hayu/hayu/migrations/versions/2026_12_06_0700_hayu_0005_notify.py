"""accounts: e-mail, phone and notification choices; the notification outbox and its cursor

Revision ID: hayu_0005_notify
Revises: hayu_0005_rehash
Create Date: 2026-12-06 07:00:00
"""

from collections.abc import Sequence

from shared.notification_schema import (
    add_account_contact,
    create_notification_tables,
    drop_account_contact,
    drop_notification_tables,
)

revision: str = "hayu_0005_notify"
down_revision: str | None = "hayu_0005_rehash"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "hayu"


def upgrade() -> None:
    add_account_contact(SCHEMA)
    create_notification_tables(SCHEMA)


def downgrade() -> None:
    drop_notification_tables(SCHEMA)
    drop_account_contact(SCHEMA)
