"""The scenario registry: every load the benchmark runs, as data.

References come first (the floor every figure is divided by); the services' scenarios follow. A
service scenario whose route is not in the service's OpenAPI document yet, or whose preflight
request answers 404/405, is reported "not available yet" and skipped, so the harness runs while the
endpoints are being written (`python -m bench run --quick --scenarios 'erk.*'` shows the preflight
answer).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from fnmatch import fnmatchcase

from bench.spec import CursorPool, Growth, Scenario, SqlPool

REFERENCE_ROWS = 100_000
"""Rows preloaded in bench_ref.payments for the indexed select."""

PAYMENT_BODY = {
    "reference": "pay-{uniq}",
    "payer_name": "Payer {vu}",
    "description": "Bench payment {uniq}",
    "region_code": "32.73.01.1001",
    "amount": "{int:1000:100000000}",
}

BENCH_FISCAL_YEAR = dt.date.today().year
"""The fiscal year the seeders file Sabilulungan's proposals under (its public list needs one):
the current one, since a proposal for a fiscal year that has ended is refused."""
BENCH_PERIOD = "2026-10"
"""The month the e-RK seeder fills with activities and attendance (a closed, past month)."""

REF_INSERT = "reference.orm_insert"
REF_SELECT = "reference.orm_select"
REF_NOOP = "reference.noop"
STACK_NOOP_RATIO = 0.85
"""The full stack's no-op must reach this share of the bare app's no-op (issue 17)."""

REFERENCES: tuple[Scenario, ...] = (
    Scenario(
        name=REF_INSERT,
        service="reference",
        kind="write",
        method="POST",
        path="/orm/payments",
        title="bare FastAPI: one INSERT through the async ORM (session.add + commit)",
        body=PAYMENT_BODY,
        expect=(201,),
        overload=True,
    ),
    Scenario(
        name="reference.core_insert",
        service="reference",
        kind="write",
        method="POST",
        path="/core/payments",
        title="bare FastAPI: one INSERT through SQLAlchemy Core",
        body=PAYMENT_BODY,
        expect=(201,),
        baseline=REF_INSERT,
    ),
    Scenario(
        name="reference.raw_insert",
        service="reference",
        kind="write",
        method="POST",
        path="/raw/payments",
        title="bare FastAPI: one INSERT through raw asyncpg",
        body=PAYMENT_BODY,
        expect=(201,),
        baseline=REF_INSERT,
    ),
    Scenario(
        name=REF_SELECT,
        service="reference",
        kind="lookup",
        method="GET",
        path=f"/orm/payments/ref-{{int:1:{REFERENCE_ROWS}}}",
        title="bare FastAPI: one indexed SELECT by key through the async ORM",
    ),
    Scenario(
        name=REF_NOOP,
        service="reference",
        kind="lookup",
        method="GET",
        path="/noop",
        title="bare FastAPI: a no-op route (no database, no dependency)",
    ),
)

STACK: tuple[Scenario, ...] = (
    Scenario(
        name="stack.noop",
        service="stack",
        kind="lookup",
        method="GET",
        path="/api/v1/bench/noop",
        title="the same no-op through HAYU's full stack: every middleware, the principal and "
        "the request context (bench.stack_app)",
        baseline=REF_NOOP,
        min_ratio=STACK_NOOP_RATIO,
        target=f"≥ {STACK_NOOP_RATIO:g} × bare no-op at 16 and 64 clients",
    ),
)


def _common(
    service: str,
    list_path: str,
    list_query: str,
    track_sql: str | None,
    todo_list: str,
    *,
    list_title: str = "public list",
    list_auth: str | None = None,
) -> list[Scenario]:
    """Tracking lookup, public list at page 1 and page 1,000, and the /ready probe of a service.

    `list_query` holds the list's required filters (`fiscal_year=2026`), or is empty; `track_sql`
    is None for a service without public tracking. A service
    without a public list measures its closest paginated list instead, logged in as `list_auth`
    (the cursor walk for page 1,000 uses the same login).
    """
    page1 = f"{service}.public_list_page1"
    query = f"{list_query}&" if list_query else ""
    params = dict(p.split("=", 1) for p in list_query.split("&") if p)
    track = [
        Scenario(
            name=f"{service}.track",
            service=service,
            kind="lookup",
            method="GET",
            path="/api/v1/public/track/{pool:codes}",
            title="public tracking lookup by code",
            pools={"codes": SqlPool(sql)},
            seed=(service,),
            baseline=REF_SELECT,
            target="≥ 1.0 × bare ORM indexed select",
            overload=True,
        )
        for sql in [track_sql]
        if sql is not None
    ]
    return [
        *track,
        Scenario(
            name=page1,
            service=service,
            kind="list",
            method="GET",
            path=f"{list_path}?{query}limit=20",
            min_items=20,
            title=f"{list_title}, page 1 (20 items)",
            auth=list_auth,
            seed=(service,),
            baseline=REF_SELECT,
            todo=todo_list,
        ),
        Scenario(
            name=f"{service}.public_list_page1000",
            service=service,
            kind="list",
            method="GET",
            path=f"{list_path}?{query}limit=20&cursor={{pool:cursor}}",
            min_items=20,
            title=f"{list_title}, page 1,000 (keyset cursor walked beforehand)",
            auth=list_auth,
            pools={"cursor": CursorPool(list_path, page=1000, params=params)},
            seed=(service,),
            baseline=REF_SELECT,
            latency_baseline=page1,
            target="p50 ≤ 1.5 × page 1",
            todo=todo_list,
        ),
        Scenario(
            name=f"{service}.ready",
            service=service,
            kind="probe",
            method="GET",
            path="/ready",
            title="GET /ready (one database round trip; load for the memory figure)",
        ),
    ]


OPEN_DAYS_SQL = """
SELECT to_char(d, 'YYYY-MM-DD') FROM generate_series(
    date_trunc('month', now() AT TIME ZONE 'Asia/Jakarta'),
    date_trunc('day', now() AT TIME ZONE 'Asia/Jakarta'), interval '1 day') AS d
