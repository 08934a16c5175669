"""The monthly recap and TPP, computed in SQL over the month's rows, and the closing of a month.

Per employee (Perka BKN 19/2011; weights and deductions from the TPP rule version in force):

    standard minutes  = working days x standard minutes a day
    performance       = min(verified minutes, standard) / standard
    discipline        = max(0, 100 % - absence days x rate - lateness bands - early-leave bands)
    TPP productivity  = floor(base x weight_performance x performance)
    TPP discipline    = floor(base x weight_discipline x discipline)

All arithmetic is integer (percentages in basis points, rupiah whole) inside one aggregate query, so
PostgreSQL and SQLite give the same rupiah. Closing a month copies that query's result into `recaps`
with an INSERT ... SELECT and stores the rule version with it; a closed month is read from there.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
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
    insert,
    literal,
    or_,
    text,
)
from sqlalchemy import select as sa_select
from sqlalchemy.ext.asyncio import AsyncSession

from erk import errors, schemas, workflow
from erk.config import DeductionBand, TppRule
from erk.dependencies import Context
from erk.models import (
    Activity,
    Attendance,
    AuditEvent,
    Employee,
    PayAdjustment,
    Period,
    Recap,
    Unit,
)
from erk.periods import next_month, parse_period
from erk.tax import PTKP_CATEGORY, NetRule
from shared.audit import record_event
from shared.auth import Principal
from shared.money import format_rupiah
from shared.pagination import decode_cursor, encode_cursor

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
            func.sum(case(*cut_whens, else_=0) if cut_whens else _int(0)).label("cut_bp"),
            _count_if(status == schemas.AttendanceStatus.no_clock_in.value).label("no_clock_in"),
            _count_if(Attendance.missed_apel.is_(True)).label("apel_missed"),
            _count_if(and_(present, Attendance.minutes_late > 0)).label("late_events"),
            func.sum(
                case((present, _band_case(Attendance.minutes_late, rule.late_bands)), else_=0)
            ).label("late_bp"),
            _count_if(and_(present, Attendance.minutes_early > 0)).label("early_events"),
            func.sum(
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

    class_base: Any = Employee.tpp_base_idr
    if rule.class_bases:
        class_base = case(
            *((Employee.job_class == k, _int(v)) for k, v in sorted(rule.class_bases.items())),
            else_=Employee.tpp_base_idr,
        )
    raw = (
        sa_select(
            Employee.id.label("employee_id"),
            Employee.nip.label("nip"),
            Employee.name.label("name"),
            Unit.code.label("unit_code"),
            Unit.path.label("unit_path"),
            Employee.employment_status.label("employment_status"),
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


def _pct(bp: int) -> str:
    return f"{bp // 100},{bp % 100:02d} %"


def _bands_text(bands: list[DeductionBand]) -> str:
    parts = []
    for b in bands:
        upper = f"{b.min_minutes}–{b.max_minutes}" if b.max_minutes else f"> {b.min_minutes - 1}"
        parts.append(f"{upper} menit {_pct(b.basis_points)}")
    return "; ".join(parts)


def _n(value: int) -> str:
    """A whole number in Indonesian style: 12.600."""
    return f"{value:,}".replace(",", ".")


LEAVE_WORDS = {
    "met": "dihitung memenuhi",
    "reduces_standard": "mengurangi standar",
    "cuts": "memotong TPP",
}
STATUS_WORDS = {"pns": "PNS", "cpns": "CPNS", "pppk": "PPPK"}


def explain(row: Any, rule: TppRule) -> list[str]:
    """The lines that answer "why is my TPP this amount" (Bahasa Indonesia, shown as is)."""
    base = int(row.tpp_base_idr)
    effective = int(row.base_effective_idr)
    working, employed = int(row.working_days), int(row.employed_days)
    net = rule.net
    if rule.standard_minutes_per_month is not None:
        standard_rule = f"standar tetap {_n(rule.standard_minutes_per_month)} menit sebulan"
    else:
        standard_rule = f"{working} hari kerja × {rule.standard_minutes_per_day} menit"
    leave_rules = ", ".join(
        f"{schemas.ATTENDANCE_WORDS[k]} {LEAVE_WORDS[v.effect]}"
        for k, v in sorted(rule.leave_effects.items())
    )
    status = STATUS_WORDS.get(str(row.employment_status), str(row.employment_status))
    status_percent = rule.cpns_percent if row.employment_status == "cpns" else 100
    missing_charged = rule.missing_attendance == "absent"
    absence_days = int(row.absent_days) + (int(row.missing_days) if missing_charged else 0)
    lines = [
        f"Aturan TPP versi {rule.version} (berlaku {rule.effective_from.isoformat()}; dasar: "
        f"{rule.legal_basis}): bobot produktivitas {rule.weight_performance} %, disiplin "
        f"{rule.weight_discipline} %.",
        f"TPP dasar {format_rupiah(base)} × {status} {status_percent} % × {employed} dari "
        f"{working} hari kerja menjabat = {format_rupiah(effective)}.",
        f"Menit kerja standar: {standard_rule}, dikurangi {row.reduced_days} hari cuti/dinas "
        f"yang mengurangi standar, untuk {employed} hari menjabat = "
        f"{_n(int(row.standard_minutes))} menit ({leave_rules}).",
        f"Menit terverifikasi atasan: {_n(int(row.verified_minutes))} menit (paling banyak "
        f"batas harian per hari, hanya hari kerja) + {row.met_days} hari dihitung memenuhi → "
        f"capaian kinerja {_pct(int(row.performance_bp))} (paling tinggi 100 %).",
        f"TPP produktivitas: {format_rupiah(effective)} × {rule.weight_performance} % × "
        f"{_pct(int(row.performance_bp))} = {format_rupiah(int(row.tpp_performance_idr))}.",
        f"Potongan disiplin: {row.absent_days} hari tanpa keterangan"
        + (
            f" + {row.missing_days} hari kerja tanpa catatan kehadiran"
            if missing_charged
            else f" ({row.missing_days} hari kerja tanpa catatan kehadiran menahan tutup bulan)"
        )
        + f" × {_pct(rule.absence_basis_points)} = "
        f"{_pct(absence_days * rule.absence_basis_points)}; terlambat {row.late_events} kali = "
        f"{_pct(int(row.late_bp))}; pulang cepat {row.early_events} kali = "
        f"{_pct(int(row.early_bp))} (tarif: {_bands_text(rule.late_bands)}); tidak absen masuk, "
        f"tidak apel dan cuti yang memotong = {_pct(int(row.other_bp))} → disiplin "
        f"{_pct(int(row.discipline_bp))} (paling rendah 0 %).",
        f"TPP disiplin: {format_rupiah(effective)} × {rule.weight_discipline} % × "
        f"{_pct(int(row.discipline_bp))} = {format_rupiah(int(row.tpp_discipline_idr))}.",
        f"Hukuman disiplin (PP 94/2021): potongan {_pct(int(row.sanction_bp))} = "
        f"{format_rupiah(int(row.sanction_cut_idr))}; tambahan Plt/Plh "
        f"{format_rupiah(int(row.acting_addition_idr))}.",
        f"Jumlah TPP bruto: {format_rupiah(int(row.tpp_performance_idr))} + "
        f"{format_rupiah(int(row.tpp_discipline_idr))} − "
        f"{format_rupiah(int(row.sanction_cut_idr))} + "
        f"{format_rupiah(int(row.acting_addition_idr))} = {format_rupiah(int(row.tpp_total_idr))}.",
        f"PPh 21 ({net.ter_legal_basis}, tabel TER {net.ter_year}, PTKP {row.ptkp_status}, gaji "
        f"{format_rupiah(int(row.salary_gross_idr))} dipotong terpisah): "
        f"{format_rupiah(int(row.pph21_idr))}.",
        f"Iuran BPJS Kesehatan {net.bpjs_employee_percent} % ({net.bpjs_legal_basis}, batas upah "
        f"{format_rupiah(net.bpjs_wage_ceiling_idr)}): {format_rupiah(int(row.bpjs_idr))}.",
        f"TPP bersih: {format_rupiah(int(row.tpp_total_idr))} − "
        f"{format_rupiah(int(row.pph21_idr))} − {format_rupiah(int(row.bpjs_idr))} = "
        f"{format_rupiah(int(row.tpp_net_idr))}.",
    ]
    return lines


def to_read(row: Any, rule: TppRule) -> schemas.RecapRow:
    return schemas.RecapRow(
        nip=row.nip,
        name=row.name,
        unit_code=row.unit_code,
        working_days=int(row.working_days),
        employed_days=int(row.employed_days),
        reduced_days=int(row.reduced_days),
        met_days=int(row.met_days),
        absent_days=int(row.absent_days),
        missing_days=int(row.missing_days),
        standard_minutes=int(row.standard_minutes),
        verified_minutes=int(row.verified_minutes),
        performance_pct=int(row.performance_bp) / 100,
        discipline_pct=int(row.discipline_bp) / 100,
        employment_status=str(row.employment_status),
        tpp_base_idr=int(row.tpp_base_idr),
        base_effective_idr=int(row.base_effective_idr),
        tpp_performance_idr=int(row.tpp_performance_idr),
        tpp_discipline_idr=int(row.tpp_discipline_idr),
        sanction_cut_idr=int(row.sanction_cut_idr),
        acting_addition_idr=int(row.acting_addition_idr),
        tpp_total_idr=int(row.tpp_total_idr),
        pph21_idr=int(row.pph21_idr),
        bpjs_idr=int(row.bpjs_idr),
        tpp_net_idr=int(row.tpp_net_idr),
        explanation=explain(row, rule),
    )


@dataclass
class RecapResult:
    period: str
    closed: bool
    rule: TppRule
    rows: list[Any]
    next_cursor: str | None


async def _closed_period(session: AsyncSession, period: str) -> Period | None:
    result: Period | None = await session.scalar(sa_select(Period).where(Period.period == period))
    return result


async def recap_rows(
    session: AsyncSession,
    ctx: Context,
    period: str,
    *,
    unit_path: str | None = None,
    nip: str | None = None,
    limit: int | None = None,
    cursor: str | None = None,
) -> RecapResult:
    """The recap of a month: frozen rows when it is closed, computed live when it is open."""
    closed = await _closed_period(session, period)
    if closed is not None:
        rule = TppRule.model_validate(closed.rule)
        stmt: Select[Any] = sa_select(*(getattr(Recap, c).label(c) for c in RECAP_COLUMNS)).where(
            Recap.period == period
        )
        nip_col: Any = Recap.nip
        path_col: Any = Recap.unit_path
    else:
        month = month_of(ctx, period)
        rule = month.rule
        stmt = recap_query(month, unit_path=unit_path, nip=nip)
        await without_jit(session)
        nip_col, path_col = stmt.selected_columns.nip, stmt.selected_columns.unit_path
        # The filters are inside the query already.
        unit_path = nip = None
    if unit_path is not None:
        stmt = stmt.where(path_col.startswith(unit_path))
    if nip is not None:
        stmt = stmt.where(nip_col == nip)
    if cursor:
        (after,) = decode_cursor(cursor, 1)
        stmt = stmt.where(nip_col > str(after))
    stmt = stmt.order_by(nip_col)
    if limit is not None:
        stmt = stmt.limit(limit + 1)
    rows = list((await session.execute(stmt)).all())
    next_cursor = None
    if limit is not None and len(rows) > limit:
        rows = rows[:limit]
        next_cursor = encode_cursor([rows[-1].nip])
    return RecapResult(period, closed is not None, rule, rows, next_cursor)


async def recap_of(session: AsyncSession, ctx: Context, period: str, nip: str) -> schemas.RecapRow:
    """One employee's recap of a month, with the reasons."""
    result = await recap_rows(session, ctx, period, nip=nip)
    if not result.rows:
        raise errors.RecapNotFoundError(f"No recap for this employee in {period}")
    return to_read(result.rows[0], result.rule)


