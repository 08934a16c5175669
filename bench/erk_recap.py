"""`python -m bench.erk_recap`: seed a regency-sized month into an empty e-RK schema and time the
recap over it (live, one employee, one unit, closing, the frozen read).

    ERK_DATABASE_URL=postgresql://... python -m bench.erk_recap --employees 20000 --per-day 5

PostgreSQL seeds with INSERT ... SELECT over generate_series (the database makes the rows, so
2.2 million activities take seconds, not a round trip each); SQLite falls back to batched
executemany. The recap is then computed live, the month closed (INSERT ... SELECT into `recaps`)
and the frozen recap read back, each timed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time

from sqlalchemy import func, insert, select, text

from erk import demo
from erk.config import ErkConfig
from erk.dependencies import Context
from erk.main import build_spec
from erk.models import Activity, Attendance, Employee, EmployeeGrade, Unit
from shared.app import ServiceSpec, build_calendar
from shared.auth import Principal
from shared.cli import database_of
from shared.db import utcnow


def _out(line: str) -> None:
    sys.stdout.write(line + "\n")


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--employees", type=int, default=20_000)
    parser.add_argument("--per-day", type=int, default=5, help="activities per employee per day")
    parser.add_argument("--period", default="2025-10", help="the month to fill, YYYY-MM")


async def run(spec: ServiceSpec, args: argparse.Namespace) -> int:
    assert isinstance(spec.config, ErkConfig)
    db = database_of(spec)
    calendar = build_calendar(spec.config)
    first = demo.parse_period(args.period)
    days = calendar.working_days_in_month(first.year, first.month)
    now = utcnow()
    postgres = db.dialect == "postgresql"
    started = time.perf_counter()
    try:
        async with db.sessionmaker.begin() as session:
            if await session.scalar(select(func.count()).select_from(Unit)):
                _out("the database already has units: benchmark a fresh database")
                return 1
            units = []
            for u in range(40):
                unit = Unit(code=f"OPD{u:02d}", name=f"OPD {u}", path=f"/OPD{u:02d}/")
                session.add(unit)
                units.append(unit)
            await session.flush()
            first_unit = units[0].id
            rows = [
                {
                    "nip": f"1980{i:014d}",
                    "name": f"Pegawai {i}",
                    "unit_id": first_unit + i % 40,
                    "position": "Pelaksana",
                    "job_class": 1 + i % 17,
                    "rank": "III/a",
                    "supervisor_nip": f"1980{i // 10:014d}" if i >= 10 else None,
                    "tpp_base_idr": 3_000_000 + (i % 17) * 250_000,
                    "active": True,
                    "created_at": now,
                    "updated_at": now,
                }
                for i in range(args.employees)
            ]
            for start in range(0, len(rows), 5000):
                await session.execute(insert(Employee), rows[start : start + 5000])
        t_employees = time.perf_counter()
        async with db.sessionmaker.begin() as session:
            if postgres:
                await session.execute(
                    text(
                        """
                        INSERT INTO erk.activities (employee_id, activity_date, description,
                            minutes, status, created_at, updated_at)
                        SELECT e.id, d.day, 'Kegiatan rutin', 60 + (e.id + n) % 4 * 15,
                            CASE WHEN (e.id + n) % 10 = 0 THEN 'submitted'
                                 WHEN (e.id + n) % 23 = 0 THEN 'rejected'
                                 ELSE 'approved' END, :now, :now
                        FROM erk.employees e
                        CROSS JOIN unnest(CAST(:days AS date[])) AS d(day)
                        CROSS JOIN generate_series(1, :per_day) AS n
                        """
                    ),
                    {"now": now, "days": days, "per_day": args.per_day},
                )
                await session.execute(
                    text(
                        """
                        INSERT INTO erk.attendance (employee_id, day, status, minutes_late,
                            minutes_early, updated_at)
                        SELECT e.id, d.day,
                            CASE WHEN (e.id + extract(day FROM d.day)::int) % 97 = 0
                                 THEN 'absent' ELSE 'present' END,
                            CASE WHEN (e.id + extract(day FROM d.day)::int) % 11 = 0
                                 THEN (e.id % 90) ELSE 0 END, 0, :now
                        FROM erk.employees e
                        CROSS JOIN unnest(CAST(:days AS date[])) AS d(day)
                        """
                    ),
                    {"now": now, "days": days},
                )
            else:
                ids = list(await session.scalars(select(Employee.id)))
                batch: list[dict[str, object]] = []
                for employee_id in ids:
                    for day in days:
                        for n in range(args.per_day):
                            batch.append(
                                {
                                    "employee_id": employee_id,
                                    "activity_date": day,
                                    "description": "Kegiatan rutin",
                                    "minutes": 60 + (employee_id + n) % 4 * 15,
                                    "status": "approved",
                                    "created_at": now,
                                    "updated_at": now,
                                }
                            )
                        if len(batch) >= 20_000:
                            await session.execute(insert(Activity), batch)
                            batch = []
                if batch:
                    await session.execute(insert(Activity), batch)
                await session.execute(
                    insert(Attendance),
                    [
                        {
                            "employee_id": employee_id,
                            "day": day,
                            "status": "present",
                            "minutes_late": (employee_id % 90) if employee_id % 11 == 0 else 0,
                            "minutes_early": 0,
                            "updated_at": now,
                        }
                        for employee_id in ids
                        for day in days
                    ],
                )
        async with db.sessionmaker.begin() as session:
            # Every 7th employee changed job class or status during the year (a CPNS appointed
            # PNS, a promotion), so the recap picks the values in force for the month.
            changed = list(await session.scalars(select(Employee.id).where(Employee.id % 7 == 0)))
            grades: list[dict[str, object]] = []
            for employee_id in changed:
                for since, job_class, status in (
                    (dt.date(1900, 1, 1), 1 + employee_id % 17, "cpns"),
                    (
                        first.replace(month=max(1, first.month - 1)),
                        1 + (employee_id + 1) % 17,
                        "pns",
                    ),
                ):
                    grades.append(
                        {
                            "employee_id": employee_id,
                            "effective_from": since,
                            "job_class": job_class,
                            "employment_status": status,
                            "legal_basis": "bench",
                            "created_by": "benchmark",
                            "created_at": now,
                        }
                    )
            for start in range(0, len(grades), 5000):
                await session.execute(insert(EmployeeGrade), grades[start : start + 5000])
        if postgres:
            async with db.engine.begin() as conn:
                await conn.execute(text("ANALYZE erk.employee_grades"))
                await conn.execute(text("ANALYZE erk.activities"))
                await conn.execute(text("ANALYZE erk.attendance"))
        t_seeded = time.perf_counter()
        async with db.sessionmaker() as session:
            count = await session.scalar(select(func.count()).select_from(Activity))
        today = demo.next_month(first) + dt.timedelta(days=20)
        ctx = Context(spec.config, calendar, dt.datetime.combine(today, dt.time(5), tzinfo=dt.UTC))
        async with db.sessionmaker() as session:
            live = await demo.recap_rows(session, ctx, args.period)
        t_live = time.perf_counter()
        async with db.sessionmaker() as session:
            one = await demo.recap_rows(session, ctx, args.period, nip=live.rows[0].nip)
            one_unit = await demo.recap_rows(session, ctx, args.period, unit_path="/OPD00/")
        t_one = time.perf_counter()
        actor = Principal(account_id=0, username="benchmark", roles=frozenset({"admin"}))
        async with db.sessionmaker.begin() as session:
            await demo.close_period(session, args.period, actor=actor, ctx=ctx, anyway=True)
        t_closed = time.perf_counter()
        async with db.sessionmaker() as session:
            frozen = await demo.recap_rows(session, ctx, args.period)
        t_frozen = time.perf_counter()
    finally:
        await db.dispose()
    _out(f"backend: {db.dialect}; employees: {args.employees}; activities: {count}")
    _out(f"seed employees: {t_employees - started:.1f} s")
    _out(f"seed activities and attendance: {t_seeded - t_employees:.1f} s")
    _out(f"live recap ({len(live.rows)} rows): {t_live - t_seeded:.2f} s")
    _out(
        f"one employee's live recap ({len(one.rows)} row) and one unit's "
        f"({len(one_unit.rows)} rows): {t_one - t_live:.2f} s"
    )
    _out(f"close month (INSERT ... SELECT): {t_closed - t_one:.2f} s")
    _out(f"frozen recap ({len(frozen.rows)} rows): {t_frozen - t_closed:.2f} s")
    return 0


def main(argv: list[str] | None = None) -> int:
    import asyncio

    parser = argparse.ArgumentParser(prog="python -m bench.erk_recap", description=__doc__)
    configure(parser)
    return asyncio.run(run(build_spec(), parser.parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
