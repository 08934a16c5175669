"""The recap the API returns equals the rules computed independently, employee by employee.

One small month (a weekday holiday in it) and a handful of employees, each hitting different
rules: lateness and early leave in every band, no clock-in, missed apel, unexcused absence, days
without a record, every leave type, a day over the daily cap, entries that do not count (pending,
rejected, weekend, holiday), CPNS and PPPK, a mid-month joiner and leaver, effective-dated grades,
class bases, salary and PTKP (PPh 21 TER, BPJS under and over the wage ceiling), disciplinary
sentences (also above 100 % together) and acting posts; and people who are not in the month
(inactive, left before it, joined after it). The expected figures are computed here, by plain
Python written from the rule text (services/erk/README.md, "Rules as built"), not by the
service's code, under three rule versions: a Perkada with class bases and leave that is credited
or cuts (checked live and again after closing), a fixed monthly standard with its own weights,
bands and wage ceiling where missing attendance blocks closing instead of costing, and the
national defaults in the middle of the month (only past days can lack a record).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import insert, select

from erk.config import DeductionBand, TppRule
from erk.models import Activity, Attendance, Employee, EmployeeGrade, PayAdjustment, Unit
from shared.testing import client_for, user_headers

from .conftest import Erk

FULL = 10_000  # 100 % in basis points
TER_CATEGORY = {  # PMK 168/2023: PTKP status -> TER category
    "TK/0": "A",
    "TK/1": "A",
    "K/0": "A",
    "TK/2": "B",
    "TK/3": "B",
    "K/1": "B",
    "K/2": "B",
    "K/3": "C",
}

PERKADA = """
[[erk.tpp_rules]]
version = "perkada-2024"
effective_from = 2024-01-01
class_bases = { 7 = 4371943, 9 = 6000000, 10 = 6500000 }

[erk.tpp_rules.leave_effects]
training = { effect = "met" }
duty_travel = { effect = "met" }
important_leave = { effect = "cuts", percent = 5 }
"""

FIXED = """
[[erk.tpp_rules]]
version = "nasional-2020"
effective_from = 2020-01-01

[[erk.tpp_rules]]
version = "perwal-2024"
effective_from = 2024-01-01
standard_minutes_per_month = 6000
missing_attendance = "blocks_closing"
cpns_percent = 75
weight_performance = 70
weight_discipline = 30
absence_percent = 5
no_clock_in_percent = 1.5
missed_apel_percent = 0.75
class_bases = { 8 = 5200000 }
late_bands = [
  { min_minutes = 1, max_minutes = 15, percent = 0.5 },
  { min_minutes = 16, max_minutes = 60, percent = 1.25 },
  { min_minutes = 61, percent = 2.5 },
]
early_leave_bands = []  # leaving early costs nothing

[erk.tpp_rules.leave_effects]
sick = { effect = "cuts", percent = 1 }
maternity_leave = { effect = "met" }

[erk.tpp_rules.net]
bpjs_wage_ceiling_idr = 10000000