@dataclass
class Readiness:
    """What stands between a month and its closing."""

    month: Month
    entry_cutoff: dt.date  # last day activities of the month may be entered
    verification_deadline: dt.date  # last day supervisors verify them
    deadlines_passed: bool
    pending_ids: list[int]
    missing_attendance_days: int
    closed: bool

    @property
    def blockers(self) -> list[str]:
        found = []
        if self.closed:
            found.append("closed")
        if not self.deadlines_passed:
            found.append("deadline")
        if self.pending_ids:
            found.append("pending")
        if self.missing_attendance_days and self.month.rule.missing_attendance == "blocks_closing":
            found.append("attendance")
        return found


async def readiness(session: AsyncSession, ctx: Context, period: str) -> Readiness:
    month = month_of(ctx, period)
    after = next_month(month.start)
    cutoff = after.replace(day=ctx.erk.entry_cutoff_day)
    deadline = after.replace(day=ctx.erk.verification_deadline_day)
    pending = list(
        await session.scalars(
            sa_select(Activity.id)
            .where(
                Activity.activity_date >= month.start,
                Activity.activity_date <= month.end,
                Activity.status == workflow.PENDING.value,
            )
            .order_by(Activity.id)
        )
    )
    live = recap_query(month).subquery("live")
    await without_jit(session)
    missing = int(
        await session.scalar(sa_select(func.coalesce(func.sum(live.c.missing_days), 0))) or 0
    )
    return Readiness(
        month=month,
        entry_cutoff=cutoff,
        verification_deadline=deadline,
        deadlines_passed=ctx.today > deadline,
        pending_ids=pending,
        missing_attendance_days=missing,
        closed=await _closed_period(session, period) is not None,
    )


