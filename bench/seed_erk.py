"""The e-RK volume seeder: a regency's employees, a month of activities and attendance, and a
queue of activities waiting for verification.

Shaped like a regency's organisation, consistent with what the service writes itself, and with
every rule of the recap at work in the benchmark month (services/erk/README.md, "Rules as built"):

* 40 OPD units (`/OPD00/`, ...), each with a head; `ctx.volume(2,000)` supervisors (the
  `erk.supervisor` login group: NIPs from `SUPERVISOR_BASE`), each reporting to the head of
  their unit; `ctx.volume(20,000)` employees (the `erk.employee` login group, NIPs
  `erk_nip(0..)`), ten per supervisor and in the supervisor's unit. Employee `i` reports to
  supervisor `(i // 10 + supervisors // 2) % supervisors`, so the employees the
  activity-submission scenario logs in as (the first ones) are never the subordinates of the
  supervisors the verification scenario logs in as (also the first ones), and neither scenario
  eats into the other's data;
* pay inputs for everyone (`staff_profile`): salary and PTKP status (so PPh 21 TER, BPJS and the
  net are computed), CPNS (80 %) and PPPK employees, job classes the TPP rule has a class base
  for and one it has not (`bench/erk-regency.toml`), effective-dated grades (a CPNS appointed
  PNS on the month's first day, a promotion after the month, a change in the middle of it),
  joiners and leavers in the month, and a few who left before it or joined after it (not in its
  recap); disciplinary sentences (from before the month, and from its middle) and acting posts
  (Plt) covering part of the month (`pay_adjustments`);
* `BENCH_PERIOD` (a past month): one attendance row per person and weekday of employment, with
  blocks of annual leave, sick leave, duty travel, training, important and maternity leave,
  unexcused absences, days without clock-in, missed apel, lateness and early leave across every
  band, and about one day in ninety without any record (charged as absence by the default
  rule) (`ATTENDANCE_SQL`); and the issue's two million activities, spread evenly over the
  employees' days at work (none on a day of leave or absence, none outside employment), most
  approved by their supervisor, some rejected with a note, some still submitted (escalated,
  since the month's deadline has passed) (`fill_activities`);
* the current month (regency time, up to today) holds `PENDING_PER_EMPLOYEE` submitted activities
  of each subordinate of the first `PENDING_SUPERVISORS` supervisors: the batches the bulk
  verification scenario approves (`bench.scenarios`, pool `batches`).

Rows are made by the database (INSERT ... SELECT over generate_series) or sent with COPY: two
million rows take seconds. Everything is a function of the row indexes, so two seedings are
identical. No audit events are written for the seeded rows.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass
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
LOGINS = 64
"""The scenarios log in as the first accounts of a group: these employees keep plain dates."""
HEAD_ACTING_BASE = 11_500_000
"""The base of a head's post (kelas 14 in `bench/erk-regency.toml`), for a supervisor's Plt."""
SECTION_ACTING_BASE = 5_600_000
"""The base of a section head's post (kelas 9), for an employee's Plt."""
SINCE_REGISTRATION = dt.date(1900, 1, 1)
"""`erk.grades`: the first recorded change also records the values it replaces from this date."""


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


def next_month(day: dt.date) -> dt.date:
    return (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def salary_of(job_class: int, index: int) -> int:
    """Monthly salary and allowances paid (and taxed) outside the TPP."""
    return 2_600_000 + job_class * 450_000 + index % 9 * 125_000


def ptkp_of(index: int, statuses: tuple[str, ...]) -> str:
    return statuses[(index * 5 + index // 20) % len(statuses)]


@dataclass(frozen=True)
class Profile:
    """What the recap of the benchmark month reads about one employee besides the month's rows."""

    job_class: int
    """The class in force today (`employees.job_class`)."""
    status: str
    """The employment status in force today."""
    joined_on: dt.date | None = None
    left_on: dt.date | None = None
    grades: tuple[tuple[dt.date, int, str], ...] = ()
    """`employee_grades` rows (effective from, job class, status); none: never changed."""


