"""The audit log's DDL: what keeps its tables append-only, and its frozen migration step.

`append_only_statements` makes `audit_events` refuse DELETE, and any UPDATE but sealing (the first
migration, `shared.migrations_common.create_common_tables_v1`, runs it). `create_audit_log_v1`
(each service's `..._audit` migration) adds the Merkle tree, the witnesses' cursors and the signed
tree heads' columns, refuses every UPDATE, DELETE and TRUNCATE on the checkpoints and the tree, and
leaves every role but the tables' owner only the sealing UPDATE (`restrict_audit_grants_statement`,
which `migrate` applies again through `shared.migrations.restrict_audit_grants`).
"""

from __future__ import annotations

from collections.abc import Iterable


def append_only_statements(
    dialect: str, schema: str, table: str, columns: Iterable[str]
) -> list[str]:
    """DDL that refuses DELETE, and UPDATE other than sealing, on the audit events table."""
    cols = list(columns)
    if dialect == "postgresql":
        changed = " OR ".join(f"NEW.{c}::text IS DISTINCT FROM OLD.{c}::text" for c in cols)
        return [
            f"""CREATE OR REPLACE FUNCTION "{schema}".{table}_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    RAISE EXCEPTION 'audit events are append-only';
  END IF;
  IF OLD.seal_position IS NOT NULL OR {changed} THEN
    RAISE EXCEPTION 'audit events are append-only: only sealing may update them';
  END IF;
  RETURN NEW;
END $$""",
            f"""CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON "{schema}".{table}
FOR EACH ROW EXECUTE FUNCTION "{schema}".{table}_append_only()""",
        ]
    changed = " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in cols)
    return [
        f"""CREATE TRIGGER "{schema}".{table}_no_delete BEFORE DELETE ON {table}
BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END""",
        f"""CREATE TRIGGER "{schema}".{table}_no_update BEFORE UPDATE ON {table}
WHEN OLD.seal_position IS NOT NULL OR {changed}
BEGIN SELECT RAISE(ABORT, 'audit events are append-only: only sealing may update them'); END""",
    ]


def drop_append_only_statements(dialect: str, schema: str, table: str) -> list[str]:
    if dialect == "postgresql":
        return [
            f'DROP TRIGGER IF EXISTS {table}_append_only ON "{schema}".{table}',
            f'DROP FUNCTION IF EXISTS "{schema}".{table}_append_only()',
        ]
    return [
        f'DROP TRIGGER IF EXISTS "{schema}".{table}_no_delete',
        f'DROP TRIGGER IF EXISTS "{schema}".{table}_no_update',
    ]


AUDIT_CONTENT_COLUMNS = (
    "id",
    "occurred_at",
    "actor",
    "actor_role",
    "action",
    "entity_type",
    "entity_id",
    "before",
    "after",
    "request_id",
)


# --- The audit log as a transparency log, frozen as version 1 (each service's `..._audit`) ---

AUDIT_TABLES = ("audit_events", "audit_checkpoints", "audit_tree")


def _refuse_change_statements(dialect: str, schema: str, table: str) -> list[str]:
    """DDL that refuses every UPDATE and DELETE on an append-only audit table."""
    if dialect == "postgresql":
        return [
            f"""CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON "{schema}".{table}
FOR EACH ROW EXECUTE FUNCTION "{schema}".audit_refuse_change()"""
        ]
    return [
        f"""CREATE TRIGGER "{schema}".{table}_no_change_{op} BEFORE {op.upper()} ON {table}
BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"""
        for op in ("update", "delete")
    ]