def readiness_read(ready: Readiness) -> schemas.PeriodReadiness:
    return schemas.PeriodReadiness(
        period=ready.month.period,
        closed=ready.closed,
        entry_cutoff=ready.entry_cutoff,
        verification_deadline=ready.verification_deadline,
        deadlines_passed=ready.deadlines_passed,
        pending_activities=len(ready.pending_ids),
        missing_attendance_days=ready.missing_attendance_days,
        blockers=ready.blockers,
    )


async def close_period(
    session: AsyncSession,
    period: str,
    *,
    actor: Principal,
    ctx: Context,
    anyway: bool = False,
) -> schemas.PeriodRead:
    """Freeze a month's recap with the rule version in force: later changes do not move it.

    Refused before the entry cut-off and the supervisors' deadline have passed. Pending
    activities (and, when the rule says so, missing attendance) refuse it too, unless HR closes
    anyway: then the audit event lists every activity that will not count.
    """
    ready = await readiness(session, ctx, period)
    month = ready.month
    if ready.closed:
        raise errors.PeriodClosedError(f"{period} is already closed")
    if not ready.deadlines_passed:
        raise errors.PeriodNotOverError(
            f"{period} can be closed after the verification deadline "
            f"({ready.verification_deadline.isoformat()})",
            verification_deadline=ready.verification_deadline.isoformat(),
        )
    blockers = [b for b in ready.blockers if b in ("pending", "attendance")]
    if blockers and not anyway:
        raise errors.PeriodNotReadyError(
            f"{period} has {len(ready.pending_ids)} pending activities and "
            f"{ready.missing_attendance_days} working days without attendance; close anyway to "
            "leave them out",
            pending_activities=len(ready.pending_ids),
            pending_ids=ready.pending_ids[:500],
            missing_attendance_days=ready.missing_attendance_days,
        )
    closed = Period(
        period=period,
        start_date=month.start,
        end_date=month.end,
        working_days=month.working_days,
        rule_version=month.rule.version,
        rule=month.rule.model_dump(mode="json"),
        closed_by=actor.username,
        closed_at=ctx.now,
    )
    session.add(closed)
    await session.flush()
    frozen = recap_query(month).subquery("frozen")
    result = await session.execute(
        insert(Recap).from_select(
            ["period", "rule_version", *RECAP_COLUMNS],
            sa_select(
                literal(period).label("period"),
                literal(month.rule.version).label("rule_version"),
                *(frozen.c[c] for c in RECAP_COLUMNS),
            ),
        )
    )
    count = int(result.rowcount or 0)  # type: ignore[attr-defined]
    await record_event(
        session,
        AuditEvent,
        actor=actor,
        action="period.closed_anyway" if blockers else "period.closed",
        entity_type="period",
        entity_id=period,
        after={
            "rule_version": month.rule.version,
            "legal_basis": month.rule.legal_basis,
            "employees": count,
            "not_counted_activity_ids": ready.pending_ids,
            "missing_attendance_days": ready.missing_attendance_days,
        },
    )
    return schemas.PeriodRead(
        period=period,
        working_days=month.working_days,
        rule_version=month.rule.version,
        employees=count,
        closed_at=ctx.now,
        not_counted_activities=len(ready.pending_ids) if blockers else 0,
    )