def staff_profile(index: int, supervisors: int, days: list[dt.date]) -> Profile:
    """Employee `index`'s class, status, employment dates and grade history.

    About 5 % CPNS and 2 % PPPK; 2.5 % with a grade history (a third each: CPNS appointed PNS
    from the month's first day, promoted after the month, appointed in the middle of it: the
    recap uses the row in force on the first working day); 0.4 % joining and 0.4 % leaving on
    one of the month's working days, 0.1 % who left before it and 0.1 % who joined after it.
    The accounts the scenarios log in as keep plain dates.
    """
    job_class = 5 + index % 4
    status = "cpns" if index % 20 == 7 else "pppk" if index % 50 == 11 else "pns"
    start, after = days[0].replace(day=1), next_month(days[0])
    grades: tuple[tuple[dt.date, int, str], ...] = ()
    if index % 40 == 19:
        pattern = index // 40 % 3
        if pattern == 0:  # TMT PNS on the first of the month: 100 % this month
            grades = ((SINCE_REGISTRATION, job_class, "cpns"), (start, job_class, "pns"))
        elif pattern == 1:  # promoted from the next month: this month keeps the old class
            grades = ((SINCE_REGISTRATION, job_class, "pns"), (after, job_class + 1, "pns"))
        else:  # appointed PNS in the middle of the month: this month is still CPNS
            grades = (
                (SINCE_REGISTRATION, job_class, "cpns"),
                (days[len(days) // 2], job_class, "pns"),
            )
        _, job_class, status = grades[-1]
    joined = left = None
    plain = index < LOGINS or supervisor_of(index, supervisors) < PENDING_SUPERVISORS
    if not plain:
        day = days[index // 250 % len(days)]
        if index % 250 == 101:
            joined = day
        elif index % 250 == 173:
            left = day
        elif index % 1000 == 537:
            left = start - dt.timedelta(days=40)
        elif index % 1000 == 877:
            joined = after + dt.timedelta(days=1)
    return Profile(job_class, status, joined, left, grades)


ATTENDANCE_SQL = """
INSERT INTO {schema}.attendance (employee_id, day, status, minutes_late, minutes_early,
    missed_apel, updated_at)
SELECT e.id, d.day, st.status,
    CASE WHEN st.status = 'present' AND h.v % 25 = 0 THEN 1 + (e.id + d.k) % 90 ELSE 0 END,
    CASE WHEN st.status = 'present' AND h.v % 37 = 4 THEN 1 + (3 * e.id + d.k) % 75 ELSE 0 END,
    st.status IN ('present', 'no_clock_in') AND h.v % 47 = 9,
    d.day + time '17:00'
FROM {schema}.employees e
CROSS JOIN unnest($1::date[]) WITH ORDINALITY AS d(day, k)
CROSS JOIN LATERAL (SELECT (e.id * 7919 + d.k * 104729) % 10007 AS v) h
CROSS JOIN LATERAL (SELECT CASE
    WHEN e.id % 400 = 123 THEN 'maternity_leave'
    WHEN e.id % 9 = 2 AND d.k BETWEEN e.id % 17 + 1 AND e.id % 17 + 3 THEN 'leave'
    WHEN e.id % 23 = 5 AND d.k BETWEEN e.id % 15 + 1 AND e.id % 15 + 5 THEN 'training'
    WHEN e.id % 7 = 4 AND d.k BETWEEN e.id % 19 + 1 AND e.id % 19 + 2 THEN 'duty_travel'
    WHEN e.id % 150 = 77 AND d.k = e.id % 20 + 1 THEN 'important_leave'
    WHEN (e.id % 61 = 30 AND d.k BETWEEN 3 AND 6) OR h.v % 100 = 42 THEN 'sick'
    WHEN h.v % 97 = 3 THEN 'absent'
    WHEN h.v % 53 = 7 THEN 'no_clock_in'
    ELSE 'present' END AS status) st
WHERE (e.joined_on IS NULL OR d.day >= e.joined_on)
    AND (e.left_on IS NULL OR d.day <= e.left_on)
    AND h.v % 89 <> 5
"""
"""One row per employee and weekday of employment, except about one in 89 left unrecorded.
Per 1,000 rows roughly: 15 annual leave, 10 sick, 10 training, 13 duty travel, 2 maternity, 10
absent, 19 without clock-in; of the days at work about 4 % late (1-90 minutes: every band),
3 % leaving early, 2 % missing the apel. A `(e.id, k)` hash keeps it deterministic."""

FILL_SQL = """
WITH slots AS MATERIALIZED (
    SELECT e.id AS employee_id, e.supervisor_nip, b.supervisor_nip AS escalated_to, d.day,
        row_number() OVER (ORDER BY e.id, d.day) AS r
    FROM {schema}.employees e
    JOIN {schema}.employees b ON b.nip = e.supervisor_nip
    CROSS JOIN unnest($1::date[]) AS d(day)
    LEFT JOIN {schema}.attendance a ON a.employee_id = e.id AND a.day = d.day
    WHERE e.position = 'Pelaksana'
        AND (e.joined_on IS NULL OR d.day >= e.joined_on)
        AND (e.left_on IS NULL OR d.day <= e.left_on)
        AND (a.status IS NULL OR a.status <> ALL($4::text[]))
), width AS (
    SELECT greatest(count(*), 1) AS total FROM slots
), have AS (
    SELECT employee_id, activity_date AS day, count(*) AS rows FROM {schema}.activities
    WHERE activity_date BETWEEN $5 AND $6 GROUP BY employee_id, activity_date
)
INSERT INTO {schema}.activities (employee_id, activity_date, description, minutes,
    status, verified_by, verified_at, note, escalated_to_nip, created_at, updated_at)
SELECT s.employee_id, s.day, 'Menyusun laporan kegiatan ' || n, 45 + (s.employee_id + n) % 4 * 15,
    st.status,
    CASE WHEN st.status = 'submitted' THEN NULL ELSE s.supervisor_nip END,
    CASE WHEN st.status = 'submitted' THEN NULL ELSE s.day + time '16:00' END,
    CASE WHEN st.status = 'rejected' THEN 'Uraian belum sesuai target' END,
    CASE WHEN st.status = 'submitted' THEN s.escalated_to END,
    s.day + time '15:00', s.day + time '15:00'
FROM slots s
CROSS JOIN width w
LEFT JOIN have h ON h.employee_id = s.employee_id AND h.day = s.day
CROSS JOIN LATERAL generate_series(coalesce(h.rows, 0)::int + 1,
    ($2::bigint * s.r / w.total - $2::bigint * (s.r - 1) / w.total)::int) AS n
CROSS JOIN LATERAL (SELECT CASE WHEN (s.r + n) % 29 = 0 THEN 'submitted'
                                WHEN (s.r + n) % 23 = 0 THEN 'rejected'
                                ELSE 'approved' END AS status) st
LIMIT $3
"""
"""The month's activities of `$2` in all, spread evenly over the employees' days at work (a day
of employment whose attendance lets one log work): slot `r` of `w` holds
`floor($2 r / w) - floor($2 (r - 1) / w)` of them (five or six a day at 2.2 million, 45-90
minutes each, within the daily cap). A slot that already has rows gets only the ones it lacks
(the same rows, by number), at most `$3` in all: the seeding and the regrowth after a shrink are
one statement."""


async def fill_activities(ctx: SeedContext, step: str, total: int, missing: int) -> int:
    """Add up to `missing` of the benchmark month's activities, toward `total` spread evenly."""
    from bench.scenarios import BENCH_PERIOD
    from erk.demo import NO_WORK_STATUSES

    days = weekdays(BENCH_PERIOD)
    before = len(ctx.report.steps)
    await ctx.timed_sql(
        step,
        FILL_SQL.format(schema=ctx.schema),
        days,
        total,
        missing,
        [s.value for s in NO_WORK_STATUSES],
        days[0],
        days[-1],
    )
    return ctx.report.steps[before].rows


async def seed_erk(ctx: SeedContext, employees: int, supervisors: int, activities: int) -> None:
    from bench.scenarios import BENCH_PERIOD
    from bench.seeding import erk_nip
    from erk.demo import PTKP_STATUSES

    now = dt.datetime.now(dt.UTC)
    days = weekdays(BENCH_PERIOD)
    start = days[0].replace(day=1)
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
        "tpp_base_idr", "active", "employment_status", "ptkp_status", "salary_gross_idr",
        "joined_on", "left_on", "created_at", "updated_at",
    )  # fmt: skip

    def person(
        index: int, name: str, unit: int, position: str, profile: Profile, boss: str | None
    ) -> tuple[object, ...]:
        base = 2_500_000 + profile.job_class * 300_000
        salary = salary_of(profile.job_class, index)
        if position == "Kepala Dinas" and index % 4 == 0:
            salary = 12_300_000  # above the BPJS wage ceiling: no BPJS on the TPP
        nip = erk_nip(index)
        return (
            nip, name, unit + 1, position, profile.job_class, "III/b", boss, base, True,
            profile.status, ptkp_of(index, PTKP_STATUSES), salary, profile.joined_on,
            profile.left_on, now, now,
        )  # fmt: skip

    heads = [
        person(HEAD_BASE + u, f"Kepala OPD {u + 1}", u, "Kepala Dinas", Profile(14, "pns"), None)
        for u in range(UNITS)
    ]
    bosses = [
        person(
            SUPERVISOR_BASE + j,
            f"Kepala Seksi {j + 1}",
            j % UNITS,
            "Kepala Seksi",
            Profile(9, "pns"),
            erk_nip(HEAD_BASE + j % UNITS),
        )
        for j in range(supervisors)
    ]
    profiles = [staff_profile(i, supervisors, days) for i in range(employees)]
    staff = []
    for i, profile in enumerate(profiles):
        j = supervisor_of(i, supervisors)
        staff.append(
            person(
                i,
                f"Pegawai {i + 1}",
                j % UNITS,
                "Pelaksana",
                profile,
                erk_nip(SUPERVISOR_BASE + j),
            )
        )
    await ctx.copy("employees", columns, [*heads, *bosses, *staff])
    ids = {
        row["nip"]: row["id"]
        for row in await ctx.conn.fetch(f"SELECT id, nip FROM {ctx.schema}.employees")
    }
    await ctx.copy(
        "employee_grades",
        ("employee_id", "effective_from", "job_class", "employment_status", "legal_basis",
         "created_by", "created_at"),
        (
            (ids[erk_nip(i)], since, job_class, status, f"SK {i}/BKPSDM", "bench", now)
            for i, profile in enumerate(profiles)
            for since, job_class, status in profile.grades
        ),
    )  # fmt: skip
    await ctx.copy(
        "pay_adjustments",
        ("employee_id", "kind", "start_date", "end_date", "percent_bp", "acting_base_idr",
         "legal_basis", "created_by", "created_at"),
        pay_adjustments(ids, employees, supervisors, days, start),
    )  # fmt: skip

    # The benchmark month: attendance first (activities avoid the days of leave and absence).
    await ctx.timed_sql(
        f"attendance {BENCH_PERIOD}", ATTENDANCE_SQL.format(schema=ctx.schema), days
    )
    await fill_activities(ctx, f"activities {BENCH_PERIOD}", activities, activities)

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


def pay_adjustments(
    ids: dict[str, int], employees: int, supervisors: int, days: list[dt.date], start: dt.date
) -> list[tuple[object, ...]]:
    """HR's decisions in force during the month: 25 % disciplinary sentences (PP 94/2021) of
    0.4 % of the employees, half from before the month, half from its middle; acting posts of
    2 % of the supervisors (Plt of their head, from a day of the month) and of 0.25 % of the
    employees (Plt of a section head, until the middle of the month), 20 % of the post's base."""
    from bench.seeding import erk_nip

    now = dt.datetime.now(dt.UTC)
    rows: list[tuple[object, ...]] = []
    middle = days[len(days) // 2]
    for i in range(LOGINS, employees):
        employee = ids[erk_nip(i)]
        if i % 500 == 233:
            since, until = start - dt.timedelta(days=61), start + dt.timedelta(days=150)
            rows.append(
                (employee, "sanction", since, until, 2500, 0, f"SK Bupati 800/{i}", "bench", now)
            )
        elif i % 500 == 433:
            rows.append(
                (
                    employee,
                    "sanction",
                    middle,
                    middle + dt.timedelta(days=180),
                    2500,
                    0,
                    f"SK Bupati 800/{i}",
                    "bench",
                    now,
                )
            )
        elif i % 400 == 309:
            rows.append(
                (
                    employee,
                    "acting",
                    start - dt.timedelta(days=10),
                    middle,
                    2000,
                    SECTION_ACTING_BASE,
                    f"Sprint Plt 821/{i}",
                    "bench",
                    now,
                )
            )
    for j in range(supervisors):
        if j % 50 == 7:
            since = days[j % len(days)]
            rows.append(
                (
                    ids[erk_nip(SUPERVISOR_BASE + j)],
                    "acting",
                    since,
                    since + dt.timedelta(days=60),
                    2000,
                    HEAD_ACTING_BASE,
                    f"Sprint Plt 821/{SUPERVISOR_BASE + j}",
                    "bench",
                    now,
                )
            )
    return rows


async def grow_erk_activities(ctx: SeedContext, total: int) -> None:
    """Bring the benchmark month's activities to exactly `total`: delete the newest beyond it, or
    refill the employees' days at work toward `total` spread evenly (`FILL_SQL`: the seeded rows
    come back), and only if those cannot hold it add the rest as extra approved rows."""
    from bench.scenarios import BENCH_PERIOD

    days = weekdays(BENCH_PERIOD)
    first, last = days[0], days[-1]

    async def count() -> int:
        have: int = await ctx.conn.fetchval(
            f"SELECT count(*) FROM {ctx.schema}.activities WHERE activity_date BETWEEN $1 AND $2",
            first,
            last,
        )
        return have

    have = await count()
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
        return
    if have < total:
        have += await fill_activities(ctx, f"grow to {total:,}", total, total - have)
    if have < total:
        await ctx.timed_sql(
            f"grow to {total:,} (extra)",
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
