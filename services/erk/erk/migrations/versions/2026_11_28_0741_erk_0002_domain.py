"""units, employees, targets, activities, attendance, delegations, periods, recaps

Revision ID: erk_0002
Revises: erk_0001
Create Date: 2026-11-28 07:41:56.358373
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import shared.db

revision: str = "erk_0002"
down_revision: str | None = "erk_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "delegations",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("supervisor_nip", sa.String(length=18), nullable=False),
        sa.Column("delegate_nip", sa.String(length=18), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("end_date >= start_date", name=op.f("ck_delegations_dates_ordered")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_delegations")),
        schema="erk",
    )
    with op.batch_alter_table("delegations", schema="erk") as batch_op:
        batch_op.create_index(
            "ix_delegations_delegate", ["delegate_nip", "start_date"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_erk_delegations_supervisor_nip"), ["supervisor_nip"], unique=False
        )

    op.create_table(
        "periods",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("working_days", sa.Integer(), nullable=False),
        sa.Column("rule_version", sa.String(length=40), nullable=False),
        sa.Column(
            "rule",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("closed_by", sa.String(length=64), nullable=False),
        sa.Column("closed_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_periods")),
        sa.UniqueConstraint("period", name=op.f("uq_periods_period")),
        schema="erk",
    )
    with op.batch_alter_table("periods", schema="erk") as batch_op:
        batch_op.create_index(batch_op.f("ix_erk_periods_end_date"), ["end_date"], unique=False)

    op.create_table(
        "recaps",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("rule_version", sa.String(length=40), nullable=False),
        sa.Column("employee_id", sa.BigInteger(), nullable=False),
        sa.Column("nip", sa.String(length=18), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("unit_code", sa.String(length=32), nullable=False),
        sa.Column("unit_path", sa.String(length=400), nullable=False),
        sa.Column("working_days", sa.Integer(), nullable=False),
        sa.Column("standard_minutes", sa.Integer(), nullable=False),
        sa.Column("verified_minutes", sa.Integer(), nullable=False),
        sa.Column("performance_bp", sa.Integer(), nullable=False),
        sa.Column("absent_days", sa.Integer(), nullable=False),
        sa.Column("late_events", sa.Integer(), nullable=False),
        sa.Column("late_bp", sa.Integer(), nullable=False),
        sa.Column("early_events", sa.Integer(), nullable=False),
        sa.Column("early_bp", sa.Integer(), nullable=False),
        sa.Column("discipline_bp", sa.Integer(), nullable=False),
        sa.Column("tpp_base_idr", sa.BigInteger(), nullable=False),
        sa.Column("tpp_performance_idr", sa.BigInteger(), nullable=False),
        sa.Column("tpp_discipline_idr", sa.BigInteger(), nullable=False),
        sa.Column("tpp_total_idr", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recaps")),
        sa.UniqueConstraint("period", "nip", name=op.f("uq_recaps_period_nip")),
        schema="erk",
    )
    op.create_table(
        "units",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("parent_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("path", sa.String(length=400), nullable=False),
        sa.Column("created_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["erk.units.id"], name=op.f("fk_units_parent_id_units")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_units")),
        sa.UniqueConstraint("code", name=op.f("uq_units_code")),
        schema="erk",
    )
    with op.batch_alter_table("units", schema="erk") as batch_op:
        batch_op.create_index(batch_op.f("ix_erk_units_path"), ["path"], unique=False)

    op.create_table(
        "employees",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("nip", sa.String(length=18), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("unit_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("position", sa.String(length=200), nullable=False),
        sa.Column("job_class", sa.SmallInteger(), nullable=False),
        sa.Column("rank", sa.String(length=8), nullable=False),
        sa.Column("supervisor_nip", sa.String(length=18), nullable=True),
        sa.Column("tpp_base_idr", sa.BigInteger(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("job_class BETWEEN 1 AND 17", name=op.f("ck_employees_job_class_range")),
        sa.CheckConstraint("tpp_base_idr >= 0", name=op.f("ck_employees_tpp_base_non_negative")),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["erk.units.id"], name=op.f("fk_employees_unit_id_units")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_employees")),
        sa.UniqueConstraint("nip", name=op.f("uq_employees_nip")),
        schema="erk",
    )
    with op.batch_alter_table("employees", schema="erk") as batch_op:
        batch_op.create_index(
            batch_op.f("ix_erk_employees_supervisor_nip"), ["supervisor_nip"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_erk_employees_unit_id"), ["unit_id"], unique=False)

    op.create_table(
        "attendance",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "employee_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("minutes_late", sa.Integer(), nullable=False),
        sa.Column("minutes_early", sa.Integer(), nullable=False),
        sa.Column("updated_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "minutes_late >= 0 AND minutes_early >= 0",
            name=op.f("ck_attendance_minutes_non_negative"),
        ),
        sa.ForeignKeyConstraint(
            ["employee_id"], ["erk.employees.id"], name=op.f("fk_attendance_employee_id_employees")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attendance")),
        sa.UniqueConstraint("employee_id", "day", name=op.f("uq_attendance_employee_id_day")),
        schema="erk",
    )
    with op.batch_alter_table("attendance", schema="erk") as batch_op:
        batch_op.create_index("ix_attendance_day", ["day"], unique=False)

    op.create_table(
        "targets",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "employee_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=True),
        sa.Column("output_unit", sa.String(length=50), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("approved_by", sa.String(length=64), nullable=True),
        sa.Column("approved_at", shared.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["employee_id"], ["erk.employees.id"], name=op.f("fk_targets_employee_id_employees")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_targets")),
        schema="erk",
    )
    with op.batch_alter_table("targets", schema="erk") as batch_op:
        batch_op.create_index(
            batch_op.f("ix_erk_targets_employee_id"), ["employee_id"], unique=False
        )

    op.create_table(
        "activities",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "employee_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("activity_date", sa.Date(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.Column("output_quantity", sa.Integer(), nullable=True),
        sa.Column("output_unit", sa.String(length=50), nullable=True),
        sa.Column("target_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("verified_by", sa.String(length=64), nullable=True),
        sa.Column("verified_at", shared.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("escalated_to_nip", sa.String(length=18), nullable=True),
        sa.Column("evidence_sha256", sa.String(length=64), nullable=True),
        sa.Column("evidence_type", sa.String(length=40), nullable=True),
        sa.Column("evidence_name", sa.String(length=200), nullable=True),
        sa.Column("created_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("minutes > 0", name=op.f("ck_activities_minutes_positive")),
        sa.ForeignKeyConstraint(
            ["employee_id"], ["erk.employees.id"], name=op.f("fk_activities_employee_id_employees")
        ),
        sa.ForeignKeyConstraint(
            ["target_id"], ["erk.targets.id"], name=op.f("fk_activities_target_id_targets")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_activities")),
        schema="erk",
    )
    with op.batch_alter_table("activities", schema="erk") as batch_op:
        batch_op.create_index(
            "ix_activities_date_status", ["activity_date", "status"], unique=False
        )
        batch_op.create_index(
            "ix_activities_employee_date", ["employee_id", "activity_date"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_erk_activities_escalated_to_nip"), ["escalated_to_nip"], unique=False
        )


def downgrade() -> None:

    with op.batch_alter_table("activities", schema="erk") as batch_op:
        batch_op.drop_index(batch_op.f("ix_erk_activities_escalated_to_nip"))
        batch_op.drop_index("ix_activities_employee_date")
        batch_op.drop_index("ix_activities_date_status")

    op.drop_table("activities", schema="erk")
    with op.batch_alter_table("targets", schema="erk") as batch_op:
        batch_op.drop_index(batch_op.f("ix_erk_targets_employee_id"))

    op.drop_table("targets", schema="erk")
    with op.batch_alter_table("attendance", schema="erk") as batch_op:
        batch_op.drop_index("ix_attendance_day")

    op.drop_table("attendance", schema="erk")
    with op.batch_alter_table("employees", schema="erk") as batch_op:
        batch_op.drop_index(batch_op.f("ix_erk_employees_unit_id"))
        batch_op.drop_index(batch_op.f("ix_erk_employees_supervisor_nip"))

    op.drop_table("employees", schema="erk")
    with op.batch_alter_table("units", schema="erk") as batch_op:
        batch_op.drop_index(batch_op.f("ix_erk_units_path"))

    op.drop_table("units", schema="erk")
    op.drop_table("recaps", schema="erk")
    with op.batch_alter_table("periods", schema="erk") as batch_op:
        batch_op.drop_index(batch_op.f("ix_erk_periods_end_date"))

    op.drop_table("periods", schema="erk")
    with op.batch_alter_table("delegations", schema="erk") as batch_op:
        batch_op.drop_index(batch_op.f("ix_erk_delegations_supervisor_nip"))
        batch_op.drop_index("ix_delegations_delegate")

    op.drop_table("delegations", schema="erk")