EXPORT_HEADER = (
    "NIP",
    "Nama",
    "Unit",
    "Hari kerja",
    "Menit standar",
    "Menit terverifikasi",
    "Kinerja (%)",
    "Disiplin (%)",
    "TPP dasar (Rp)",
    "TPP produktivitas (Rp)",
    "TPP disiplin (Rp)",
    "TPP bruto (Rp)",
    "PPh 21 (Rp)",
    "BPJS Kesehatan (Rp)",
    "TPP bersih (Rp)",
)
MONEY_COLUMNS = ("I", "J", "K", "L", "M", "N", "O")


def _export_values(row: Any) -> list[Any]:
    return [
        row.nip,
        row.name,
        row.unit_code,
        int(row.working_days),
        int(row.standard_minutes),
        int(row.verified_minutes),
        int(row.performance_bp) / 100,
        int(row.discipline_bp) / 100,
        int(row.tpp_base_idr),
        int(row.tpp_performance_idr),
        int(row.tpp_discipline_idr),
        int(row.tpp_total_idr),
        int(row.pph21_idr),
        int(row.bpjs_idr),
        int(row.tpp_net_idr),
    ]


def export_csv(result: RecapResult) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(EXPORT_HEADER)
    for row in result.rows:
        writer.writerow(_export_values(row))
    return out.getvalue().encode("utf-8-sig")


