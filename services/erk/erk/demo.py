"""Demo accounts and data: a few units, about 50 employees in a supervisor tree, and last month's
and this month's activities and attendance in every state."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from erk import schemas
from erk.accounts import UNUSABLE_PASSWORD
from erk.closing import close_period as close_period
from erk.models import (
    Account,
    Activity,
    Attendance,
    AuditEvent,
    Delegation,
    Employee,
    Target,
    Unit,
)
from erk.periods import month_start, previous_month
from erk.periods import next_month as next_month
from erk.periods import parse_period as parse_period
from erk.recap import recap_rows as recap_rows
from erk.schemas import NO_WORK_STATUSES as NO_WORK_STATUSES
from erk.tax import PTKP_STATUSES as PTKP_STATUSES
from shared.app import ServiceSpec, build_calendar
from shared.audit import record_event
from shared.auth import hash_password
from shared.cli import seed_demo_accounts
from shared.db import utcnow

# `close_period`, `next_month`, `parse_period` and `recap_rows` are re-exported (`x as x`) for
# bench.erk_recap, which times the month's computation step by step (live recap, closing, frozen
# read), and `NO_WORK_STATUSES` (no activities on those days) and `PTKP_STATUSES` for the volume
# seeder (bench.seed_erk): `demo` is e-RK's seeding and measuring surface for bench/.

DEMO_PASSWORD = "demo-erk-2026"
ANDI = "198503152010011001"
SRI = "197901202005012002"
UNIT_ADMIN = "198807072015031003"
HR = "197012121995031004"
DEMO_ACCOUNTS: list[tuple[str, list[str], str, str | None]] = [
    (ANDI, ["employee"], "Andi Pratama", "BID-APTIKA"),
    (SRI, ["employee"], "Sri Wahyuni (atasan)", "BID-APTIKA"),
    (UNIT_ADMIN, ["employee", "unit_admin"], "Admin Kepegawaian Diskominfo", "DISKOMINFO"),
    (HR, ["hr_admin"], "BKPSDM", None),
    ("auditor", ["auditor"], "Auditor Inspektorat", None),
    ("admin", ["admin"], "Admin e-RK", None),
]

UNITS = [
    ("DISKOMINFO", "Dinas Komunikasi dan Informatika", None),
    ("BID-APTIKA", "Bidang Aplikasi Informatika", "DISKOMINFO"),
    ("BID-IKP", "Bidang Informasi dan Komunikasi Publik", "DISKOMINFO"),
    ("BKPSDM", "Badan Kepegawaian dan Pengembangan SDM", None),
    ("BID-MUTASI", "Bidang Mutasi dan Promosi", "BKPSDM"),
    ("DINKES", "Dinas Kesehatan", None),
]
FIRST_NAMES = [
    "Agus", "Budi", "Citra", "Dewi", "Eko", "Fitri", "Gita", "Hendra", "Indah", "Joko",
    "Kartika", "Lukman", "Maya", "Nanda", "Oki", "Putri", "Rina", "Sigit", "Tri", "Wulan",
]  # fmt: skip
LAST_NAMES = ["Santoso", "Lestari", "Hidayat", "Permata", "Saputra", "Rahayu", "Nugroho", "Wati"]
TASKS = [
    "Menyusun laporan kegiatan",
    "Rapat koordinasi bidang",
    "Memverifikasi data usulan",
    "Memperbarui konten situs web",
    "Menyiapkan bahan paparan pimpinan",
    "Mengelola surat masuk dan keluar",
    "Memelihara server dan jaringan",
]


def demo_nip(i: int) -> str:
    birth_year = 1970 + i % 25
    return (
        f"{birth_year}{i % 12 + 1:02d}{i % 28 + 1:02d}"
        f"{birth_year + 22}{(i * 5) % 12 + 1:02d}{1 + i % 2}{i + 100:03d}"
    )


def _people() -> list[dict[str, object]]:
    """(nip, name, unit, supervisor, class, base) for heads and staff, named accounts included."""
    heads = {
        "DISKOMINFO": "196805101990031007",
        "BKPSDM": "196902021991032008",
        "DINKES": "197003031992031009",
        "BID-APTIKA": SRI,
        "BID-IKP": "197504042000032010",
        "BID-MUTASI": "197605052001031011",
    }
    people: list[dict[str, object]] = []
    for code, _, parent in UNITS:
        people.append(
            {
                "nip": heads[code],
                "name": "Sri Wahyuni" if heads[code] == SRI else f"Kepala {code}",
                "unit": code,
                "supervisor": heads[parent] if parent else None,
                "job_class": 12 if parent else 14,
                "base": 9_298_296 if parent else 14_000_000,
            }
        )
    staff_units = ["BID-APTIKA", "BID-IKP", "BID-MUTASI", "DINKES", "DISKOMINFO"]
    people.append(
        {"nip": ANDI, "name": "Andi Pratama", "unit": "BID-APTIKA", "supervisor": SRI,
         "job_class": 7, "base": 3_500_000}
    )  # fmt: skip
    people.append(
        {"nip": UNIT_ADMIN, "name": "Admin Kepegawaian Diskominfo", "unit": "DISKOMINFO",
         "supervisor": heads["DISKOMINFO"], "job_class": 8, "base": 4_371_943}
    )  # fmt: skip
    for i in range(42):
        unit = staff_units[i % len(staff_units)]
        people.append(
            {
                "nip": demo_nip(i),
                "name": f"{FIRST_NAMES[i % 20]} {LAST_NAMES[i % 8]}",
                "unit": unit,
                "supervisor": heads[unit],
                "job_class": 5 + i % 4,
                "base": 2_793_557 + (i % 4) * 400_000,
            }
        )
    return people


async def seed(session: AsyncSession, spec: ServiceSpec) -> list[tuple[str, str, list[str]]]:
    logins, _ = await seed_demo_accounts(session, spec.models, DEMO_ACCOUNTS, DEMO_PASSWORD)
    if await session.scalar(select(func.count()).select_from(Unit)):
        return logins  # seeded before: the accounts are refreshed, the data kept
    await _seed_data(session, spec)
    return logins


async def _seed_data(session: AsyncSession, spec: ServiceSpec) -> None:
    now = utcnow()
    unit_ids: dict[str, tuple[int, str]] = {}
    for code, name, parent in UNITS:
        path = f"{unit_ids[parent][1] if parent else '/'}{code}/"
        unit = Unit(
            code=code, name=name, parent_id=unit_ids[parent][0] if parent else None, path=path
        )
        session.add(unit)
        await session.flush()
        unit_ids[code] = (unit.id, path)
    people = _people()
    await session.execute(
        insert(Employee),
        [
            {
                "nip": p["nip"],
                "name": p["name"],
                "unit_id": unit_ids[str(p["unit"])][0],
                "position": "Kepala" if int(str(p["job_class"])) >= 12 else "Pelaksana",
                "job_class": p["job_class"],
                "rank": "IV/a" if int(str(p["job_class"])) >= 12 else "III/a",
                "supervisor_nip": p["supervisor"],
                "tpp_base_idr": p["base"],
                "active": True,
                "created_at": now,
                "updated_at": now,
            }
            for p in people
        ],
    )
    named = {username for username, *_ in DEMO_ACCOUNTS}
    demo_hash = hash_password(DEMO_PASSWORD)
    await session.execute(
        insert(Account),
        [
            {
                "username": p["nip"],
                "password_hash": demo_hash,
                "full_name": p["name"],
                "roles": ["employee"],
                "unit": p["unit"],
                "active": True,
                "must_change_password": False,
                "failed_logins": 0,
                "created_at": now,
            }
            for p in people
            if p["nip"] not in named
        ],
    )
    # One employee has never logged in: no usable password, first login must change it.
    await session.execute(
        update(Account)
        .where(Account.username == demo_nip(41))
        .values(password_hash=UNUSABLE_PASSWORD, must_change_password=True)
    )
    ids = {r.nip: r.id for r in (await session.execute(select(Employee.nip, Employee.id))).all()}
    calendar = build_calendar(spec.config)
    today = calendar.local_date(now)
    last = previous_month(today)
    days = calendar.working_days_in_month(last.year, last.month) + [
        d for d in calendar.working_days_in_month(today.year, today.month) if d < today
    ]
    activities = []
    attendance = []
    for n, person in enumerate(people):
        employee_id = ids[str(person["nip"])]
        for k, day in enumerate(days):
            seed_value = n * 31 + k * 7
            status = "present"
            late = 0
            if seed_value % 47 == 0:
                status = "absent"
            elif seed_value % 41 == 0:
                status = "sick"
            elif seed_value % 37 == 0:
                status = "leave"
            elif seed_value % 29 == 0:
                status = "duty_travel"
            elif seed_value % 9 == 0:
                late = 5 + seed_value % 80
            attendance.append(
                {
                    "employee_id": employee_id,
                    "day": day,
                    "status": status,
                    "minutes_late": late,
                    "minutes_early": 15 if seed_value % 23 == 0 else 0,
                    "updated_at": now,
                }
            )
            if status in schemas.NO_WORK_STATUSES or seed_value % 13 == 0:
                continue
            this_month = day >= month_start(today)
            logged = 0
            for part in range(1 + seed_value % 2):
                # Never above the daily cap (450): 180-300 minutes, then at most what is left.
                minutes = min(180 + (seed_value % 5) * 30 - part * 60, 450 - logged)
                logged += minutes
                state = "approved"
                if this_month:
                    state = "submitted" if seed_value % 5 else "approved"
                elif seed_value % 19 == 0:
                    state = "rejected"
                elif seed_value % 17 == 0:
                    state = "submitted"
                activities.append(
                    {
                        "employee_id": employee_id,
                        "activity_date": day,
                        "description": TASKS[(seed_value + part) % len(TASKS)],
                        "minutes": minutes,
                        "output_quantity": 1 + seed_value % 3,
                        "output_unit": "dokumen",
                        "status": state,
                        "verified_by": person["supervisor"] if state != "submitted" else None,
                        "verified_at": now if state != "submitted" else None,
                        "note": "Uraian kurang jelas" if state == "rejected" else None,
                        "created_at": now,
                        "updated_at": now,
                    }
                )
    await session.execute(
        insert(Target),
        [
            {
                "employee_id": ids[str(p["nip"])],
                "year": today.year,
                "title": TASKS[n % len(TASKS)] + " sepanjang tahun",
                "quantity": 12,
                "output_unit": "laporan",
                "status": "proposed" if p["nip"] == ANDI else "approved",
                "approved_by": None if p["nip"] == ANDI else p["supervisor"],
                "approved_at": None if p["nip"] == ANDI else now,
                "created_at": now,
            }
            for n, p in enumerate(people)
        ],
    )
    await session.execute(insert(Attendance), attendance)
    await session.execute(insert(Activity), activities)
    session.add(
        Delegation(
            supervisor_nip=SRI,
            delegate_nip=UNIT_ADMIN,
            start_date=today,
            end_date=today + dt.timedelta(days=7),
            created_by=HR,
        )
    )
    await session.flush()
    await record_event(
        session,
        AuditEvent,
        actor="seed-demo",
        role="admin",
        action="demo.seeded",
        entity_type="demo",
        entity_id="erk",
        after={
            "units": len(UNITS),
            "employees": len(people),
            "activities": len(activities),
            "attendance": len(attendance),
        },
    )
