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
from dataclasses import dataclass
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, Integer, Select, and_, case, func, insert, literal
from sqlalchemy import select as sa_select
from sqlalchemy.ext.asyncio import AsyncSession

from erk import errors, schemas
from erk.config import DeductionBand, TppRule
from erk.domain import Rules, next_month, parse_period
from erk.models import Activity, Attendance, AuditEvent, Employee, Period, Recap, Unit
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
)


@dataclass(frozen=True)
class Month:
    period: str
    start: dt.date
    end: dt.date  # inclusive
    working_days: int
    rule: TppRule

    @property
    def standard_minutes(self) -> int:
        return self.working_days * self.rule.standard_minutes_per_day


def month_of(rules: Rules, period: str) -> Month:
    first = parse_period(period)
    after = next_month(first)
    return Month(
        period=period,
        start=first,
        end=after - dt.timedelta(days=1),
        working_days=len(rules.calendar.working_days_in_month(first.year, first.month)),
        rule=rules.config.rule_for(first),
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


def recap_query(
    month: Month, *, unit_path: str | None = None, nip: str | None = None
) -> Select[Any]:
    """One row per active employee with every figure of the recap (see the module docstring).

    A unit or employee filter is applied inside the aggregates too, so one employee's recap reads
    that employee's rows only, not the whole regency's month.
    """
    rule = month.rule
    people: Select[Any] | None = None
    if nip is not None:
        people = sa_select(Employee.id).where(Employee.nip == nip)
    elif unit_path is not None:
        people = (
            sa_select(Employee.id)
            .join(Unit, Unit.id == Employee.unit_id)
            .where(Unit.path.startswith(unit_path))
        )
    verified = (
        sa_select(
            Activity.employee_id.label("employee_id"),
            func.sum(Activity.minutes).label("minutes"),
        )
        .where(
            Activity.activity_date >= month.start,
            Activity.activity_date <= month.end,
            Activity.status == schemas.ActivityStatus.approved.value,
            *([Activity.employee_id.in_(people)] if people is not None else []),
        )
        .group_by(Activity.employee_id)
        .subquery("verified")
    )
    discipline = (
        sa_select(
            Attendance.employee_id.label("employee_id"),
            func.sum(
                case((Attendance.status == schemas.AttendanceStatus.absent.value, 1), else_=0)
            ).label("absent_days"),
            func.sum(case((Attendance.minutes_late > 0, 1), else_=0)).label("late_events"),
            func.sum(_band_case(Attendance.minutes_late, rule.late_bands)).label("late_bp"),
            func.sum(case((Attendance.minutes_early > 0, 1), else_=0)).label("early_events"),
            func.sum(_band_case(Attendance.minutes_early, rule.early_leave_bands)).label(
                "early_bp"
            ),
        )
        .where(
            Attendance.day >= month.start,
            Attendance.day <= month.end,
            *([Attendance.employee_id.in_(people)] if people is not None else []),
        )
        .group_by(Attendance.employee_id)
        .subquery("discipline")
    )
    standard = month.standard_minutes
    minutes = func.coalesce(verified.c.minutes, 0)
    capped = case((minutes > standard, _int(standard)), else_=minutes)
    absent_days = func.coalesce(discipline.c.absent_days, 0)
    late_bp = func.coalesce(discipline.c.late_bp, 0)
    early_bp = func.coalesce(discipline.c.early_bp, 0)
    deduction = absent_days * rule.absence_basis_points + late_bp + early_bp
    discipline_bp = case((deduction >= FULL, _int(0)), else_=_int(FULL) - deduction)
    if standard > 0:
        performance_bp = capped * FULL // standard
        tpp_performance = (
            Employee.tpp_base_idr * rule.weight_performance * capped // (100 * standard)
        )
    else:  # a month without working days asks for nothing: full performance
        performance_bp = _int(FULL)
        tpp_performance = Employee.tpp_base_idr * rule.weight_performance // 100
    tpp_discipline = Employee.tpp_base_idr * rule.weight_discipline * discipline_bp // (100 * FULL)
    stmt = (
        sa_select(
            Employee.id.label("employee_id"),
            Employee.nip.label("nip"),
            Employee.name.label("name"),
            Unit.code.label("unit_code"),
            Unit.path.label("unit_path"),
            literal(month.working_days, Integer()).label("working_days"),
            literal(standard, Integer()).label("standard_minutes"),
            minutes.label("verified_minutes"),
            performance_bp.label("performance_bp"),
            absent_days.label("absent_days"),
            func.coalesce(discipline.c.late_events, 0).label("late_events"),
            late_bp.label("late_bp"),
            func.coalesce(discipline.c.early_events, 0).label("early_events"),
            early_bp.label("early_bp"),
            discipline_bp.label("discipline_bp"),
            Employee.tpp_base_idr.label("tpp_base_idr"),
            tpp_performance.label("tpp_performance_idr"),
            tpp_discipline.label("tpp_discipline_idr"),
            (tpp_performance + tpp_discipline).label("tpp_total_idr"),
        )
        .join(Unit, Unit.id == Employee.unit_id)
        .outerjoin(verified, verified.c.employee_id == Employee.id)
        .outerjoin(discipline, discipline.c.employee_id == Employee.id)
        .where(Employee.active.is_(True))
    )
    if unit_path is not None:
        stmt = stmt.where(Unit.path.startswith(unit_path))
    if nip is not None:
        stmt = stmt.where(Employee.nip == nip)
    return stmt


def _pct(bp: int) -> str:
    return f"{bp // 100},{bp % 100:02d} %"


def _bands_text(bands: list[DeductionBand]) -> str:
    parts = []
    for b in bands:
        upper = f"{b.min_minutes}–{b.max_minutes}" if b.max_minutes else f"> {b.min_minutes - 1}"
        parts.append(f"{upper} menit {_pct(b.basis_points)}")
    return "; ".join(parts)


def explain(row: Any, rule: TppRule) -> list[str]:
    """The lines that answer "why is my TPP this amount" (Bahasa Indonesia, shown as is)."""
    base = int(row.tpp_base_idr)
    lines = [
        f"Aturan TPP versi {rule.version} (berlaku {rule.effective_from.isoformat()}): bobot "
        f"produktivitas {rule.weight_performance} %, disiplin {rule.weight_discipline} %.",
        f"Menit kerja standar: {row.working_days} hari kerja × {rule.standard_minutes_per_day} "
        f"menit = {row.standard_minutes:,} menit.".replace(",", "."),
        f"Menit terverifikasi atasan: {row.verified_minutes:,} menit → capaian kinerja "
        f"{_pct(row.performance_bp)} (paling tinggi 100 %).".replace(",", ".", 1),
        f"TPP produktivitas: {format_rupiah(base)} × {rule.weight_performance} % × "
        f"{_pct(row.performance_bp)} = {format_rupiah(int(row.tpp_performance_idr))}.",
        f"Potongan disiplin: {row.absent_days} hari tanpa keterangan × "
        f"{_pct(rule.absence_basis_points)} = {_pct(row.absent_days * rule.absence_basis_points)}"
        f"; terlambat {row.late_events} kali = {_pct(row.late_bp)}; pulang cepat "
        f"{row.early_events} kali = {_pct(row.early_bp)} (tarif: {_bands_text(rule.late_bands)})"
        f" → disiplin {_pct(row.discipline_bp)} (paling rendah 0 %).",
        f"TPP disiplin: {format_rupiah(base)} × {rule.weight_discipline} % × "
        f"{_pct(row.discipline_bp)} = {format_rupiah(int(row.tpp_discipline_idr))}.",
        f"Jumlah TPP: {format_rupiah(int(row.tpp_performance_idr))} + "
        f"{format_rupiah(int(row.tpp_discipline_idr))} = {format_rupiah(int(row.tpp_total_idr))}"
        " (bruto, sebelum PPh 21).",
    ]
    return lines


def to_read(row: Any, rule: TppRule) -> schemas.RecapRow:
    return schemas.RecapRow(
        nip=row.nip,
        name=row.name,
        unit_code=row.unit_code,
        working_days=int(row.working_days),
        standard_minutes=int(row.standard_minutes),
        verified_minutes=int(row.verified_minutes),
        performance_pct=int(row.performance_bp) / 100,
        discipline_pct=int(row.discipline_bp) / 100,
        tpp_base_idr=int(row.tpp_base_idr),
        tpp_performance_idr=int(row.tpp_performance_idr),
        tpp_discipline_idr=int(row.tpp_discipline_idr),
        tpp_total_idr=int(row.tpp_total_idr),
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
    rules: Rules,
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
        month = month_of(rules, period)
        rule = month.rule
        stmt = recap_query(month, unit_path=unit_path, nip=nip)
        nip_col, path_col = Employee.nip, Unit.path
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


async def recap_of(session: AsyncSession, rules: Rules, period: str, nip: str) -> schemas.RecapRow:
    """One employee's recap of a month, with the reasons."""
    result = await recap_rows(session, rules, period, nip=nip)
    if not result.rows:
        raise errors.RecapNotFoundError(f"No recap for this employee in {period}")
    return to_read(result.rows[0], result.rule)


async def close_period(
    session: AsyncSession, period: str, *, actor: Principal, rules: Rules
) -> schemas.PeriodRead:
    """Freeze a month's recap with the rule version in force: later changes do not move it."""
    month = month_of(rules, period)
    if month.end >= rules.today:
        raise errors.PeriodNotOverError(f"{period} ends on {month.end.isoformat()}")
    if await _closed_period(session, period) is not None:
        raise errors.PeriodClosedError(f"{period} is already closed")
    closed = Period(
        period=period,
        start_date=month.start,
        end_date=month.end,
        working_days=month.working_days,
        rule_version=month.rule.version,
        rule=month.rule.model_dump(mode="json"),
        closed_by=actor.username,
        closed_at=rules.now,
    )
    session.add(closed)
    await session.flush()
    source = recap_query(month)
    frozen = source.with_only_columns(
        literal(period).label("period"),
        literal(month.rule.version).label("rule_version"),
        *(source.selected_columns[c] for c in RECAP_COLUMNS),
        maintain_column_froms=True,
    )
    result = await session.execute(
        insert(Recap).from_select(["period", "rule_version", *RECAP_COLUMNS], frozen)
    )
    count = int(result.rowcount or 0)  # type: ignore[attr-defined]
    await record_event(
        session,
        AuditEvent,
        actor=actor,
        action="period.closed",
        entity_type="period",
        entity_id=period,
        after={"rule_version": month.rule.version, "employees": count},
    )
    return schemas.PeriodRead(
        period=period,
        working_days=month.working_days,
        rule_version=month.rule.version,
        employees=count,
        closed_at=rules.now,
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
    "TPP jumlah (Rp)",
)


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
        total_row += [f"=SUM({col}4:{col}{last})" for col in ("I", "J", "K", "L")]
    sheet.append(total_row)
    # The totals are also written as values beside the formulas for readers that do not compute.
    sheet.append(
        ["JUMLAH (nilai)", "", "", "", "", "", "", ""]
        + [
            sum(int(getattr(r, c)) for r in result.rows)
            for c in ("tpp_base_idr", "tpp_performance_idr", "tpp_discipline_idr", "tpp_total_idr")
        ]
    )
    for column in ("I", "J", "K", "L"):
        for cell in sheet[column][3:]:
            cell.number_format = "#,##0"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