WHERE extract(isodow FROM d) < 6
"""
"""This month's weekdays up to today in regency time: open for entries (work is refused on
weekends; a run on a public holiday of the regency's calendar may see a few refusals)."""

VERIFY_BATCHES_SQL = """
SELECT supervisor_nip || '|' || string_agg(id::text, ',' ORDER BY id)
FROM (SELECT a.id, e.supervisor_nip,
             (row_number() OVER (PARTITION BY e.supervisor_nip ORDER BY a.id) - 1) / 5 AS batch
      FROM erk.activities a JOIN erk.employees e ON e.id = a.employee_id
      WHERE a.status = 'submitted'
        AND a.activity_date >= date_trunc('month', now() AT TIME ZONE 'Asia/Jakarta')) q
GROUP BY supervisor_nip, batch
ORDER BY batch, supervisor_nip
"""
"""Batches of five pending activities of one supervisor's team, `<supervisor NIP>|<id>,<id>,...`,
round-robin over the supervisors (the seeder queues them: `bench.seed_erk`)."""

ERK: tuple[Scenario, ...] = (
    Scenario(
        name="erk.activity_submit",
        service="erk",
        kind="write",
        method="POST",
        path="/api/v1/activities",
        title="e-RK: an employee logs a daily activity",
        auth="erk.employee",
        idempotency_key=True,
        # One minute each, on a day of this month: one employee per virtual user logs thousands
        # of entries in a run, and each day holds at most the daily cap (450 minutes by default).
        body={
            "date": "{pool:days}",
            "description": "Menyusun laporan {uniq}",
            "minutes": 1,
        },
        pools={"days": SqlPool(OPEN_DAYS_SQL)},
        expect=(201,),
        baseline=REF_INSERT,
        seed=("erk",),
        overload=True,
        target="≥ 1.0 × bare ORM insert at 16 and 64 clients",
    ),
    Scenario(
        name="erk.bulk_verify",
        service="erk",
        kind="write",
        method="POST",
        path="/api/v1/verifications",
        title="e-RK: a supervisor approves a batch of five activities of their team",
        auth="erk.supervisor",
        idempotency_key=True,
        # Each request takes the next unused batch and logs in as the batch's supervisor.
        body={"activity_ids": "{batch}", "decision": "approved"},
        pools={"batches": SqlPool(VERIFY_BATCHES_SQL, limit=100_000)},
        login_from="batches",
        expect=(200,),
        baseline=REF_INSERT,
        seed=("erk",),
        overload=True,
        target="≥ 1.0 × bare ORM insert at 16 and 64 clients",
    ),
    # e-RK has no public tracking: activities are personnel records, not a citizen's file. Its
    # largest paginated list is HR's view of a month's activities (two million rows).
    *_common(
        "erk",
        "/api/v1/activities",
        f"month={BENCH_PERIOD}",
        None,
        "",
        list_title="HR's list of the month's activities (e-RK has no public list)",
        list_auth="erk.hr",
    ),
)

