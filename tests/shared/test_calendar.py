import csv
import random
import time
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from shared.calendar import WorkingCalendar

DATA = Path(__file__).resolve().parents[3] / "shared" / "data"


def reference_csv() -> Path:
    path = DATA / "libur_nasional.csv"
    if not path.is_file():
        pytest.skip("reference data ../shared/data not present")
    return path


def write_csv(path: Path, rows: list[tuple[str, str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["date", "name", "kind", "weekday", "basis", "verification", "note"])
        for day, name, kind in rows:
            writer.writerow([day, name, kind, "", "", "", ""])
    return path


# --- holidays and weekends --------------------------------------------------------------------


def test_idul_fitri_2024_is_not_a_working_day():
    cal = WorkingCalendar("Asia/Jakarta")
    assert not cal.is_working_day(date(2024, 4, 10))
    assert "Idul Fitri" in (cal.holiday_name(date(2024, 4, 10)) or "")
    assert cal.holiday_name(date(2024, 8, 17)) == "Hari Kemerdekaan Republik Indonesia"


def test_ordinary_days_and_weekends():
    cal = WorkingCalendar("Asia/Jakarta")
    assert cal.is_working_day(date(2024, 4, 2))  # Tuesday
    assert cal.holiday_name(date(2024, 4, 2)) is None
    assert not cal.is_working_day(date(2024, 4, 6))  # Saturday
    assert cal.holiday_name(date(2024, 4, 6)) is None  # a weekend is not a holiday


def test_election_day_2024_is_a_holiday():
    assert not WorkingCalendar("Asia/Jakarta").is_working_day(date(2024, 2, 14))


def test_cuti_bersama_follows_the_switch():
    day = date(2024, 4, 8)  # Monday, cuti bersama Idul Fitri
    assert not WorkingCalendar("Asia/Jakarta").is_working_day(day)
    without = WorkingCalendar("Asia/Jakarta", include_cuti_bersama=False)
    assert without.is_working_day(day)
    assert without.holiday_name(day) is None
    assert not without.is_working_day(date(2024, 4, 10))  # libur nasional stays


def test_cuti_bersama_with_reference_csv():
    path = reference_csv()
    day = date(2024, 4, 8)
    with_cuti = WorkingCalendar("Asia/Jakarta", reference_csv=path)
    assert not with_cuti.is_working_day(day)
    # The SKB wording from the CSV wins over the package's generic name.
    assert with_cuti.holiday_name(day) == "Cuti Bersama Idul Fitri 1445 Hijriah"
    without = WorkingCalendar("Asia/Jakarta", reference_csv=path, include_cuti_bersama=False)
    assert without.is_working_day(day)
    assert not without.is_working_day(date(2024, 4, 10))


def test_reference_csv_agrees_with_package_for_confirmed_years():
    path = reference_csv()
    package_only = WorkingCalendar("Asia/Jakarta")
    package_public = WorkingCalendar("Asia/Jakarta", include_cuti_bersama=False)
    with path.open(encoding="utf-8") as handle:
        rows = [row for row in csv.DictReader(handle) if row["date"] < "2027"]
    assert rows
    for row in rows:
        day = date.fromisoformat(row["date"])
        assert not package_only.is_working_day(day), row
        if row["kind"] == "libur_nasional":
            assert not package_public.is_working_day(day), row


def test_reference_csv_adds_days_the_package_does_not_know(tmp_path):
    cuti, libur = date(2030, 10, 7), date(2030, 10, 8)  # Monday, Tuesday
    assert WorkingCalendar("Asia/Jakarta").is_working_day(cuti)
    assert WorkingCalendar("Asia/Jakarta").is_working_day(libur)
    path = write_csv(
        tmp_path / "libur.csv",
        [(cuti.isoformat(), "Cuti Bersama Uji", "cuti_bersama"),
         (libur.isoformat(), "Libur Uji", "libur_nasional")],
    )  # fmt: skip
    cal = WorkingCalendar("Asia/Jayapura", reference_csv=path)
    assert not cal.is_working_day(cuti)
    assert cal.holiday_name(libur) == "Libur Uji"
    no_cuti = WorkingCalendar("Asia/Jayapura", reference_csv=path, include_cuti_bersama=False)
    assert no_cuti.is_working_day(cuti)
    assert not no_cuti.is_working_day(libur)


@pytest.mark.parametrize(
    ("rows", "reason"),
    [
        ([("2030-13-01", "x", "libur_nasional")], "bad date"),
        ([("2030-10-07", "x", "libur_daerah")], "unknown kind"),
    ],
)
def test_bad_reference_csv(tmp_path, rows, reason):
    with pytest.raises(ValueError, match=reason):
        WorkingCalendar("Asia/Jakarta", reference_csv=write_csv(tmp_path / "bad.csv", rows))


def test_regency_overrides():
    saturday, cuti, regional = date(2024, 4, 13), date(2024, 4, 8), date(2024, 4, 2)
    cal = WorkingCalendar(
        "Asia/Jakarta",
        extra_holidays={regional: "Hari Jadi Kabupaten"},
        extra_working_days=[saturday, cuti],
    )
    assert cal.is_working_day(saturday)
    assert cal.is_working_day(cuti)
    assert cal.holiday_name(cuti) is None
    assert not cal.is_working_day(regional)
    assert cal.holiday_name(regional) == "Hari Jadi Kabupaten"
    unnamed = WorkingCalendar("Asia/Jakarta", extra_holidays=[regional])
    assert unnamed.holiday_name(regional) == "Libur daerah"


def test_custom_weekend():
    six_day_week = WorkingCalendar("Asia/Makassar", weekend=frozenset({6}))
    assert six_day_week.is_working_day(date(2024, 4, 20))  # Saturday
    assert not six_day_week.is_working_day(date(2024, 4, 21))  # Sunday


@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        ({"timezone": "Asia/Singapore"}, "timezone"),
        ({"timezone": "Asia/Bandung"}, "timezone"),
        ({"timezone": "WIB"}, "timezone"),
        ({"timezone": "Asia/Jakarta", "weekend": frozenset({7})}, "weekend"),
        ({"timezone": "Asia/Jakarta", "weekend": frozenset(range(7))}, "weekend"),
        (
            {
                "timezone": "Asia/Jakarta",
                "extra_holidays": [date(2024, 4, 2)],
                "extra_working_days": [date(2024, 4, 2)],
            },
            "both",
        ),
    ],
)
def test_invalid_configuration(kwargs, reason):
    with pytest.raises(ValueError, match=reason):
        WorkingCalendar(**kwargs)


