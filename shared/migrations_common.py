"""The tables every service has, as the frozen steps its own migrations call.

Version 1 (`create_common_tables_v1`): accounts, the audit trail (append-only, with the triggers of
`shared.migrations_audit`) and idempotency records, in the service's schema. Version 2
(`add_account_epoch_v2`): tokens that can be revoked. Version 3 (`add_password_rehash_v3`): a hash
upgrade at login is not a password change. Running the migrations is `shared.migrations`.
"""

from __future__ import annotations

from shared.migrations_audit import (
    AUDIT_CONTENT_COLUMNS,
    append_only_statements,
    drop_append_only_statements,
)

# --- The tables every service has, frozen as version 1 ---
# A service's first migration calls these. They are frozen: a later change to the common tables
# is a new function (`..._v2`) called by a new migration, never an edit here, so that old
# migrations keep meaning what they meant.


def create_common_tables_v1(schema: str) -> None:
    """Accounts, the audit trail (append-only) and idempotency records, in `schema`."""
    import sqlalchemy as sa
    from alembic import op
    from sqlalchemy.dialects import postgresql

    from shared.db import UTCDateTime

    id_type = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
    json_type = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
    op.create_table(
        "accounts",
        sa.Column("id", id_type, autoincrement=True, nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("full_name", sa.String(length=200), nullable=False),
        sa.Column("roles", json_type, nullable=False),
        sa.Column("unit", sa.String(length=64), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("must_change_password", sa.Boolean(), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accounts")),
        sa.UniqueConstraint("username", name=op.f("uq_accounts_username")),
        schema=schema,
    )
    op.create_table(
        "audit_checkpoints",
        sa.Column("id", id_type, autoincrement=True, nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.Column("chain_hash", sa.String(length=64), nullable=False),
        sa.Column("sealed_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("key_id", sa.String(length=16), nullable=False),
        sa.Column("signature", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_checkpoints")),
        schema=schema,
    )
    op.create_table(
        "audit_events",
        sa.Column("id", id_type, autoincrement=True, nullable=False),
        sa.Column("occurred_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("actor_role", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("entity_type", sa.String(length=64), nullable=False),
        sa.Column("entity_id", sa.String(length=64), nullable=False),
        sa.Column("before", json_type, nullable=True),
        sa.Column("after", json_type, nullable=True),
        sa.Column("request_id", sa.String(length=64), nullable=True),
        sa.Column("seal_position", sa.BigInteger(), nullable=True),
        sa.Column("seal_hash", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_events")),
        sa.UniqueConstraint("seal_position", name=op.f("uq_audit_events_seal_position")),
        schema=schema,
    )
    op.create_index(
        "ix_audit_events_entity", "audit_events", ["entity_type", "entity_id"], schema=schema
    )
    op.create_table(
        "idempotency_records",
        sa.Column("id", id_type, autoincrement=True, nullable=False),
        sa.Column("scope", sa.String(length=200), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column("response_body", json_type, nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_idempotency_records")),
        sa.UniqueConstraint("scope", "key", name=op.f("uq_idempotency_records_scope_key")),
        schema=schema,
    )
    dialect = op.get_bind().dialect.name
    for statement in append_only_statements(dialect, schema, "audit_events", AUDIT_CONTENT_COLUMNS):
        op.execute(statement)


def drop_common_tables_v1(schema: str) -> None:
    from alembic import op

    dialect = op.get_bind().dialect.name
    for statement in drop_append_only_statements(dialect, schema, "audit_events"):
        op.execute(statement)
    op.drop_table("idempotency_records", schema=schema)
    op.drop_index("ix_audit_events_entity", table_name="audit_events", schema=schema)
    op.drop_table("audit_events", schema=schema)
    op.drop_table("audit_checkpoints", schema=schema)
    op.drop_table("accounts", schema=schema)


# --- Version 2 of the accounts table: tokens that can be revoked ---
# `token_epoch` is written into every token and session; a token whose epoch is lower than the
# account's is refused. The database raises the epoch itself, whatever code (or person) changes
# the account: a new password, other roles, another unit or username, or deactivation. Logout
# raises it explicitly. `epoch_changed_at` lets each process re-read only the recent changes.

ACCOUNT_EPOCH_TRIGGER = "accounts_token_epoch"


def account_epoch_statements(dialect: str, schema: str) -> list[str]:
    """DDL of the trigger that raises `token_epoch` when an account's rights change."""
    if dialect == "postgresql":
        return [
            f"""CREATE OR REPLACE FUNCTION "{schema}".{ACCOUNT_EPOCH_TRIGGER}() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.password_hash IS DISTINCT FROM OLD.password_hash
     OR NEW.roles::text IS DISTINCT FROM OLD.roles::text
     OR NEW.unit IS DISTINCT FROM OLD.unit
     OR NEW.username IS DISTINCT FROM OLD.username
     OR (OLD.active AND NOT NEW.active) THEN
    NEW.token_epoch := GREATEST(NEW.token_epoch, OLD.token_epoch + 1);
  END IF;
  IF NEW.token_epoch IS DISTINCT FROM OLD.token_epoch THEN
    NEW.epoch_changed_at := clock_timestamp();
  END IF;
  RETURN NEW;
END $$""",
            f"""CREATE TRIGGER {ACCOUNT_EPOCH_TRIGGER} BEFORE UPDATE ON "{schema}".accounts
FOR EACH ROW EXECUTE FUNCTION "{schema}".{ACCOUNT_EPOCH_TRIGGER}()""",
        ]
    # SQLite stores UTCDateTime as 'YYYY-MM-DD HH:MM:SS.ffffff' (UTC); %f gives milliseconds.
    now = "strftime('%Y-%m-%d %H:%M:%f', 'now') || '000'"
    return [
        f"""CREATE TRIGGER "{schema}".{ACCOUNT_EPOCH_TRIGGER}
AFTER UPDATE OF password_hash, roles, unit, username, active ON accounts
WHEN NEW.password_hash IS NOT OLD.password_hash OR NEW.roles IS NOT OLD.roles
  OR NEW.unit IS NOT OLD.unit OR NEW.username IS NOT OLD.username
  OR (OLD.active AND NOT NEW.active)
BEGIN
  UPDATE accounts SET token_epoch = max(NEW.token_epoch, OLD.token_epoch + 1) WHERE id = NEW.id;
END""",
        f"""CREATE TRIGGER "{schema}".{ACCOUNT_EPOCH_TRIGGER}_at
AFTER UPDATE OF token_epoch ON accounts
WHEN NEW.token_epoch IS NOT OLD.token_epoch
BEGIN
  UPDATE accounts SET epoch_changed_at = {now} WHERE id = NEW.id;
END""",
    ]


def drop_account_epoch_statements(dialect: str, schema: str) -> list[str]:
    if dialect == "postgresql":
        return [
            f'DROP TRIGGER IF EXISTS {ACCOUNT_EPOCH_TRIGGER} ON "{schema}".accounts',
            f'DROP FUNCTION IF EXISTS "{schema}".{ACCOUNT_EPOCH_TRIGGER}()',
        ]
    return [
        f'DROP TRIGGER IF EXISTS "{schema}".{ACCOUNT_EPOCH_TRIGGER}',
        f'DROP TRIGGER IF EXISTS "{schema}".{ACCOUNT_EPOCH_TRIGGER}_at',
    ]


# --- Version 3: a hash upgrade at login is not a password change ---
# `authenticate` re-hashes a verified password when the argon2 parameters changed; the new hash
# stands for the same password, so it must not end the account's other sessions. That UPDATE
# also raises `password_rehashes`; the trigger raises the epoch for a new `password_hash` only
# when `password_rehashes` stays as it was. Every other change (roles, unit, username,
# deactivation, a password set by any other code or by SQL) raises it as before.


def account_epoch_v3_statements(dialect: str, schema: str) -> list[str]:
    """DDL of the version-3 trigger (see above)."""
    if dialect == "postgresql":
        return [
            f"""CREATE OR REPLACE FUNCTION "{schema}".{ACCOUNT_EPOCH_TRIGGER}() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF (NEW.password_hash IS DISTINCT FROM OLD.password_hash
      AND NEW.password_rehashes IS NOT DISTINCT FROM OLD.password_rehashes)
     OR NEW.roles::text IS DISTINCT FROM OLD.roles::text
     OR NEW.unit IS DISTINCT FROM OLD.unit
     OR NEW.username IS DISTINCT FROM OLD.username
     OR (OLD.active AND NOT NEW.active) THEN
    NEW.token_epoch := GREATEST(NEW.token_epoch, OLD.token_epoch + 1);
  END IF;
  IF NEW.token_epoch IS DISTINCT FROM OLD.token_epoch THEN
    NEW.epoch_changed_at := clock_timestamp();
  END IF;
  RETURN NEW;
END $$""",
            f"""CREATE TRIGGER {ACCOUNT_EPOCH_TRIGGER} BEFORE UPDATE ON "{schema}".accounts
FOR EACH ROW EXECUTE FUNCTION "{schema}".{ACCOUNT_EPOCH_TRIGGER}()""",
        ]
    now = "strftime('%Y-%m-%d %H:%M:%f', 'now') || '000'"
    return [
        f"""CREATE TRIGGER "{schema}".{ACCOUNT_EPOCH_TRIGGER}
AFTER UPDATE OF password_hash, roles, unit, username, active ON accounts
WHEN (NEW.password_hash IS NOT OLD.password_hash
      AND NEW.password_rehashes IS OLD.password_rehashes)
  OR NEW.roles IS NOT OLD.roles
  OR NEW.unit IS NOT OLD.unit OR NEW.username IS NOT OLD.username
  OR (OLD.active AND NOT NEW.active)
BEGIN
  UPDATE accounts SET token_epoch = max(NEW.token_epoch, OLD.token_epoch + 1) WHERE id = NEW.id;
END""",
        f"""CREATE TRIGGER "{schema}".{ACCOUNT_EPOCH_TRIGGER}_at
AFTER UPDATE OF token_epoch ON accounts
WHEN NEW.token_epoch IS NOT OLD.token_epoch
BEGIN
  UPDATE accounts SET epoch_changed_at = {now} WHERE id = NEW.id;
END""",
    ]


def add_password_rehash_v3(schema: str) -> None:
    """Upgrade: `accounts.password_rehashes` and the version-3 epoch trigger."""
    import sqlalchemy as sa
    from alembic import op

    op.add_column(
        "accounts",
        sa.Column("password_rehashes", sa.Integer(), server_default=sa.text("0"), nullable=False),
        schema=schema,
    )
    dialect = op.get_bind().dialect.name
    for statement in drop_account_epoch_statements(dialect, schema):
        op.execute(statement)
    for statement in account_epoch_v3_statements(dialect, schema):
        op.execute(statement)


def drop_password_rehash_v3(schema: str) -> None:
    """Downgrade: back to the version-2 trigger (every new hash raises the epoch)."""
    from alembic import op

    dialect = op.get_bind().dialect.name
    for statement in drop_account_epoch_statements(dialect, schema):
        op.execute(statement)
    with op.batch_alter_table("accounts", schema=schema) as batch:
        batch.drop_column("password_rehashes")
    for statement in account_epoch_statements(dialect, schema):
        op.execute(statement)


def add_account_epoch_v2(schema: str) -> None:
    """Upgrade: `accounts.token_epoch`, `accounts.epoch_changed_at` (indexed) and the trigger."""
    import sqlalchemy as sa
    from alembic import op

    from shared.db import UTCDateTime

    op.add_column(
        "accounts",
        sa.Column("token_epoch", sa.Integer(), server_default=sa.text("0"), nullable=False),
        schema=schema,
    )
    op.add_column(
        "accounts",
        sa.Column("epoch_changed_at", UTCDateTime(timezone=True), nullable=True),
        schema=schema,
    )
    op.create_index(
        op.f(f"ix_{schema}_accounts_epoch_changed_at"),
        "accounts",
        ["epoch_changed_at"],
        schema=schema,
    )
    for statement in account_epoch_statements(op.get_bind().dialect.name, schema):
        op.execute(statement)


def drop_account_epoch_v2(schema: str) -> None:
    from alembic import op

    for statement in drop_account_epoch_statements(op.get_bind().dialect.name, schema):
        op.execute(statement)
    op.drop_index(
        op.f(f"ix_{schema}_accounts_epoch_changed_at"), table_name="accounts", schema=schema
    )
    with op.batch_alter_table("accounts", schema=schema) as batch:
        batch.drop_column("epoch_changed_at")
        batch.drop_column("token_epoch")