def export_xlsx(result: RecapResult, regency: str) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = f"Rekap {result.period}"
    status = "ditutup" if result.closed else "sementara (bulan belum ditutup)"
    sheet.append([f"Rekap TPP {regency} — {result.period} — {status}"])
    sheet.append([f"Aturan versi {result.rule.version}"])
    sheet.append(list(EXPORT_HEADER))
    for cell in sheet[3]:
        cell.font = Font(bold=True)
    for row in result.rows:
        sheet.append(_export_values(row))
    last = sheet.max_row
    total_row = ["JUMLAH", "", "", "", "", "", "", ""]
    if result.rows:
        total_row += [f"=SUM({col}4:{col}{last})" for col in MONEY_COLUMNS]
    sheet.append(total_row)
    # The totals are also written as values beside the formulas for readers that do not compute.
    sheet.append(
        ["JUMLAH (nilai)", "", "", "", "", "", "", ""]
        + [
            sum(int(getattr(r, c)) for r in result.rows)
            for c in (
                "tpp_base_idr",
                "tpp_performance_idr",
                "tpp_discipline_idr",
                "tpp_total_idr",
                "pph21_idr",
                "bpjs_idr",
                "tpp_net_idr",
            )
        ]
    )
    for column in MONEY_COLUMNS:
        for cell in sheet[column][3:]:
            cell.number_format = "#,##0"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