HAYU_KBLI = "56102"
"""A KBLI code of the reference rows the HAYU seeder imports (`hayu.demo.DEMO_KBLI`)."""

HAYU: tuple[Scenario, ...] = (
    Scenario(
        name="hayu.self_report",
        service="hayu",
        kind="write",
        method="POST",
        path="/api/v1/applications",
        title="HAYU: a business below the capital threshold self-reports (registered at once)",
        auth="hayu.owner",
        idempotency_key=True,
        # hayu.schemas.ApplicationCreate: REG-UMK allows self-reporting, and a capital below the
        # threshold (500 million rupiah by default) registers the business with a number at once.
        body={
            "permit_type_code": "REG-UMK",
            "business": {
                "name": "Usaha Bench {uniq}",
                "owner": {
                    "nik": "3273011501900{int:100:999}",
                    "name": "Pemilik {vu}",
                    "phone": "+62812{int:10000000:99999999}",
                },
                "kbli_codes": [HAYU_KBLI],
                "address": "Jl. Asia Afrika No. {int:1:999}",
                "region_code": "32.73.01.1001",
                "capital_idr": "{int:1000000:400000000}",
                "workforce": "{int:1:20}",
            },
        },
        expect=(201,),
        baseline=REF_INSERT,
        seed=("hayu",),
        overload=True,
        target="≥ 1.0 × bare ORM insert at 16 and 64 clients",
    ),
    Scenario(
        name="hayu.certificate_verify",
        service="hayu",
        kind="lookup",
        method="GET",
        path="/api/v1/public/verify/{pool:number}",
        title="HAYU: public verification of a certificate number",
        pools={
            "number": SqlPool(
                "SELECT number FROM hayu.applications WHERE number IS NOT NULL ORDER BY random()"
            )
        },
        baseline=REF_SELECT,
        seed=("hayu",),
        target="≥ 1.0 × bare ORM indexed select",
    ),
    # HAYU has no public list (its public routes are tracking, verification, the key and the
    # statistics): its closest paginated list is the officers' `GET /api/v1/applications`
    # (all files, newest first, keyset on id), measured logged in as an officer.
    *_common(
        "hayu",
        "/api/v1/applications",
        "",
        "SELECT tracking_code FROM hayu.applications ORDER BY random()",
        "",
        list_title="officers' application list (HAYU has no public list)",
        list_auth="hayu.officer",
    ),
)

