"""The employee's entry lock and the minutes already logged, read in one step (PostgreSQL).

`erk.logged_minutes_locked(employee_id, lock_key, day, not_counted)` takes the transaction-level
advisory lock of `lock_key` (the key `erk.activities.serialize_employee` takes), then sums the
employee's minutes on `day` of every status but `not_counted`. The function is VOLATILE, so
PostgreSQL gives its query a snapshot of its own, taken after the lock is held: the sum counts
every entry committed by the writer the lock waited for. That lets a single entry's checked
INSERT take the lock and read the cap in the same statement (one round trip, committed on its
own) instead of a lock statement first (`erk.activities._submit_statement`).

Revision ID: erk_0007_entry_lock
Revises: erk_0006_awaiting_hr
Create Date: 2026-12-07 20:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "erk_0007_entry_lock"
down_revision: str | None = "erk_0006_awaiting_hr"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return  # SQLite lets one writer in at a time (BEGIN IMMEDIATE): no lock to take
    op.execute(
        """
        CREATE FUNCTION erk.logged_minutes_locked(
            p_employee_id bigint, p_lock_key text, p_day date, p_not_counted text
        ) RETURNS bigint
        LANGUAGE plpgsql VOLATILE
        SET search_path = pg_catalog, pg_temp
        AS $$
        BEGIN
            PERFORM pg_advisory_xact_lock(hashtext(p_lock_key));
            RETURN (
                SELECT coalesce(sum(a.minutes), 0)
                FROM erk.activities AS a
                WHERE a.employee_id = p_employee_id
                  AND a.activity_date = p_day
                  AND a.status <> p_not_counted
            );
        END
        $$
        """
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP FUNCTION erk.logged_minutes_locked(bigint, text, date, text)")