[[erk.tpp_rules]]
version = "perwal-2099"
effective_from = 2099-01-01
weight_performance = 50
weight_discipline = 50
"""


@dataclass(frozen=True)
class Mark:
    """One attendance row."""

    status: str = "present"
    late: int = 0
    early: int = 0
    apel_missed: bool = False


@dataclass(frozen=True)
class Adjustment:
    kind: str  # sanction | acting
    start: dt.date
    end: dt.date
    percent_bp: int
    acting_base: int = 0


@dataclass
class Person:
    nip: str
    job_class: int = 7
    base: int = 5_000_000
    status: str = "pns"
    ptkp: str = "TK/0"
    salary: int = 0
    joined: dt.date | None = None
    left: dt.date | None = None
    active: bool = True
    attendance: dict[dt.date, Mark] = field(default_factory=dict)
    activities: list[tuple[dt.date, int, str]] = field(default_factory=list)
    grades: list[tuple[dt.date, int, str]] = field(default_factory=list)
    adjustments: list[Adjustment] = field(default_factory=list)

    def mark(self, days: list[dt.date], status: str = "present") -> None:
        for day in days:
            self.attendance[day] = Mark(status)

    def work(self, days: list[dt.date], minutes: int, status: str = "approved") -> None:
        self.activities += [(day, minutes, status) for day in days]


@dataclass(frozen=True)
class Month:
    first: dt.date
    days: list[dt.date]  # the calendar's working days
    holiday: dt.date  # a weekday that is not a working day
    saturday: dt.date

    @property
    def period(self) -> str:
        return f"{self.first:%Y-%m}"

    @property
    def after(self) -> dt.date:
        return (self.first + dt.timedelta(days=32)).replace(day=1)


def month_with_a_holiday(erk: Erk) -> Month:
    """The first month of 2025 with at least 19 working days and a weekday holiday."""
    calendar = erk.app.state.calendar
    for number in range(1, 13):
        first = dt.date(2025, number, 1)
        days = calendar.working_days_in_month(2025, number)
        weekdays = [
            first + dt.timedelta(days=i)
            for i in range(31)
            if (first + dt.timedelta(days=i)).month == number
        ]
        holidays = [d for d in weekdays if d.weekday() < 5 and d not in days]
        if len(days) >= 19 and holidays:
            saturday = next(d for d in weekdays if d.weekday() == 5)
            return Month(first, list(days), holidays[0], saturday)
    raise AssertionError("no month of 2025 with a weekday holiday")


def people(m: Month) -> list[Person]:
    """The month's cast; `days[i]` is the i-th working day."""
    days, n = m.days, len(m.days)
    cast = []

    # Every lateness and early-leave band, no clock-in (minutes on it do not count), a missed
    # apel; a day over the daily cap; entries that do not count: pending, rejected, on a Saturday
    # and on a holiday (also an attendance row on the holiday, which is not a working day).
    a = Person("198001012005011001", job_class=7, ptkp="K/1", salary=4_500_000)
    a.mark(days)
    a.attendance[days[1]] = Mark(late=10)
    a.attendance[days[2]] = Mark(late=45)
    a.attendance[days[3]] = Mark(late=75)
    a.attendance[days[4]] = Mark(early=20)
    a.attendance[days[5]] = Mark(early=50)
    a.attendance[days[6]] = Mark(late=15, early=90, apel_missed=True)
    a.attendance[days[7]] = Mark("no_clock_in", late=40, early=10)  # not "present": no bands
    a.attendance[days[8]] = Mark("no_clock_in", apel_missed=True)
    a.attendance[m.holiday] = Mark("absent")
    a.work(days, 300)
    a.work([days[0]], 200)  # 500 on the day: 450 count
    a.work([days[10]], 120, "rejected")
    a.work([days[11]], 90, "submitted")
    a.work([m.saturday, m.holiday], 240)
    cast.append(a)

    # A CPNS on leave, sick, absent once, and two days without any record.
    b = Person("198102022006022002", job_class=6, status="cpns", ptkp="TK/0", salary=3_000_000)
    b.mark(days[8:])
    b.mark(days[0:3], "leave")
    b.mark(days[3:5], "sick")
    b.attendance[days[5]] = Mark("absent", late=70)  # an old record: absence, not lateness
    b.work(days[8:], 280)
    cast.append(b)

    # Joins on the 9th working day: duty travel and training, the rest present; K/3.
    c = Person("198203032007031003", job_class=8, base=4_800_000, ptkp="K/3", salary=6_200_000)
    c.joined = days[8]
    c.mark(days[8:])
    c.mark(days[9:11], "duty_travel")
    c.mark(days[11:13], "training")
    c.work(days[13:], 330)
    cast.append(c)

    # Leaves on the 15th working day; important leave once; a 25 % sentence over the month.
    d = Person("198304042008042004", job_class=9, base=6_500_000, ptkp="K/0", salary=5_100_000)
    d.left = days[14]
    d.mark(days[:15])
    d.mark(days[2:3], "important_leave")
    d.work([x for x in days[:15] if x != days[2]], 300)
    d.adjustments.append(
        Adjustment(
            "sanction", m.first - dt.timedelta(days=40), m.after + dt.timedelta(days=90), 2500
        )
    )
    cast.append(d)

    # PPPK acting twice (from the 6th working day on; and until the 3rd); above the wage ceiling.
    e = Person("198405052009051005", job_class=9, status="pppk", ptkp="TK/2", salary=13_000_000)
    e.mark(days)
    e.work(days[: n - 3], 300)
    e.adjustments += [
        Adjustment("acting", days[5], m.after + dt.timedelta(days=30), 2000, 9_000_000),
        Adjustment("acting", m.first - dt.timedelta(days=20), days[2], 1000, 6_000_000),
    ]
    cast.append(e)

    # Two sentences adding up to more than 100 %, one starting mid-month; an acting post.
    f = Person("198506062010061006", job_class=5, base=3_900_000, ptkp="K/2", salary=5_800_000)
    f.mark(days)
    f.work(days, 310)
    f.adjustments += [
        Adjustment("sanction", days[9], m.after + dt.timedelta(days=200), 6000),
        Adjustment("sanction", m.first - dt.timedelta(days=100), days[4], 5000),
        Adjustment("acting", days[0], days[n - 1], 1500, 7_000_000),
        Adjustment("sanction", m.after, m.after + dt.timedelta(days=30), 10000),  # not this month
    ]
    cast.append(f)

    # Grades: a CPNS appointed PNS (and promoted) on the 1st; appointed after the first working
    # day (still CPNS this month); promoted from the next month.
    g = Person("198607072011071007", job_class=8, status="pns", ptkp="TK/1", salary=4_000_000)
    g.grades = [(dt.date(1900, 1, 1), 6, "cpns"), (m.first, 8, "pns")]
    h = Person("198708082012081008", job_class=9, status="pns", ptkp="TK/3", salary=4_200_000)
    h.grades = [(dt.date(1900, 1, 1), 7, "cpns"), (days[3], 9, "pns")]
    i = Person("198809092013091009", job_class=10, status="pns", ptkp="K/0", salary=4_400_000)
    i.grades = [(dt.date(1900, 1, 1), 5, "pns"), (m.after, 10, "pns")]
    for p in (g, h, i):
        p.mark(days)
        p.work(days[1:], 300)
    cast += [g, h, i]

    # Maternity leave the whole month; and someone with no record and no entry at all.
    mother = Person("198910102014102010", job_class=7, ptkp="K/1", salary=4_600_000)
    mother.mark(days, "maternity_leave")
    cast.append(mother)
    cast.append(Person("199011112015111011", job_class=6))

    # Not in the month: inactive, left before it, joins after it.
    gone = Person("199112122016121012", active=False)
    gone.mark(days)
    gone.work(days, 300)
    retired = Person("196001011985011013", left=m.first - dt.timedelta(days=1))
    newcomer = Person("199201012017011014", joined=m.after)
    cast += [gone, retired, newcomer]
    return cast