SABILULUNGAN: tuple[Scenario, ...] = (
    Scenario(
        name="sabilulungan.proposal_submit",
        service="sabilulungan",
        kind="write",
        method="POST",
        path="/api/v1/proposals",
        title="Sabilulungan: an organisation submits a hibah proposal",
        auth="sabilulungan.applicant",
        idempotency_key=True,
        # sabilulungan.schemas.ProposalCreate: a hibah goes to an organisation with its
        # legal-entity number; the budget lines add up to the requested amount; it is filed for
        # next year, inside the default proposal window (the whole year before the fiscal year).
        body={
            "kind": "hibah",
            "fiscal_year": BENCH_FISCAL_YEAR + 1,
            "title": "Bantuan sarana ibadah {uniq}",
            "purpose": "Renovasi atap dan lantai masjid",
            "requested_amount_idr": 50_000_000,
            "budget_lines": [
                {"description": "Material bangunan", "amount_idr": 30_000_000},
                {"description": "Upah tukang", "amount_idr": 20_000_000},
            ],
            "applicant": {
                "type": "organization",
                "name": "Yayasan Bench {vu}",
                "legal_entity_number": "AHU-00{int:10000:99999}.AH.01.04.2020",
                "npwp": "01.234.567.8-901.{int:100:999}",
                "address": "Jl. Braga No. {int:1:200}, Bandung",
                "region_code": "32.73.01.1001",
                "phone": "+62812{int:10000000:99999999}",
                "bank_account": "0123{int:100000:999999}",
                "board_members": [
                    {
                        "name": "Ketua {vu}",
                        "nik": "3273010101{int:80:99}{int:1000:9999}",
                        "position": "Ketua",
                    },
                ],
            },
        },
        expect=(201,),
        baseline=REF_INSERT,
        seed=("sabilulungan",),
        overload=True,
        target="≥ 1.0 × bare ORM insert at 16 and 64 clients",
    ),
    *_common(
        "sabilulungan",
        "/api/v1/public/proposals",
        f"fiscal_year={BENCH_FISCAL_YEAR}",
        "SELECT tracking_code FROM sabilulungan.proposals ORDER BY random()",
        "",
        list_title="public ledger of the fiscal year",
    ),
)

GROWTH: tuple[Growth, ...] = (
    Growth(
        name="erk.recap_growth",
        service="erk",
        method="GET",
        # The month is open, so the export computes the recap of every employee live from the
        # activities and attendance (a closed month would read the frozen rows instead).
        path=f"/api/v1/recaps/{BENCH_PERIOD}.csv",
        title="e-RK monthly recap over all employees (CSV of the live recap)",
        grower="erk.activities",
        volumes=(500_000, 1_000_000, 2_200_000),
        auth="erk.hr",
        limit_s=5.0,
    ),
)
GROWTH_BY_NAME: dict[str, Growth] = {g.name: g for g in GROWTH}

SCENARIOS: tuple[Scenario, ...] = (*REFERENCES, *STACK, *ERK, *HAYU, *SABILULUNGAN)
BY_NAME: dict[str, Scenario] = {s.name: s for s in SCENARIOS}
SERVICES = ("sabilulungan", "hayu", "erk")

if len(BY_NAME) != len(SCENARIOS):
    raise RuntimeError("two scenarios share a name")


def select_growth(patterns: Iterable[str] | None) -> list[Growth]:
    """Growth measurements matching the patterns (all when none given)."""
    wanted = [p for p in (patterns or []) if p]
    return [g for g in GROWTH if not wanted or any(fnmatchcase(g.name, p) for p in wanted)]


def select(patterns: Iterable[str] | None) -> list[Scenario]:
    """Scenarios matching any shell-style pattern (`erk.*`, `*.track`); all when none given.

    The references a chosen scenario is compared with are always included.
    """
    wanted = [p for p in (patterns or []) if p]
    if not wanted:
        return list(SCENARIOS)
    chosen = {s.name for s in SCENARIOS if any(fnmatchcase(s.name, p) for p in wanted)}
    if not chosen and not select_growth(wanted):
        raise ValueError(f"no scenario matches {', '.join(wanted)}")
    for name in list(chosen):
        scenario = BY_NAME[name]
        for dep in (scenario.baseline, scenario.latency_baseline):
            if dep:
                chosen.add(dep)
                if BY_NAME[dep].baseline:
                    chosen.add(BY_NAME[dep].baseline or "")
    return [s for s in SCENARIOS if s.name in chosen]
