"""TPP that follows the Perkada in every month: worked examples to the rupiah in 20-, 21- and
22-working-day months (leave, sick leave, missing attendance, fixed monthly standard, daily cap,
mid-month joiner, CPNS, base per kelas jabatan, net after PPh 21 TER and BPJS Kesehatan), and the
attendance records that are refused."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import insert, select

from erk.config import LeaveEffect
from erk.models import Activity, Employee
from erk.tax import NetRule
from shared.testing import assert_problem

from .conftest import CHIEF, STAFF, STAFF2, Erk, month_with_working_days

NEWCOMER = "199101012019031007"


def _days(erk: Erk, count: int) -> tuple[str, list[dt.date]]:
    first = month_with_working_days(erk.app, count)
    days = erk.app.state.calendar.working_days_in_month(first.year, first.month)
    erk.at(days[-1] + dt.timedelta(days=1))
    return f"{first.year:04d}-{first.month:02d}", days


def _rule(erk: Erk, **changes: Any) -> None:
    """The rule version in force, changed as a new Perkada would (config is reloaded)."""
    config = erk.app.state.config
    rule = config.erk.tpp_rules[0].model_copy(update=changes)
    erk.app.state.config = config.model_copy(
        update={"erk": config.erk.model_copy(update={"tpp_rules": [rule]})}
    )


async def _work(erk: Erk, nip: str, days: list[dt.date], minutes: int) -> None:
    """`nip` logs `minutes` on each day and the chief approves it all."""
    ids = []
    for day in days:
        r = await erk.log(nip, day, minutes)
        assert r.status_code == 201, r.text
        ids.append(r.json()["id"])
    r = await erk.client.post(
        "/api/v1/verifications",
        json={"activity_ids": ids, "decision": "approved"},
        headers=await erk.login(CHIEF),
    )
    assert r.status_code == 200, r.text


async def _attendance(erk: Erk, nip: str, days: list[dt.date], status: str = "present") -> None:
    lines = ["nip,date,status"] + [f"{nip},{d.isoformat()},{status}" for d in days]
    files = {"file": ("absen.csv", "\n".join(lines).encode(), "text/csv")}
    r = await erk.client.post("/api/v1/attendance/import", files=files, headers=erk.hr)
    assert r.status_code == 201, r.text


async def _recap(erk: Erk, period: str, nip: str = STAFF) -> dict[str, Any]:
    r = await erk.client.get(f"/api/v1/recaps/{period}", headers=erk.hr)
    assert r.status_code == 200, r.text
    row: dict[str, Any] = next(i for i in r.json()["items"] if i["nip"] == nip)
    return row


def _money(row: dict[str, Any]) -> tuple[int, int, int]:
    return row["tpp_performance_idr"], row["tpp_discipline_idr"], row["tpp_total_idr"]


async def _newcomer(erk: Erk, **fields: Any) -> None:
    body = {
        "nip": NEWCOMER,
        "name": "Pegawai Baru",
        "unit_code": "BIDANG",
        "job_class": 7,
        "supervisor_nip": CHIEF,
        "tpp_base_idr": 5_000_000,
        **fields,
    }
    r = await erk.client.post("/api/v1/employees", json=body, headers=erk.hr)
    assert r.status_code == 201, r.text


async def test_annual_leave_reduces_the_standard_in_a_21_day_month(erk: Erk) -> None:
    await erk.tree()
    period, days = _days(erk, 21)
    await _attendance(erk, STAFF, days[:5], "leave")
    await _attendance(erk, STAFF, days[5:])
    await _work(erk, STAFF, days[5:], 300)
    row = await _recap(erk, period)
    # Standard 21 x 300 = 6.300 less five days of leave = 4.800; 4.800 verified = 100 %.
    # (Before: 4.800 / 6.300 = 76,19 % and Rp2.285.714 of productivity.)
    assert (row["reduced_days"], row["standard_minutes"], row["verified_minutes"]) == (
        5,
        4800,
        4800,
    )
    assert row["performance_pct"] == 100.0
    assert _money(row) == (3_000_000, 2_000_000, 5_000_000)
    assert any("mengurangi standar" in line for line in row["explanation"])
    # Leave blocks logging on the day itself.
    assert_problem(await erk.log(STAFF, days[0], 60), 422, "absent-on-date")


async def test_sick_leave_in_a_20_day_month(erk: Erk) -> None:
    await erk.tree()
    period, days = _days(erk, 20)
    await _attendance(erk, STAFF, days[:2], "sick")
    await _attendance(erk, STAFF, days[2:])
    await _work(erk, STAFF, days[2:19], 300)  # 17 days logged, one present day without entries
    row = await _recap(erk, period)
    # Standard 6.000 x 18 / 20 = 5.400; 5.100 / 5.400 = 94,44 %.
    assert (row["standard_minutes"], row["verified_minutes"]) == (5400, 5100)
    assert row["performance_pct"] == 94.44
    # floor(5.000.000 x 60 % x 5.100 / 5.400) = 2.833.333
    assert _money(row) == (2_833_333, 2_000_000, 4_833_333)


async def test_missing_clock_in_and_missed_apel_cut_discipline(erk: Erk) -> None:
    await erk.tree()
    period, days = _days(erk, 20)
    lines = ["nip,date,status,missed_apel"]
    for index, day in enumerate(days):
        status = "tidak absen masuk" if index in (3, 4) else "hadir"
        lines.append(f"{STAFF},{day.isoformat()},{status},{'ya' if index == 7 else 'tidak'}")
    files = {"file": ("absen.csv", "\n".join(lines).encode(), "text/csv")}
    r = await erk.client.post("/api/v1/attendance/import", files=files, headers=erk.hr)
    assert r.status_code == 201, r.text
    await _work(erk, STAFF, days, 300)
    row = await _recap(erk, period)
    # Two days without clock-in (3 % each) and one missed apel (2 %): 100 - 6 - 2 = 92 %.
    assert row["discipline_pct"] == 92.0
    # floor(5.000.000 x 40 % x 92 %) = 1.840.000; performance in full: 3.000.000
    assert _money(row) == (3_000_000, 1_840_000, 4_840_000)
    # A day without clock-in is still a day at work: it does not cut the standard.
    assert row["standard_minutes"] == 6000


async def test_a_working_day_without_attendance_is_unexcused_absence(erk: Erk) -> None:
    await erk.tree()
    period, days = _days(erk, 22)
    await _attendance(erk, STAFF, days[:20])  # two working days have no record
    await _work(erk, STAFF, days[:20], 330)  # 6.600 = 22 x 300
    row = await _recap(erk, period)
    assert (row["missing_days"], row["performance_pct"], row["discipline_pct"]) == (2, 100.0, 80.0)
    assert _money(row) == (3_000_000, 1_600_000, 4_600_000)
    # Nobody logged, nobody recorded attendance: nothing is paid (before: Rp2.000.000).
    idle = await _recap(erk, period, STAFF2)
    assert (idle["missing_days"], _money(idle)) == (22, (0, 0, 0))


async def test_missing_attendance_can_block_closing_instead(erk: Erk) -> None:
    await erk.tree()
    period, days = _days(erk, 22)
    _rule(erk, missing_attendance="blocks_closing")
    await _attendance(erk, STAFF, days[:20])
    row = await _recap(erk, period)
    assert (row["missing_days"], row["discipline_pct"]) == (2, 100.0)
    erk.at(dt.date(2024, 2, 11))
    r = await erk.client.post(f"/api/v1/periods/{period}/close", headers=erk.hr)
    body = assert_problem(r, 409, "period-not-ready")
    assert body["missing_attendance_days"] == 2 + 5 * 22  # STAFF's two, the others' whole month


async def test_attendance_on_a_sunday_or_holiday_is_refused(erk: Erk) -> None:
    await erk.tree()
    erk.at(dt.date(2025, 3, 20))
    for day in ("2025-03-16", "2025-01-29"):  # a Sunday; Tahun Baru Imlek
        r = await erk.client.post(
            "/api/v1/attendance",
            json={"nip": STAFF, "date": day, "status": "absent"},
            headers=erk.hr,
        )
        assert_problem(r, 422, "non-working-day")
    files = {
        "file": ("a.csv", f"nip,date,status\n{STAFF},2025-03-16,absent\n".encode(), "text/csv")
    }
    r = await erk.client.post("/api/v1/attendance/import", files=files, headers=erk.hr)
    body = assert_problem(r, 422, "import-rejected")
    assert body["rows"][0]["errors"] == ["date is not a working day"]
    row = await _recap(erk, "2025-03")
    assert row["absent_days"] == 0


async def test_lateness_on_a_leave_day_is_refused(erk: Erk) -> None:
    await erk.tree()
    erk.at(dt.date(2025, 3, 20))
    for status in ("leave", "sick", "duty_travel", "absent"):
        r = await erk.client.post(
            "/api/v1/attendance",
            json={"nip": STAFF, "date": "2025-03-17", "status": status, "minutes_late": 45},
            headers=erk.hr,
        )
        assert_problem(r, 422, "lateness-not-at-work")
    r = await erk.client.post(
        "/api/v1/attendance",
        json={"nip": STAFF, "date": "2025-03-17", "status": "present", "minutes_late": 45},
        headers=erk.hr,
    )
    assert r.status_code == 201, r.text


async def test_fixed_monthly_standard_of_6000_minutes(erk: Erk) -> None:
    await erk.tree()
    _rule(erk, standard_minutes_per_month=6000, legal_basis="Perwal 39/2022 (contoh)")
    period, days = _days(erk, 22)
    await _attendance(erk, STAFF, days[:2], "leave")
    await _attendance(erk, STAFF, days[2:])
    await _work(erk, STAFF, days[2:], 270)  # 20 x 270 = 5.400
    row = await _recap(erk, period)
    # 6.000 x 20 / 22 = 5.454; floor(5.000.000 x 60 % x 5.400 / 5.454) = 2.970.297
    assert row["standard_minutes"] == 5454
    assert _money(row) == (2_970_297, 2_000_000, 4_970_297)
    assert any("standar tetap 6.000 menit" in line for line in row["explanation"])
    assert any("Perwal 39/2022 (contoh)" in line for line in row["explanation"])


async def test_leave_type_that_counts_as_met_or_cuts(erk: Erk) -> None:
    await erk.tree()
    effects = {
        "training": LeaveEffect(effect="met"),
        "important_leave": LeaveEffect(effect="cuts", percent=5),
    }
    config_rule = erk.app.state.config.erk.tpp_rules[0]
    _rule(erk, leave_effects={**config_rule.leave_effects, **effects})
    period, days = _days(erk, 20)
    await _attendance(erk, STAFF, days[:2], "training")
    await _attendance(erk, STAFF, days[2:3], "important_leave")
    await _attendance(erk, STAFF, days[3:])
    await _work(erk, STAFF, days[3:], 300)  # 17 x 300 = 5.100, + 2 x 300 credited = 5.700
    row = await _recap(erk, period)
    assert (row["standard_minutes"], row["met_days"], row["performance_pct"]) == (6000, 2, 95.0)
    # Productivity 5.000.000 x 60 % x 95 % = 2.850.000; discipline 95 % = 1.900.000
    assert _money(row) == (2_850_000, 1_900_000, 4_750_000)


async def test_an_approved_day_above_the_daily_cap_counts_up_to_the_cap(erk: Erk) -> None:
    await erk.tree()
    period, days = _days(erk, 20)
    await _attendance(erk, STAFF, days)
    async with erk.app.state.db.sessionmaker.begin() as session:
        staff_id = await session.scalar(select(Employee.id).where(Employee.nip == STAFF))
        now = dt.datetime.now(dt.UTC)
        await session.execute(
            insert(Activity),
            [
                {
                    "employee_id": staff_id,
                    "activity_date": day,
                    "description": "Data lama",
                    "minutes": minutes,
                    "status": "approved",
                    "created_at": now,
                    "updated_at": now,
                }
                for day, minutes in ((days[0], 540), (days[1], 480), (days[2], 300))
            ],
        )
    row = await _recap(erk, period)
    assert row["verified_minutes"] == 450 + 450 + 300


async def test_mid_month_joiner_in_a_21_day_month(erk: Erk) -> None:
    await erk.tree()
    period, days = _days(erk, 21)
    await _newcomer(erk, joined_on=days[10].isoformat())
    await _attendance(erk, NEWCOMER, days[10:])
    await _work(erk, NEWCOMER, days[10:], 300)
    row = await _recap(erk, period, NEWCOMER)
    # 11 of 21 working days: base 5.000.000 x 11 / 21 = 2.619.047; standard 6.300 x 11 / 21 = 3.300
    assert (row["employed_days"], row["missing_days"], row["standard_minutes"]) == (11, 0, 3300)
    assert row["base_effective_idr"] == 2_619_047
    assert _money(row) == (1_571_428, 1_047_618, 2_619_046)
    # Someone who left before the month is not in it.
    leaver = {
        "nip": "198001012005011009",
        "name": "Sudah Pensiun",
        "unit_code": "BIDANG",
        "job_class": 7,
        "tpp_base_idr": 5_000_000,
        "left_on": (days[0] - dt.timedelta(days=10)).isoformat(),
    }
    r = await erk.client.post("/api/v1/employees", json=leaver, headers=erk.hr)
    assert r.status_code == 201, r.text
    r = await erk.client.get(f"/api/v1/recaps/{period}", headers=erk.hr)
    assert leaver["nip"] not in {i["nip"] for i in r.json()["items"]}
    assert NEWCOMER in {i["nip"] for i in r.json()["items"]}


async def test_mid_month_leaver_in_a_22_day_month(erk: Erk) -> None:
    await erk.tree()
    period, days = _days(erk, 22)
    # The day of leaving is the last day employed: 11 of 22 working days.
    await _newcomer(erk, left_on=days[10].isoformat())
    await _attendance(erk, NEWCOMER, days[:11])
    await _work(erk, NEWCOMER, days[:11], 300)
    row = await _recap(erk, period, NEWCOMER)
    # base 5.000.000 x 11 / 22 = 2.500.000; standard 6.600 x 11 / 22 = 3.300; no absence after
    # the day of leaving
    assert (row["employed_days"], row["missing_days"], row["standard_minutes"]) == (11, 0, 3300)
    assert row["base_effective_idr"] == 2_500_000
    assert _money(row) == (1_500_000, 1_000_000, 2_500_000)


async def test_cpns_receive_80_percent_in_a_22_day_month(erk: Erk) -> None:
    await erk.tree()
    period, days = _days(erk, 22)
    await _newcomer(erk, employment_status="cpns")
    await _attendance(erk, NEWCOMER, days)
    await _work(erk, NEWCOMER, days, 300)
    row = await _recap(erk, period, NEWCOMER)
    assert (row["employment_status"], row["base_effective_idr"]) == ("cpns", 4_000_000)
    assert _money(row) == (2_400_000, 1_600_000, 4_000_000)
    assert any("CPNS 80 %" in line for line in row["explanation"])


async def test_base_per_job_class(erk: Erk) -> None:
    await erk.tree()
    _rule(erk, class_bases={7: 4_371_943})
    period, days = _days(erk, 20)
    await _attendance(erk, STAFF, days)
    await _work(erk, STAFF, days, 300)
    row = await _recap(erk, period)
    assert (row["tpp_base_idr"], row["tpp_total_idr"]) == (4_371_943, 4_371_942)


async def test_net_after_pph21_ter_and_bpjs(erk: Erk) -> None:
    await erk.tree()
    period, days = _days(erk, 21)
    await _newcomer(erk, ptkp_status="K/1", salary_gross_idr=4_500_000)
    await _attendance(erk, NEWCOMER, days)
    await _work(erk, NEWCOMER, days, 300)
    row = await _recap(erk, period, NEWCOMER)
    # Salary 4.500.000 + TPP 5.000.000 = 9.500.000: TER B 1,5 % = 142.500, salary alone 0 %.
    # BPJS 1 % of 9.500.000 less 1 % of 4.500.000 = 50.000.
    assert (row["tpp_total_idr"], row["pph21_idr"], row["bpjs_idr"]) == (5_000_000, 142_500, 50_000)
    assert row["tpp_net_idr"] == 4_807_500
    text = "\n".join(row["explanation"])
    assert "PMK 168/2023" in text
    assert "Rp4.807.500" in text
    # Above the BPJS wage ceiling and in a higher TER band (category A).
    r = await erk.client.post(
        "/api/v1/employees/import",
        files={
            "file": (
                "p.csv",
                (
                    "nip,name,unit_code,job_class,tpp_base_idr,supervisor_nip,ptkp_status,"
                    f"salary_gross_idr\n{NEWCOMER},Pegawai Baru,BIDANG,7,5000000,{CHIEF},TK/0,"
                    "10000000\n"
                ).encode(),
                "text/csv",
            )
        },
        headers=erk.hr,
    )
    assert r.status_code == 201, r.text
    row = await _recap(erk, period, NEWCOMER)
    # 15.000.000 x 6 % - 10.000.000 x 2 % = 700.000; BPJS 120.000 - 100.000 = 20.000
    assert (row["pph21_idr"], row["bpjs_idr"], row["tpp_net_idr"]) == (700_000, 20_000, 4_280_000)


def test_the_sql_and_the_python_tax_agree_on_the_band_edges() -> None:
    net = NetRule()
    assert net.pph21("TK/0", 0, 5_400_000) == 0
    assert net.pph21("TK/0", 0, 5_400_001) == 13_500  # 0,25 %
    assert net.pph21("K/3", 0, 6_600_000) == 0
    assert net.pph21("K/1", 4_500_000, 5_000_000) == 142_500
    assert net.bpjs(10_000_000, 5_000_000) == 20_000
    assert net.bpjs(13_000_000, 5_000_000) == 0


async def test_disciplinary_sentence_and_acting_post_in_a_20_day_month(erk: Erk) -> None:
    await erk.tree()
    period, days = _days(erk, 20)
    for nip in (STAFF, STAFF2):
        await _attendance(erk, nip, days)
        await _work(erk, nip, days, 300)
    sentence = {
        "nip": STAFF,
        "kind": "sanction",
        "start_date": days[0].isoformat(),
        "end_date": (days[0] + dt.timedelta(days=180)).isoformat(),
        "percent": 25,
        "legal_basis": "SK Bupati 800/12/2024; PP 94/2021 Pasal 8 ayat (3)",
    }
    # Only HR records it; a unit admin or the employee cannot.
    admin = await erk.grant(CHIEF, ["unit_admin"], unit="BIDANG")
    r = await erk.client.post("/api/v1/pay-adjustments", json=sentence, headers=admin)
    assert_problem(r, 403, "forbidden")
    r = await erk.client.post("/api/v1/pay-adjustments", json=sentence, headers=erk.hr)
    assert r.status_code == 201, r.text
    # STAFF2 acts (Plt) for half the month: 20 % of a 7.000.000 post, 10 of 20 working days.
    acting = {
        "nip": STAFF2,
        "kind": "acting",
        "start_date": days[10].isoformat(),
        "end_date": (days[-1] + dt.timedelta(days=40)).isoformat(),
        "percent": 20,
        "acting_base_idr": 7_000_000,
        "legal_basis": "Sprint Plt Kepala Bidang 821/45/2024",
    }
    r = await erk.client.post("/api/v1/pay-adjustments", json=acting, headers=erk.hr)
    assert r.status_code == 201, r.text
    bad = {**acting, "acting_base_idr": 0}
    assert_problem(await erk.client.post("/api/v1/pay-adjustments", json=bad, headers=erk.hr), 422)

    punished = await _recap(erk, period)
    # 5.000.000 earned, 25 % cut = 1.250.000: gross 3.750.000
    assert (punished["sanction_cut_idr"], punished["tpp_total_idr"]) == (1_250_000, 3_750_000)
    assert any("PP 94/2021" in line for line in punished["explanation"])
    plt = await _recap(erk, period, STAFF2)
    # 7.000.000 x 20 % x 10 / 20 = 700.000 on top of 5.000.000
    assert (plt["acting_addition_idr"], plt["tpp_total_idr"]) == (700_000, 5_700_000)


# -- every rule in 20-, 21- and 22-working-day months -------------------------------------------
#
# The same story under each rule in three month lengths, figured by hand from the rule text
# (services/erk/README.md, "Recap"): standard = 300 x (employed days - days that reduce it);
# productivity = floor(effective base x 60 % x achieved / standard); discipline = floor(effective
# base x 40 % x (100 % - 10 % per unexcused or unrecorded day)); effective base = floor(base x
# CPNS share x employed days / working days). Base Rp5.000.000 unless said.


async def _annual_leave(erk: Erk, days: list[dt.date]) -> dict[str, Any]:
    # Five days of annual leave, two days present without entries, the rest 300 minutes.
    await _attendance(erk, STAFF, days[:5], "leave")
    await _attendance(erk, STAFF, days[5:])
    await _work(erk, STAFF, days[7:], 300)
    return await _recap(erk, _period(days))


async def _sick_leave(erk: Erk, days: list[dt.date]) -> dict[str, Any]:
    # Three sick days, one day present without entries, the rest 300 minutes.
    await _attendance(erk, STAFF, days[:3], "sick")
    await _attendance(erk, STAFF, days[3:])
    await _work(erk, STAFF, days[4:], 300)
    return await _recap(erk, _period(days))


async def _missing_attendance(erk: Erk, days: list[dt.date]) -> dict[str, Any]:
    # The first two working days have neither attendance nor entries.
    await _attendance(erk, STAFF, days[2:])
    await _work(erk, STAFF, days[2:], 300)
    return await _recap(erk, _period(days))


async def _joiner(erk: Erk, days: list[dt.date]) -> dict[str, Any]:
    # Joins on the 11th working day, present every day from then, no entries on the first.
    await _newcomer(erk, joined_on=days[10].isoformat())
    await _attendance(erk, NEWCOMER, days[10:])
    await _work(erk, NEWCOMER, days[11:], 300)
    return await _recap(erk, _period(days), NEWCOMER)


async def _cpns(erk: Erk, days: list[dt.date]) -> dict[str, Any]:
    # A CPNS (80 %), present every day, no entries on the first.
    await _newcomer(erk, employment_status="cpns")
    await _attendance(erk, NEWCOMER, days)
    await _work(erk, NEWCOMER, days[1:], 300)
    return await _recap(erk, _period(days), NEWCOMER)


async def _net(erk: Erk, days: list[dt.date]) -> dict[str, Any]:
    # K/1 (TER category B), salary Rp4.500.000, and the two unrecorded days of _missing_attendance.
    await _newcomer(erk, ptkp_status="K/1", salary_gross_idr=4_500_000)
    await _attendance(erk, NEWCOMER, days[2:])
    await _work(erk, NEWCOMER, days[2:], 300)
    return await _recap(erk, _period(days), NEWCOMER)


def _period(days: list[dt.date]) -> str:
    return f"{days[0].year:04d}-{days[0].month:02d}"


MONTH_STORIES = {
    "annual_leave": _annual_leave,
    "sick_leave": _sick_leave,
    "missing_attendance": _missing_attendance,
    "joiner": _joiner,
    "cpns": _cpns,
    "net": _net,
}

# (story, working days): (standard minutes, productivity, discipline, gross TPP)
WORKED_MONTHS = {
    # standard 300 x (N - 5); achieved 300 x (N - 7)
    ("annual_leave", 20): (4500, 2_600_000, 2_000_000, 4_600_000),  # 3.000.000 x 13/15
    ("annual_leave", 21): (4800, 2_625_000, 2_000_000, 4_625_000),  # 3.000.000 x 14/16
    ("annual_leave", 22): (5100, 2_647_058, 2_000_000, 4_647_058),  # 3.000.000 x 15/17
    # standard 300 x (N - 3); achieved 300 x (N - 4)
    ("sick_leave", 20): (5100, 2_823_529, 2_000_000, 4_823_529),  # 3.000.000 x 16/17
    ("sick_leave", 21): (5400, 2_833_333, 2_000_000, 4_833_333),  # 3.000.000 x 17/18
    ("sick_leave", 22): (5700, 2_842_105, 2_000_000, 4_842_105),  # 3.000.000 x 18/19
    # standard 300 x N (an unrecorded day is not leave); discipline 100 - 2 x 10 = 80 %
    ("missing_attendance", 20): (6000, 2_700_000, 1_600_000, 4_300_000),  # x 18/20
    ("missing_attendance", 21): (6300, 2_714_285, 1_600_000, 4_314_285),  # x 19/21
    ("missing_attendance", 22): (6600, 2_727_272, 1_600_000, 4_327_272),  # x 20/22
    # base 5.000.000 x (N - 10)/N; standard 300 x (N - 10); achieved 300 x (N - 11)
    ("joiner", 20): (3000, 1_350_000, 1_000_000, 2_350_000),  # 2.500.000 x 60 % x 9/10
    ("joiner", 21): (3300, 1_428_571, 1_047_618, 2_476_189),  # 2.619.047 x 60 % x 10/11
    ("joiner", 22): (3600, 1_499_999, 1_090_908, 2_590_907),  # 2.727.272 x 60 % x 11/12
    # base 4.000.000; achieved 300 x (N - 1)
    ("cpns", 20): (6000, 2_280_000, 1_600_000, 3_880_000),  # 2.400.000 x 19/20
    ("cpns", 21): (6300, 2_285_714, 1_600_000, 3_885_714),  # 2.400.000 x 20/21
    ("cpns", 22): (6600, 2_290_909, 1_600_000, 3_890_909),  # 2.400.000 x 21/22
    ("net", 20): (6000, 2_700_000, 1_600_000, 4_300_000),
    ("net", 21): (6300, 2_714_285, 1_600_000, 4_314_285),
    ("net", 22): (6600, 2_727_272, 1_600_000, 4_327_272),
}

# Salary 4.500.000 + gross, TER B 1 % (7.300.001-9.200.000), salary alone 0 %; BPJS 1 % of
# (salary + gross) - 1 % of salary: (PPh 21, BPJS, net)
WORKED_NET = {
    20: (88_000, 43_000, 4_169_000),  # 1 % of 8.800.000; 88.000 - 45.000
    21: (88_142, 43_142, 4_183_001),  # floor(1 % of 8.814.285); 88.142 - 45.000
    22: (88_272, 43_272, 4_195_728),  # floor(1 % of 8.827.272); 88.272 - 45.000
}


@pytest.mark.parametrize(("story", "working_days"), sorted(WORKED_MONTHS))
async def test_worked_example_in_every_month_length(
    erk: Erk, story: str, working_days: int
) -> None:
    await erk.tree()
    _, days = _days(erk, working_days)
    assert len(days) == working_days
    row = await MONTH_STORIES[story](erk, days)
    standard, productivity, discipline, gross = WORKED_MONTHS[story, working_days]
    assert row["standard_minutes"] == standard
    assert _money(row) == (productivity, discipline, gross)
    if story == "net":
        assert (row["pph21_idr"], row["bpjs_idr"], row["tpp_net_idr"]) == WORKED_NET[working_days]
    else:
        # No salary recorded: PPh 21 on the TPP alone is 0 % (under TER A's 5.400.000), and the
        # BPJS share is 1 % of the TPP.
        assert (row["pph21_idr"], row["bpjs_idr"]) == (0, gross // 100)
        assert row["tpp_net_idr"] == gross - gross // 100