def restrict_audit_grants_statement(schema: str) -> str:
    """PostgreSQL: take UPDATE, DELETE and TRUNCATE on the audit tables from every role but their
    owner, leaving a role that could write events only the sealing UPDATE (of `seal_position` and
    `seal_hash`, which the trigger allows once). Idempotent; run by every `migrate`."""
    tables = ", ".join(f"'{t}'" for t in AUDIT_TABLES)
    return f"""DO $$
DECLARE g record;
BEGIN
  FOR g IN
    SELECT DISTINCT c.relname AS tab, a.grantee AS grantee
    FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
    CROSS JOIN LATERAL aclexplode(c.relacl) a
    WHERE n.nspname = '{schema}' AND c.relname IN ({tables}) AND a.grantee <> c.relowner
  LOOP
    IF g.grantee = 0 THEN
      EXECUTE format('REVOKE UPDATE, DELETE, TRUNCATE ON %I.%I FROM PUBLIC', '{schema}', g.tab);
    ELSE
      EXECUTE format('REVOKE UPDATE, DELETE, TRUNCATE ON %I.%I FROM %s',
                     '{schema}', g.tab, g.grantee::regrole);
      IF g.tab = 'audit_events'
         AND has_table_privilege(g.grantee, '"{schema}".audit_events', 'INSERT') THEN
        EXECUTE format('GRANT UPDATE (seal_position, seal_hash) ON %I.audit_events TO %s',
                       '{schema}', g.grantee::regrole);
      END IF;
    END IF;
  END LOOP;
END $$"""


def create_audit_log_v1(schema: str) -> None:
    """Signed tree heads chained to each other, the Merkle tree's stored subtrees, the witnesses'
    delivery cursors, append-only checkpoints and tree, and audit grants only for sealing."""
    import sqlalchemy as sa
    from alembic import op

    from shared.db import UTCDateTime

    dialect = op.get_bind().dialect.name
    op.add_column(
        "audit_checkpoints",
        sa.Column("version", sa.SmallInteger(), server_default="1", nullable=False),
        schema=schema,
    )
    op.add_column("audit_checkpoints", sa.Column("tree_root", sa.String(length=64)), schema=schema)
    op.add_column(
        "audit_checkpoints", sa.Column("previous_hash", sa.String(length=64)), schema=schema
    )
    op.create_index(
        op.f(f"ix_{schema}_audit_checkpoints_position"),
        "audit_checkpoints",
        ["position"],
        unique=True,
        schema=schema,
    )
    op.create_table(
        "audit_tree",
        sa.Column("level", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("idx", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("level", "idx", name=op.f("pk_audit_tree")),
        schema=schema,
    )
    op.create_table(
        "audit_witness_cursors",
        sa.Column("witness", sa.String(length=500), nullable=False),
        sa.Column("checkpoint_id", sa.BigInteger(), nullable=False),
        sa.Column("attempts", sa.BigInteger(), nullable=False),
        sa.Column("next_attempt_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("witness", name=op.f("pk_audit_witness_cursors")),
        schema=schema,
    )
    if dialect == "postgresql":
        op.execute(
            f"""CREATE OR REPLACE FUNCTION "{schema}".audit_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
END $$"""
        )
    for table in ("audit_checkpoints", "audit_tree"):
        for statement in _refuse_change_statements(dialect, schema, table):
            op.execute(statement)
    if dialect == "postgresql":
        # TRUNCATE skips row triggers: refuse it too, whoever was granted it (SQLite has none).
        for table in AUDIT_TABLES:
            op.execute(
                f"""CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON "{schema}".{table}
FOR EACH STATEMENT EXECUTE FUNCTION "{schema}".audit_refuse_change()"""
            )
        op.execute(restrict_audit_grants_statement(schema))


def drop_audit_log_v1(schema: str) -> None:
    from alembic import op

    dialect = op.get_bind().dialect.name
    for table in ("audit_checkpoints", "audit_tree"):
        if dialect == "postgresql":
            op.execute(f'DROP TRIGGER IF EXISTS {table}_append_only ON "{schema}".{table}')
        else:
            for kind in ("update", "delete"):
                op.execute(f'DROP TRIGGER IF EXISTS "{schema}".{table}_no_change_{kind}')
    if dialect == "postgresql":
        for table in AUDIT_TABLES:
            op.execute(f'DROP TRIGGER IF EXISTS {table}_no_truncate ON "{schema}".{table}')
        op.execute(f'DROP FUNCTION IF EXISTS "{schema}".audit_refuse_change()')
    op.drop_table("audit_witness_cursors", schema=schema)
    op.drop_table("audit_tree", schema=schema)
    op.drop_index(
        op.f(f"ix_{schema}_audit_checkpoints_position"),
        table_name="audit_checkpoints",
        schema=schema,
    )
    with op.batch_alter_table("audit_checkpoints", schema=schema) as batch:
        batch.drop_column("previous_hash")
        batch.drop_column("tree_root")
        batch.drop_column("version")
