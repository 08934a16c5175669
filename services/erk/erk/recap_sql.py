"""The recap as one SQL query: minutes, discipline, TPP, tax and net per employee."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Integer,
    Select,
    and_,
    case,
    cast,
    func,
    literal,
    or_,
    text,
)
from sqlalchemy import select as sa_select
from sqlalchemy.ext.asyncio import AsyncSession

from erk import schemas, workflow
from erk.config import DeductionBand, TppRule
from erk.dependencies import Context
from erk.models import (
    Activity,
    Attendance,
    Employee,
    EmployeeGrade,
    PayAdjustment,
    Unit,
)
from erk.periods import next_month, parse_period
from erk.tax import PTKP_CATEGORY, NetRule

FULL = 10_000  # 100 % in basis points


RECAP_COLUMNS = (
    "employee_id",
    "nip",
    "name",
    "unit_code",
    "unit_path",
    "working_days",
    "standard_minutes",
    "verified_minutes",
    "performance_bp",
    "absent_days",
    "late_events",
    "late_bp",
    "early_events",
    "early_bp",
    "discipline_bp",
    "tpp_base_idr",
    "tpp_performance_idr",
    "tpp_discipline_idr",
    "tpp_total_idr",
    "employed_days",
    "reduced_days",
    "met_days",
    "missing_days",
    "other_bp",
    "employment_status",
    "base_effective_idr",
    "ptkp_status",
    "salary_gross_idr",
    "pph21_idr",
    "bpjs_idr",
    "tpp_net_idr",
    "sanction_bp",
    "sanction_cut_idr",
    "acting_addition_idr",
)


@dataclass(frozen=True)
class Month:
    period: str
    start: dt.date
    end: dt.date  # inclusive
    days: tuple[dt.date, ...]  # the working days
    through: dt.date  # attendance is due for the working days before this date
    daily_cap: int
    rule: TppRule

    @property
    def working_days(self) -> int:
        return len(self.days)

    @property
    def standard_minutes(self) -> int:
        """The month's standard for someone employed and at work on every working day."""
        if self.rule.standard_minutes_per_month is not None:
            return self.rule.standard_minutes_per_month
        return self.working_days * self.rule.standard_minutes_per_day

    @property
    def day_credit(self) -> int:
        """Minutes a day counted as met is credited with."""
        return self.standard_minutes // self.working_days if self.days else 0


def month_of(ctx: Context, period: str) -> Month:
    first = parse_period(period)
    after = next_month(first)
    return Month(
        period=period,
        start=first,
        end=after - dt.timedelta(days=1),
        days=tuple(ctx.calendar.working_days_in_month(first.year, first.month)),
        through=min(after, ctx.today),
        daily_cap=ctx.erk.daily_cap_minutes,
        rule=ctx.erk.rule_for(first),
    )


def _int(value: int) -> ColumnElement[int]:
    return literal(value, BigInteger())


def _band_case(column: Any, bands: list[DeductionBand]) -> ColumnElement[int]:
    whens = []
    for band in bands:
        condition = column >= band.min_minutes
        if band.max_minutes is not None:
            condition = and_(condition, column <= band.max_minutes)
        whens.append((condition, band.basis_points))
    if not whens:
        return _int(0)
    return case(*whens, else_=0)


def _count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.sum(case((condition, 1), else_=0))


def _sum_bp(value: Any) -> ColumnElement[int]:
    """A sum of basis points as a whole number: PostgreSQL sums BIGINT (the literal 0 of a rule
    without bands or without a leave type that cuts) into NUMERIC, and every division after it
    would then keep fractions instead of flooring to the rupiah."""
    return cast(func.sum(value), BigInteger)


def _least(value: Any, ceiling: Any) -> ColumnElement[int]:
    return case((value > ceiling, ceiling), else_=value)


def _days_employed(days: Sequence[dt.date]) -> ColumnElement[int]:
    """Of `days`, how many fall inside the employee's joined_on .. left_on (either may be null)."""
    total: ColumnElement[int] = _int(len(days))
    for day in days:
        total = total - case((Employee.joined_on > day, 1), else_=0)
        total = total - case((Employee.left_on < day, 1), else_=0)
    return total


def _ter_rate(net: NetRule, category: Any, amount: Any) -> ColumnElement[int]:
    whens = []
    for name in ("A", "B", "C"):
        for upper, rate in net.table(name):
            condition = category == name
            if upper is not None:
                condition = and_(condition, amount <= upper)
            whens.append((condition, _int(rate)))
    return case(*whens, else_=_int(0))