# -- the rules, by hand ---------------------------------------------------------------------------


def in_force(rules: list[TppRule], first: dt.date) -> TppRule:
    """The version with the latest effective date on or before the month's first day."""
    dated = [r for r in rules if r.effective_from <= first]
    return max(dated, key=lambda r: r.effective_from) if dated else rules[0]


def band_bp(minutes: int, bands: list[DeductionBand]) -> int:
    for band in bands:
        if minutes >= band.min_minutes and (
            band.max_minutes is None or minutes <= band.max_minutes
        ):
            return int(band.percent * 100)
    return 0


def ter_bp(rule: TppRule, ptkp: str, amount: int) -> int:
    for upper, rate in rule.net.table(TER_CATEGORY[ptkp]):
        if upper is None or amount <= upper:
            return rate
    raise AssertionError("the last TER band is open")


def employed(p: Person, day: dt.date) -> bool:
    return (p.joined is None or p.joined <= day) and (p.left is None or day <= p.left)


def in_the_month(p: Person, m: Month) -> bool:
    last = m.after - dt.timedelta(days=1)
    return (
        p.active
        and (p.joined is None or p.joined <= last)
        and (p.left is None or p.left >= m.first)
    )


def expected(p: Person, m: Month, rule: TppRule, today: dt.date, cap: int) -> dict[str, Any]:
    working_days = m.days
    working = len(working_days)
    days_employed = [d for d in working_days if employed(p, d)]
    marks = [p.attendance[d] for d in working_days if d in p.attendance]
    effects = rule.leave_effects

    def effect_of(mark: Mark) -> str | None:
        return effects[mark.status].effect if mark.status in effects else None

    reduced = sum(effect_of(x) == "reduces_standard" for x in marks)
    met = sum(effect_of(x) == "met" for x in marks)
    absent = sum(x.status == "absent" for x in marks)
    missing = sum(d < today and d not in p.attendance for d in days_employed)
    at_work = [x for x in marks if x.status == "present"]
    late_bp = sum(band_bp(x.late, rule.late_bands) for x in at_work if x.late)
    early_bp = sum(band_bp(x.early, rule.early_leave_bands) for x in at_work if x.early)
    other_bp = (
        sum(int(effects[x.status].percent * 100) for x in marks if effect_of(x) == "cuts")
        + sum(x.status == "no_clock_in" for x in marks) * int(rule.no_clock_in_percent * 100)
        + sum(x.apel_missed for x in marks) * int(rule.missed_apel_percent * 100)
    )
    charged = missing if rule.missing_attendance == "absent" else 0
    deduction = (absent + charged) * int(rule.absence_percent * 100) + late_bp + early_bp + other_bp
    discipline_bp = max(0, FULL - deduction)

    month_standard = rule.standard_minutes_per_month or working * rule.standard_minutes_per_day
    standard = month_standard * (len(days_employed) - reduced) // working
    per_day: dict[dt.date, int] = defaultdict(int)
    for day, minutes, status in p.activities:
        if status == "approved" and day in working_days:
            per_day[day] += minutes
    verified = sum(min(cap, total) for total in per_day.values())
    achieved = min(verified + met * (month_standard // working), standard)
    performance_bp = achieved * FULL // standard if standard else FULL

    job_class, status = p.job_class, p.status
    for since, grade_class, grade_status in sorted(p.grades):
        if since <= working_days[0]:
            job_class, status = grade_class, grade_status
    base = rule.class_bases.get(job_class, p.base)
    share = rule.cpns_percent if status == "cpns" else 100
    effective = base * share * len(days_employed) // (100 * working)
    if standard:
        productivity = effective * rule.weight_performance * achieved // (100 * standard)
    else:
        productivity = effective * rule.weight_performance // 100
    discipline = effective * rule.weight_discipline * discipline_bp // (100 * FULL)

    last = m.after - dt.timedelta(days=1)
    current = [x for x in p.adjustments if x.start <= last and x.end >= m.first]
    sanction_bp = min(FULL, sum(x.percent_bp for x in current if x.kind == "sanction"))
    cut = (productivity + discipline) * sanction_bp // FULL
    acting = sum(
        x.acting_base
        * x.percent_bp
        * sum(x.start <= d <= x.end for d in working_days)
        // (FULL * working)
        for x in current
        if x.kind == "acting"
    )
    gross = productivity + discipline - cut + acting

    total = p.salary + gross
    pph21 = (
        total * ter_bp(rule, p.ptkp, total) // FULL
        - p.salary * ter_bp(rule, p.ptkp, p.salary) // FULL
    )
    ceiling, share_pct = rule.net.bpjs_wage_ceiling_idr, rule.net.bpjs_employee_percent
    bpjs = min(total, ceiling) * share_pct // 100 - min(p.salary, ceiling) * share_pct // 100
    return {
        "working_days": working,
        "employed_days": len(days_employed),
        "reduced_days": reduced,
        "met_days": met,
        "absent_days": absent,
        "missing_days": missing,
        "standard_minutes": standard,
        "verified_minutes": verified,
        "performance_pct": performance_bp / 100,
        "discipline_pct": discipline_bp / 100,
        "employment_status": status,
        "tpp_base_idr": base,
        "base_effective_idr": effective,
        "tpp_performance_idr": productivity,
        "tpp_discipline_idr": discipline,
        "sanction_cut_idr": cut,
        "acting_addition_idr": acting,
        "tpp_total_idr": gross,
        "pph21_idr": pph21,
        "bpjs_idr": bpjs,
        "tpp_net_idr": gross - pph21 - bpjs,
    }


# -- the month in the database --------------------------------------------------------------------


async def store(erk: Erk, cast: list[Person]) -> None:
    """The cast's rows, written as the service stores them (some of them, such as attendance on
    a holiday, the API would refuse: the recap must ignore them all the same)."""
    now = dt.datetime.now(dt.UTC)
    async with erk.app.state.db.sessionmaker.begin() as session:
        unit = Unit(code="DINAS", name="Dinas", path="/DINAS/")
        session.add(unit)
        await session.flush()
        for p in cast:
            session.add(
                Employee(
                    nip=p.nip,
                    name=f"Pegawai {p.nip[-3:]}",
                    unit_id=unit.id,
                    position="Pelaksana",
                    job_class=p.job_class,
                    rank="III/a",
                    tpp_base_idr=p.base,
                    active=p.active,
                    employment_status=p.status,
                    ptkp_status=p.ptkp,
                    salary_gross_idr=p.salary,
                    joined_on=p.joined,
                    left_on=p.left,
                )
            )
        await session.flush()
        ids: dict[str, int] = dict((await session.execute(select(Employee.nip, Employee.id))).all())
        attendance = [
            {
                "employee_id": ids[p.nip],
                "day": day,
                "status": x.status,
                "minutes_late": x.late,
                "minutes_early": x.early,
                "missed_apel": x.apel_missed,
                "updated_at": now,
            }
            for p in cast
            for day, x in p.attendance.items()
        ]
        activities = [
            {
                "employee_id": ids[p.nip],
                "activity_date": day,
                "description": "Menyusun laporan",
                "minutes": minutes,
                "status": status,
                "created_at": now,
                "updated_at": now,
            }
            for p in cast
            for day, minutes, status in p.activities
        ]
        grades = [
            {
                "employee_id": ids[p.nip],
                "effective_from": since,
                "job_class": job_class,
                "employment_status": status,
                "legal_basis": "SK",
                "created_by": "bkpsdm",
            }
            for p in cast
            for since, job_class, status in p.grades
        ]
        adjustments = [
            {
                "employee_id": ids[p.nip],
                "kind": x.kind,
                "start_date": x.start,
                "end_date": x.end,
                "percent_bp": x.percent_bp,
                "acting_base_idr": x.acting_base,
                "legal_basis": "SK Bupati",
                "created_by": "bkpsdm",
            }
            for p in cast
            for x in p.adjustments
        ]
        for model, rows in (
            (Attendance, attendance),
            (Activity, activities),
            (EmployeeGrade, grades),
            (PayAdjustment, adjustments),
        ):
            await session.execute(insert(model), rows)


async def api_recap(erk: Erk, period: str) -> tuple[bool, dict[str, dict[str, Any]]]:
    r = await erk.client.get(f"/api/v1/recaps/{period}", params={"limit": 100}, headers=erk.hr)
    assert r.status_code == 200, r.text
    body = r.json()
    return body["closed"], {item["nip"]: item for item in body["items"]}


def differences(
    cast: list[Person], got: dict[str, dict[str, Any]], want: dict[str, dict[str, Any]]
) -> list[str]:
    lines = []
    for p in cast:
        if p.nip not in want:
            continue
        for key, value in want[p.nip].items():
            if got[p.nip][key] != value:
                lines.append(f"{p.nip} {key}: API {got[p.nip][key]!r}, rules {value!r}")
    return lines


@pytest.mark.parametrize(
    ("rules", "when"),
    [("perkada", "after the deadline"), ("fixed", "next month"), ("national", "mid-month")],
)
async def test_the_recap_equals_the_rules_computed_by_hand(
    make_app: Any, rules: str, when: str
) -> None:
    config = {"perkada": PERKADA, "fixed": FIXED, "national": None}[rules]
    app = await make_app("erk", config_toml=config)
    async with client_for(app) as client:
        erk = Erk(app, client)
        erk.hr = await user_headers(app, client, "bkpsdm", ["hr_admin"])
        m = month_with_a_holiday(erk)
        today = {
            "after the deadline": m.after.replace(day=20),
            "next month": m.after.replace(day=2),
            "mid-month": m.days[10],
        }[when]
        erk.at(today)
        cast = people(m)
        await store(erk, cast)
        rule = in_force(list(app.state.config.erk.tpp_rules), m.first)
        assert rule.version == {"perkada": "perkada-2024", "fixed": "perwal-2024"}.get(
            rules, "nasional-2020"
        )
        cap = app.state.config.erk.daily_cap_minutes
        want = {
            p.nip: expected(p, m, rule, min(today, m.after), cap)
            for p in cast
            if in_the_month(p, m)
        }

        closed, got = await api_recap(erk, m.period)
        assert not closed
        assert sorted(got) == sorted(want)
        assert differences(cast, got, want) == []

        if rules == "perkada":
            # Closing freezes the same figures.
            r = await client.post(
                f"/api/v1/periods/{m.period}/close", params={"anyway": "true"}, headers=erk.hr
            )
            assert r.status_code in (200, 201), r.text
            closed, frozen = await api_recap(erk, m.period)
            assert closed
            assert sorted(frozen) == sorted(want)
            assert differences(cast, frozen, want) == []