def test_datetimes_are_not_accepted_as_dates():
    cal = WorkingCalendar("Asia/Jakarta")
    with pytest.raises(TypeError):
        cal.is_working_day(datetime(2024, 4, 10, tzinfo=UTC))
    with pytest.raises(TypeError):
        cal.working_days_between(datetime(2024, 4, 1, tzinfo=UTC), date(2024, 5, 1))


# --- arithmetic -------------------------------------------------------------------------------


def test_add_working_days_over_lebaran_2024():
    friday = date(2024, 4, 5)
    cal = WorkingCalendar("Asia/Jakarta")
    # 8, 9 cuti; 10, 11 Idul Fitri; 12 cuti; 13-14 weekend; 15 cuti.
    assert cal.add_working_days(friday, 1) == date(2024, 4, 16)
    assert cal.add_working_days(friday, 2) == date(2024, 4, 17)
    no_cuti = WorkingCalendar("Asia/Jakarta", include_cuti_bersama=False)
    assert no_cuti.add_working_days(friday, 1) == date(2024, 4, 8)
    assert no_cuti.add_working_days(friday, 3) == date(2024, 4, 12)


def test_add_working_days_edges():
    cal = WorkingCalendar("Asia/Jakarta")
    assert cal.add_working_days(date(2024, 4, 6), 0) == date(2024, 4, 6)
    assert cal.add_working_days(date(2024, 4, 6), 1) == date(2024, 4, 16)  # from a Saturday
    assert cal.add_working_days(date(2024, 12, 31), 1) == date(2025, 1, 2)  # 1 Jan is a holiday
    assert cal.add_working_days(date(2024, 1, 1), 600) > date(2026, 4, 1)
    with pytest.raises(ValueError, match="n must be"):
        cal.add_working_days(date(2024, 4, 6), -1)


def test_working_days_between_is_half_open():
    cal = WorkingCalendar("Asia/Jakarta")
    monday = date(2024, 3, 4)
    assert cal.working_days_between(monday, monday + timedelta(days=7)) == 5
    assert cal.working_days_between(monday, monday + timedelta(days=1)) == 1
    assert cal.working_days_between(monday, monday) == 0
    assert cal.working_days_between(monday + timedelta(days=7), monday) == 0