def _ter_category() -> ColumnElement[str]:
    whens = [
        (Employee.ptkp_status.in_([k for k, v in PTKP_CATEGORY.items() if v == name]), name)
        for name in ("B", "C")
    ]
    return case(*whens, else_="A")


def _stage(stmt: Select[Any], name: str) -> Any:
    """One stage of the recap as a CTE that PostgreSQL computes once (MATERIALIZED): inlined, the
    stages' expressions would be copied into every later reference (a 60 KB query whose JIT
    compilation alone took 50 s)."""
    return stmt.cte(name).prefix_with("MATERIALIZED", dialect="postgresql")


async def without_jit(session: AsyncSession) -> None:
    """The recap's many CASE expressions cost more to JIT-compile than to run: off for this
    transaction (PostgreSQL only)."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(text("SET LOCAL jit = off"))


def _grades_in_force(month: Month, people: Select[Any] | None) -> Any:
    """Each dated employee's job class and status in force on the month's first working day (see
    `erk.grades`); employees never changed have no row and keep the values on `employees`."""
    first_day = month.days[0] if month.days else month.start
    latest = (
        sa_select(
            EmployeeGrade.employee_id.label("employee_id"),
            func.max(EmployeeGrade.effective_from).label("effective_from"),
        )
        .where(
            EmployeeGrade.effective_from <= first_day,
            *([EmployeeGrade.employee_id.in_(people)] if people is not None else []),
        )
        .group_by(EmployeeGrade.employee_id)
        .subquery("latest_grade")
    )
    return (
        sa_select(
            EmployeeGrade.employee_id,
            EmployeeGrade.job_class,
            EmployeeGrade.employment_status,
        )
        .join(
            latest,
            and_(
                latest.c.employee_id == EmployeeGrade.employee_id,
                latest.c.effective_from == EmployeeGrade.effective_from,
            ),
        )
        .subquery("grade")
    )


def recap_query(
    month: Month, *, unit_path: str | None = None, nip: str | None = None
) -> Select[Any]:
    """One row per employee employed in the month with every figure of the recap (see the
    module docstring), in three nested selects: raw counts, the TPP, then PPh 21, BPJS and net.

    A unit or employee filter is applied inside the aggregates too, so one employee's recap reads
    that employee's rows only, not the whole regency's month.
    """
    rule = month.rule
    days = list(month.days)
    past = [d for d in days if d < month.through]
    people: Select[Any] | None = None
    if nip is not None:
        people = sa_select(Employee.id).where(Employee.nip == nip)
    elif unit_path is not None:
        people = (
            sa_select(Employee.id)
            .join(Unit, Unit.id == Employee.unit_id)
            .where(Unit.path.startswith(unit_path))
        )
    # Approved minutes per day, each day capped at the daily cap, working days only.
    per_day = (
        sa_select(
            Activity.employee_id.label("employee_id"),
            _least(func.sum(Activity.minutes), _int(month.daily_cap)).label("minutes"),
        )
        .where(
            Activity.activity_date >= month.start,
            Activity.activity_date <= month.end,
            Activity.activity_date.in_(days),
            Activity.status == workflow.COUNTED.value,
            *([Activity.employee_id.in_(people)] if people is not None else []),
        )
        .group_by(Activity.employee_id, Activity.activity_date)
        .subquery("per_day")
    )
    verified = (
        # PostgreSQL sums BIGINT into NUMERIC: back to a whole number, or the divisions below
        # would keep fractions.
        sa_select(
            per_day.c.employee_id, cast(func.sum(per_day.c.minutes), BigInteger).label("minutes")
        )
        .group_by(per_day.c.employee_id)
        .subquery("verified")
    )
    status = Attendance.status
    present = status == schemas.AttendanceStatus.present.value
    cut_whens = [
        (status == name, effect.basis_points)
        for name, effect in rule.leave_effects.items()
        if effect.effect == "cuts"
    ]
    discipline = (
        sa_select(
            Attendance.employee_id.label("employee_id"),
            _count_if(Attendance.day < month.through).label("recorded_past"),
            _count_if(status == schemas.AttendanceStatus.absent.value).label("absent_days"),
            _count_if(status.in_(rule.leave_statuses("reduces_standard"))).label("reduced_days"),
            _count_if(status.in_(rule.leave_statuses("met"))).label("met_days"),
            _sum_bp(case(*cut_whens, else_=0) if cut_whens else _int(0)).label("cut_bp"),
            _count_if(status == schemas.AttendanceStatus.no_clock_in.value).label("no_clock_in"),
            _count_if(Attendance.missed_apel.is_(True)).label("apel_missed"),
            _count_if(and_(present, Attendance.minutes_late > 0)).label("late_events"),
            _sum_bp(
                case((present, _band_case(Attendance.minutes_late, rule.late_bands)), else_=0)
            ).label("late_bp"),
            _count_if(and_(present, Attendance.minutes_early > 0)).label("early_events"),
            _sum_bp(
                case(
                    (present, _band_case(Attendance.minutes_early, rule.early_leave_bands)), else_=0
                )
            ).label("early_bp"),
        )
        .where(
            Attendance.day >= month.start,
            Attendance.day <= month.end,
            Attendance.day.in_(days),
            *([Attendance.employee_id.in_(people)] if people is not None else []),
        )
        .group_by(Attendance.employee_id)
        .subquery("discipline")
    )

    starts, ends = PayAdjustment.start_date, PayAdjustment.end_date
    covered: ColumnElement[int] = _int(0)
    for day in days:
        covered = covered + case((and_(starts <= day, ends >= day), 1), else_=0)
    working = month.working_days
    acting = (
        PayAdjustment.acting_base_idr * PayAdjustment.percent_bp * covered // (FULL * working)
        if working
        else _int(0)
    )
    adjustments = (
        sa_select(
            PayAdjustment.employee_id.label("employee_id"),
            cast(
                func.sum(
                    case((PayAdjustment.kind == "sanction", PayAdjustment.percent_bp), else_=0)
                ),
                BigInteger,
            ).label("sanction_bp"),
            cast(
                func.sum(case((PayAdjustment.kind == "acting", acting), else_=0)), BigInteger
            ).label("acting_idr"),
        )
        .where(
            starts <= month.end,
            ends >= month.start,
            *([PayAdjustment.employee_id.in_(people)] if people is not None else []),
        )
        .group_by(PayAdjustment.employee_id)
        .subquery("adjustments")
    )

    def got(column: Any) -> ColumnElement[int]:
        return func.coalesce(column, 0)

    grade = _grades_in_force(month, people)
    job_class = func.coalesce(grade.c.job_class, Employee.job_class)
    employment_status = func.coalesce(grade.c.employment_status, Employee.employment_status)
    class_base: Any = Employee.tpp_base_idr
    if rule.class_bases:
        class_base = case(
            *((job_class == k, _int(v)) for k, v in sorted(rule.class_bases.items())),
            else_=Employee.tpp_base_idr,
        )
    raw = (
        sa_select(
            Employee.id.label("employee_id"),
            Employee.nip.label("nip"),
            Employee.name.label("name"),
            Unit.code.label("unit_code"),
            Unit.path.label("unit_path"),
            employment_status.label("employment_status"),
            Employee.ptkp_status.label("ptkp_status"),
            Employee.salary_gross_idr.label("salary_gross_idr"),
            _ter_category().label("ter_category"),
            class_base.label("tpp_base_idr"),
            _days_employed(days).label("employed_days"),
            _days_employed(past).label("employed_past"),
            got(verified.c.minutes).label("verified_minutes"),
            got(discipline.c.recorded_past).label("recorded_past"),
            got(discipline.c.absent_days).label("absent_days"),
            got(discipline.c.reduced_days).label("reduced_days"),
            got(discipline.c.met_days).label("met_days"),
            (
                got(discipline.c.cut_bp)
                + got(discipline.c.no_clock_in) * rule.no_clock_in_basis_points
                + got(discipline.c.apel_missed) * rule.missed_apel_basis_points
            ).label("other_bp"),
            got(discipline.c.late_events).label("late_events"),
            got(discipline.c.late_bp).label("late_bp"),
            got(discipline.c.early_events).label("early_events"),
            got(discipline.c.early_bp).label("early_bp"),
            _least(got(adjustments.c.sanction_bp), _int(FULL)).label("sanction_bp"),
            got(adjustments.c.acting_idr).label("acting_addition_idr"),
        )
        .join(Unit, Unit.id == Employee.unit_id)
        .outerjoin(adjustments, adjustments.c.employee_id == Employee.id)
        .outerjoin(grade, grade.c.employee_id == Employee.id)
        .outerjoin(verified, verified.c.employee_id == Employee.id)
        .outerjoin(discipline, discipline.c.employee_id == Employee.id)
        .where(
            Employee.active.is_(True),
            or_(Employee.joined_on.is_(None), Employee.joined_on <= month.end),
            or_(Employee.left_on.is_(None), Employee.left_on >= month.start),
        )
    )
    if unit_path is not None:
        raw = raw.where(Unit.path.startswith(unit_path))
    if nip is not None:
        raw = raw.where(Employee.nip == nip)
    r = _stage(raw, "raw")

    # The month's figures: standard, achievement, discipline and the effective base.
    standard = (
        _int(month.standard_minutes) * (r.c.employed_days - r.c.reduced_days) // working
        if working
        else _int(0)
    )
    achieved = r.c.verified_minutes + r.c.met_days * month.day_credit
    missing = case(
        (r.c.employed_past > r.c.recorded_past, r.c.employed_past - r.c.recorded_past), else_=0
    )
    charged_missing = missing if rule.missing_attendance == "absent" else _int(0)
    deduction = (
        (r.c.absent_days + charged_missing) * rule.absence_basis_points
        + r.c.late_bp
        + r.c.early_bp
        + r.c.other_bp
    )
    status_percent = case(
        (r.c.employment_status == "cpns", _int(rule.cpns_percent)), else_=_int(100)
    )
    base_effective = (
        r.c.tpp_base_idr * status_percent * r.c.employed_days // (100 * working)
        if working
        else r.c.tpp_base_idr * status_percent // 100
    )
    figures_select = sa_select(
        *(
            r.c[name]
            for name in (
                "employee_id",
                "nip",
                "name",
                "unit_code",
                "unit_path",
                "employment_status",
                "ptkp_status",
                "salary_gross_idr",
                "ter_category",
                "tpp_base_idr",
                "employed_days",
                "verified_minutes",
                "absent_days",
                "reduced_days",
                "met_days",
                "other_bp",
                "late_events",
                "late_bp",
                "early_events",
                "early_bp",
                "sanction_bp",
                "acting_addition_idr",
            )
        ),
        literal(working, Integer()).label("working_days"),
        standard.label("standard_minutes"),
        achieved.label("achieved_minutes"),
        missing.label("missing_days"),
        case((deduction >= FULL, _int(0)), else_=_int(FULL) - deduction).label("discipline_bp"),
        base_effective.label("base_effective_idr"),
    )
    figures = _stage(figures_select, "figures")

    f = figures.c
    capped = _least(f.achieved_minutes, f.standard_minutes)
    performance_bp = case(
        (f.standard_minutes > 0, capped * FULL // f.standard_minutes), else_=_int(FULL)
    )
    tpp_performance = case(
        (
            f.standard_minutes > 0,
            f.base_effective_idr * rule.weight_performance * capped // (100 * f.standard_minutes),
        ),
        else_=f.base_effective_idr * rule.weight_performance // 100,
    )
    tpp_discipline = f.base_effective_idr * rule.weight_discipline * f.discipline_bp // (100 * FULL)
    money_select = sa_select(
        *(c for c in f if c.name != "achieved_minutes"),
        performance_bp.label("performance_bp"),
        tpp_performance.label("tpp_performance_idr"),
        tpp_discipline.label("tpp_discipline_idr"),
        (
            tpp_performance
            + tpp_discipline
            - (tpp_performance + tpp_discipline) * f.sanction_bp // FULL
            + f.acting_addition_idr
        ).label("tpp_total_idr"),
        ((tpp_performance + tpp_discipline) * f.sanction_bp // FULL).label("sanction_cut_idr"),
    )
    money = _stage(money_select, "money")

    m = money.c
    net = rule.net
    total = m.salary_gross_idr + m.tpp_total_idr
    pph21 = (
        total * _ter_rate(net, m.ter_category, total) // 10_000
        - m.salary_gross_idr * _ter_rate(net, m.ter_category, m.salary_gross_idr) // 10_000
    )
    ceiling = _int(net.bpjs_wage_ceiling_idr)
    bpjs = (
        _least(total, ceiling) * net.bpjs_employee_percent // 100
        - _least(m.salary_gross_idr, ceiling) * net.bpjs_employee_percent // 100
    )
    return sa_select(
        *(
            m[name]
            for name in RECAP_COLUMNS
            if name not in ("pph21_idr", "bpjs_idr", "tpp_net_idr")
        ),
        pph21.label("pph21_idr"),
        bpjs.label("bpjs_idr"),
        (m.tpp_total_idr - pph21 - bpjs).label("tpp_net_idr"),
    )
