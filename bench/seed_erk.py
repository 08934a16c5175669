"""The e-RK volume seeder: a regency's employees, a month of activities and attendance, and a
queue of activities waiting for verification.

Shaped like a regency's organisation, consistent with what the service writes itself:

* 40 OPD units (`/OPD00/`, ...), each with a head; `ctx.volume(2,000)` supervisors (the
  `erk.supervisor` login group: NIPs from `SUPERVISOR_BASE`), each reporting to the head of
  their unit; `ctx.volume(20,000)` employees (the `erk.employee` login group, NIPs
  `erk_nip(0..)`), ten per supervisor and in the supervisor's unit. Employee `i` reports to
  supervisor `(i // 10 + supervisors // 2) % supervisors`, so the employees the
  activity-submission scenario logs in as (the first ones) are never the subordinates of the
  supervisors the verification scenario logs in as (also the first ones), and neither scenario
  eats into the other's data;
* `BENCH_PERIOD` (a past month) holds the issue's two million activities: every employee, every
  weekday, as many a day as the volume needs, most approved by their supervisor, some rejected
  with a note, some still submitted (escalated, since the month's deadline has passed); and one
  attendance row per employee and weekday (a few late arrivals, a few absences);
* the current month (regency time, up to today) holds `PENDING_PER_EMPLOYEE` submitted activities
  of each subordinate of the first `PENDING_SUPERVISORS` supervisors: the batches the bulk
  verification scenario approves (`bench.scenarios`, pool `batches`).

Rows are made by the database (INSERT ... SELECT over generate_series) rather than sent over the
wire: two million rows take seconds. No audit events are written for the seeded rows.
"""

from __future__ import annotations

import calendar
import datetime as dt
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bench.seeding import SUPERVISOR_BASE

if TYPE_CHECKING:
    from bench.seeding import SeedContext

UNITS = 40

HEAD_BASE = 30_000
"""`erk_nip(HEAD_BASE + u)` heads unit u."""
TEAM = 10
"""Employees per supervisor."""
PENDING_SUPERVISORS = 64
"""Supervisors whose teams have a queue of current-month activities (the runner logs in at most
64 accounts of a group)."""
PENDING_PER_EMPLOYEE = 600
"""Submitted current-month activities per member of those teams: 64 x 10 x 600 = 384,000, in
batches of `BATCH`, more than the verification scenario approves in a full run."""
BATCH = 5
"""Activities one bulk verification approves."""
TIMEZONE = "Asia/Jakarta"
"""The regency time zone of the benchmark's default configuration."""


def weekdays(period: str) -> list[dt.date]:
    """Monday to Friday of a month `YYYY-MM` (the service's calendar also drops public holidays;
    for a seeded month that only means a few more activities than the recap expects)."""
    year, month = (int(x) for x in period.split("-"))
    last = calendar.monthrange(year, month)[1]
    days = (dt.date(year, month, d) for d in range(1, last + 1))
    return [d for d in days if d.weekday() < 5]


def regency_today() -> dt.date:
    return dt.datetime.now(ZoneInfo(TIMEZONE)).date()


