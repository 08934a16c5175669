"""Migration steps for contact and notifications (one migration per service calls these).

`add_account_contact`: the contact columns of `accounts` (every service: the table is shared).
`create_notification_tables`: the outbox and its cursor (the services that notify citizens).
"""

from __future__ import annotations

CONTACT_COLUMNS = (
    "notify_phone",
    "notify_email",
    "phone_encrypted",
    "email_verified_at",
    "email_index",
    "email_encrypted",
)


def add_account_contact(schema: str) -> None:
    import sqlalchemy as sa
    from alembic import op

    from shared.crypto import token_length
    from shared.db import UTCDateTime

    # add_column, not a batch: on SQLite a batch rebuilds the table and drops its epoch trigger
    columns = [
        sa.Column("email_encrypted", sa.String(token_length(254)), nullable=True),
        sa.Column("email_index", sa.String(32), nullable=True),
        sa.Column("email_verified_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("phone_encrypted", sa.String(token_length(32)), nullable=True),
        sa.Column("notify_email", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("notify_phone", sa.Boolean(), server_default=sa.true(), nullable=False),
    ]
    for column in columns:
        op.add_column("accounts", column, schema=schema)
    op.create_index(
        op.f(f"ix_{schema}_accounts_email_index"), "accounts", ["email_index"], schema=schema
    )


def drop_account_contact(schema: str) -> None:
    from alembic import op

    op.drop_index(op.f(f"ix_{schema}_accounts_email_index"), table_name="accounts", schema=schema)
    for name in CONTACT_COLUMNS:
        op.drop_column("accounts", name, schema=schema)


def create_notification_tables(schema: str) -> None:
    import sqlalchemy as sa
    from alembic import op

    from shared.db import BigIntId, UTCDateTime

    op.create_table(
        "notification_outbox",
        sa.Column("id", BigIntId, autoincrement=True, nullable=False),
        sa.Column("key", sa.String(80), nullable=False),
        sa.Column("audit_event_id", sa.BigInteger(), nullable=False),
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("dead", sa.Boolean(), nullable=False),
        sa.Column("last_error", sa.String(200), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_outbox")),
        sa.UniqueConstraint("key", name=op.f("uq_notification_outbox_key")),
        schema=schema,
    )
    for column in ("audit_event_id", "account_id", "next_attempt_at"):
        op.create_index(
            op.f(f"ix_{schema}_notification_outbox_{column}"),
            "notification_outbox",
            [column],
            schema=schema,
        )
    op.create_table(
        "notification_cursor",
        sa.Column("name", sa.String(32), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_notification_cursor")),
        schema=schema,
    )


def drop_notification_tables(schema: str) -> None:
    from alembic import op

    op.drop_table("notification_cursor", schema=schema)
    for column in ("next_attempt_at", "account_id", "audit_event_id"):
        op.drop_index(
            op.f(f"ix_{schema}_notification_outbox_{column}"),
            table_name="notification_outbox",
            schema=schema,
        )
    op.drop_table("notification_outbox", schema=schema)