def brute_force_between(cal: WorkingCalendar, start: date, end: date) -> int:
    count, day = 0, start
    while day < end:
        count += cal.is_working_day(day)
        day += timedelta(days=1)
    return count


def test_arithmetic_agrees_with_day_by_day_counting():
    cal = WorkingCalendar("Asia/Makassar", extra_working_days=[date(2025, 1, 4)])
    rng = random.Random(20240410)
    origin = date(2023, 6, 1)
    for _ in range(300):
        start = origin + timedelta(days=rng.randrange(1200))
        end = start + timedelta(days=rng.randrange(-5, 500))
        assert cal.working_days_between(start, end) == brute_force_between(cal, start, end)
        n = rng.randrange(0, 300)
        result = cal.add_working_days(start, n)
        assert brute_force_between(cal, start + timedelta(days=1), result + timedelta(days=1)) == n
        if n:
            assert cal.is_working_day(result)
        if cal.is_working_day(start):
            assert cal.working_days_between(start, result) == n


def test_working_days_in_month():
    cal = WorkingCalendar("Asia/Jakarta")
    april = cal.working_days_in_month(2024, 4)
    assert april == [
        d
        for d in (date(2024, 4, 1) + timedelta(days=i) for i in range(30))
        if cal.is_working_day(d)
    ]
    assert date(2024, 4, 10) not in april
    assert april[0] == date(2024, 4, 1)
    assert len(cal.working_days_in_month(2024, 12)) == brute_force_between(
        cal, date(2024, 12, 1), date(2025, 1, 1)
    )
    with pytest.raises(ValueError, match="month must be"):
        cal.working_days_in_month(2024, 13)


def test_many_sla_computations_are_fast():
    cal = WorkingCalendar("Asia/Jakarta")
    cal.working_days_between(date(2020, 1, 1), date(2028, 1, 1))  # warm the per-year tables
    started = time.perf_counter()
    for i in range(5000):
        cal.working_days_between(date(2020, 1, 1) + timedelta(days=i % 700), date(2027, 6, 1))
        cal.add_working_days(date(2024, 1, 1) + timedelta(days=i % 365), 14)
    assert time.perf_counter() - started < 2.0


# --- time zones -------------------------------------------------------------------------------


def test_local_midnight_utc():
    day = date(2026, 1, 5)
    jakarta = WorkingCalendar("Asia/Jakarta").local_midnight_utc(day)
    assert jakarta == datetime(2026, 1, 4, 17, 0, tzinfo=UTC)
    assert jakarta.utcoffset() == timedelta(0)
    jayapura = WorkingCalendar("Asia/Jayapura").local_midnight_utc(day)
    assert jayapura == datetime(2026, 1, 4, 15, 0, tzinfo=UTC)
    makassar = WorkingCalendar("Asia/Makassar").local_midnight_utc(day)
    assert makassar == datetime(2026, 1, 4, 16, 0, tzinfo=UTC)


def test_local_date():
    cal = WorkingCalendar("Asia/Jakarta")
    assert cal.local_date(datetime(2026, 1, 4, 17, 0, tzinfo=UTC)) == date(2026, 1, 5)
    assert cal.local_date(datetime(2026, 1, 4, 16, 59, 59, tzinfo=UTC)) == date(2026, 1, 4)
    plus9 = timezone(timedelta(hours=9))
    assert cal.local_date(datetime(2026, 1, 5, 0, 30, tzinfo=plus9)) == date(2026, 1, 4)
    with pytest.raises(ValueError, match="timezone-aware"):
        cal.local_date(datetime(2026, 1, 5, 12, 0))


def test_elapsed_working_days_uses_local_dates():
    cal = WorkingCalendar("Asia/Jayapura")
    # Friday 2026-01-02 23:00 WIT is still Friday 14:00 UTC; Monday 01:00 WIT is Sunday UTC.
    submitted = datetime(2026, 1, 2, 14, 0, tzinfo=UTC)
    checked = datetime(2026, 1, 4, 16, 0, tzinfo=UTC)
    assert cal.local_date(checked) == date(2026, 1, 5)
    assert cal.elapsed_working_days(submitted, checked) == 1
    with pytest.raises(ValueError, match="timezone-aware"):
        cal.elapsed_working_days(datetime(2026, 1, 2), checked)


def test_now_local_is_aware_in_the_regency_zone():
    now = WorkingCalendar("Asia/Makassar").now_local()
    assert now.utcoffset() == timedelta(hours=8)