def supervisor_of(index: int, supervisors: int) -> int:
    return (index // TEAM + supervisors // 2) % supervisors


async def seed_erk(ctx: SeedContext, employees: int, supervisors: int, activities: int) -> None:
    from bench.scenarios import BENCH_PERIOD
    from bench.seeding import erk_nip

    now = dt.datetime.now(dt.UTC)
    await ctx.copy(
        "units",
        ("id", "code", "name", "parent_id", "path", "created_at"),
        (
            (u + 1, f"OPD{u:02d}", f"Perangkat Daerah {u + 1}", None, f"/OPD{u:02d}/", now)
            for u in range(UNITS)
        ),
    )
    await ctx.conn.execute(
        f"SELECT setval(pg_get_serial_sequence('{ctx.schema}.units', 'id'), {UNITS})"
    )
    columns = (
        "nip", "name", "unit_id", "position", "job_class", "rank", "supervisor_nip",
        "tpp_base_idr", "active", "created_at", "updated_at",
    )  # fmt: skip

    def person(
        nip: str, name: str, unit: int, position: str, job_class: int, boss: str | None
    ) -> tuple[object, ...]:
        base = 2_500_000 + job_class * 300_000
        return (nip, name, unit + 1, position, job_class, "III/b", boss, base, True, now, now)

    heads = [
        person(erk_nip(HEAD_BASE + u), f"Kepala OPD {u + 1}", u, "Kepala Dinas", 14, None)
        for u in range(UNITS)
    ]
    bosses = [
        person(
            erk_nip(SUPERVISOR_BASE + j),
            f"Kepala Seksi {j + 1}",
            j % UNITS,
            "Kepala Seksi",
            9,
            erk_nip(HEAD_BASE + j % UNITS),
        )
        for j in range(supervisors)
    ]
    staff = []
    for i in range(employees):
        j = supervisor_of(i, supervisors)
        staff.append(
            person(
                erk_nip(i),
                f"Pegawai {i + 1}",
                j % UNITS,
                "Pelaksana",
                5 + i % 4,
                erk_nip(SUPERVISOR_BASE + j),
            )
        )
    await ctx.copy("employees", columns, [*heads, *bosses, *staff])

    # The benchmark month: every employee (not heads or supervisors), every weekday.
    days = weekdays(BENCH_PERIOD)
    per_day = max(1, -(-activities // (employees * len(days))))
    await ctx.timed_sql(
        f"activities {BENCH_PERIOD}",
        f"""
        INSERT INTO {ctx.schema}.activities (employee_id, activity_date, description, minutes,
            status, verified_by, verified_at, note, escalated_to_nip, created_at, updated_at)
        SELECT e.id, d.day, 'Menyusun laporan kegiatan ' || n, 45 + (e.id + n) % 4 * 15,
            s.status,
            CASE WHEN s.status = 'submitted' THEN NULL ELSE e.supervisor_nip END,
            CASE WHEN s.status = 'submitted' THEN NULL ELSE d.day + time '16:00' END,
            CASE WHEN s.status = 'rejected' THEN 'Uraian belum sesuai target' END,
            CASE WHEN s.status = 'submitted' THEN b.supervisor_nip END,
            d.day + time '15:00', d.day + time '15:00'
        FROM {ctx.schema}.employees e
        JOIN {ctx.schema}.employees b ON b.nip = e.supervisor_nip
        CROSS JOIN unnest($1::date[]) AS d(day)
        CROSS JOIN generate_series(1, $2::int) AS n
        CROSS JOIN LATERAL (SELECT CASE WHEN (e.id + n) % 29 = 0 THEN 'submitted'
                                        WHEN (e.id + n) % 23 = 0 THEN 'rejected'
                                        ELSE 'approved' END AS status) s
        WHERE e.position = 'Pelaksana'
        LIMIT $3
        """,
        days,
        per_day,
        activities,
    )
    await ctx.timed_sql(
        f"attendance {BENCH_PERIOD}",
        f"""
        INSERT INTO {ctx.schema}.attendance (employee_id, day, status, minutes_late,
            minutes_early, updated_at)
        SELECT e.id, d.day,
            CASE WHEN (e.id + extract(day FROM d.day)::int) % 97 = 0 THEN 'absent'
                 ELSE 'present' END,
            CASE WHEN (e.id + extract(day FROM d.day)::int) % 11 = 0 THEN 5 + e.id % 80 ELSE 0 END,
            0, d.day + time '17:00'
        FROM {ctx.schema}.employees e CROSS JOIN unnest($1::date[]) AS d(day)
        """,
        days,
    )

    # The verification queue: this month, up to today, for the first supervisors' teams.
    today = regency_today()
    open_days = [today.replace(day=d) for d in range(1, today.day + 1)]
    queue_nips = [
        erk_nip(i)
        for i in range(employees)
        if supervisor_of(i, supervisors) < min(PENDING_SUPERVISORS, supervisors)
    ]
    await ctx.timed_sql(
        "activities waiting for verification",
        f"""
        INSERT INTO {ctx.schema}.activities (employee_id, activity_date, description, minutes,
            status, created_at, updated_at)
        SELECT e.id, ($2::date[])[1 + n % cardinality($2::date[])],
            'Rapat koordinasi ' || n, 15, 'submitted', $3, $3
        FROM {ctx.schema}.employees e CROSS JOIN generate_series(0, $4::int - 1) AS n
        WHERE e.nip = ANY($1::text[])
        """,
        queue_nips,
        open_days,
        now,
        PENDING_PER_EMPLOYEE,
    )


async def grow_erk_activities(ctx: SeedContext, total: int) -> None:
    """Bring the benchmark month's activities to exactly `total`: delete the newest beyond it, or
    add the difference spread over the employees and weekdays (the recap reads the whole month)."""
    from bench.scenarios import BENCH_PERIOD

    days = weekdays(BENCH_PERIOD)
    first, last = days[0], days[-1]
    have = await ctx.conn.fetchval(
        f"SELECT count(*) FROM {ctx.schema}.activities WHERE activity_date BETWEEN $1 AND $2",
        first,
        last,
    )
    if have > total:
        await ctx.timed_sql(
            f"delete to {total:,}",
            f"""
            DELETE FROM {ctx.schema}.activities WHERE id IN (
                SELECT id FROM {ctx.schema}.activities
                WHERE activity_date BETWEEN $1 AND $2 ORDER BY id DESC LIMIT $3)
            """,
            first,
            last,
            have - total,
        )
    elif have < total:
        await ctx.timed_sql(
            f"grow to {total:,}",
            f"""
            INSERT INTO {ctx.schema}.activities (employee_id, activity_date, description,
                minutes, status, verified_by, verified_at, created_at, updated_at)
            SELECT e.id, d.day, 'Kegiatan tambahan ' || n, 30, 'approved', e.supervisor_nip,
                d.day + time '16:00', d.day + time '15:00', d.day + time '15:00'
            FROM generate_series(1, 1000) AS n
            CROSS JOIN unnest($1::date[]) AS d(day)
            CROSS JOIN {ctx.schema}.employees e
            WHERE e.position = 'Pelaksana'
            LIMIT $2
            """,
            days,
            total - have,
        )
