"""Working-day calendar of a regency, for SLA deadlines, late flags and reporting windows.

A day is a working day unless it falls on the weekend or is a holiday, and a regency can
override both ways (``extra_holidays``, ``extra_working_days``). Holidays come from:

* the ``holidays`` package (``country_holidays("ID", categories=...)``, names in Indonesian).
  Its ``public`` category holds the hari libur nasional, including one-off election days
  (Pemilu 14 Feb 2024, Pilkada 27 Nov 2024). Its ``government`` category holds the cuti
  bersama of the yearly SKB; it is used when ``include_cuti_bersama`` is true. For 2024-2027
  both categories match the SKB list in ``shared/data/libur_nasional.csv`` date for date
  (holidays 0.109). Years the package has not yet been updated for get no cuti bersama at
  all, and dates of Islamic holidays far ahead are estimates;
* optionally a reference CSV shaped like ``shared/data/libur_nasional.csv`` (``date``,
  ``name``, ``kind`` = ``libur_nasional`` | ``cuti_bersama``). Its dates are added and its
  names (SKB wording) win. Use it, or ``extra_holidays``, for changes announced after the
  installed package version (cuti bersama are amended mid-year, e.g. 18 Aug 2025);
* ``extra_holidays`` of the regency. Regional observances are in neither source.

Cuti bersama is leave taken collectively, not a national holiday in law, which is why it is a
switch. Public offices are closed on it, so it is on by default.

Per-year results are computed once per calendar and kept, and the package lookups are cached
per process, so counting working days over a list of files costs a few bisections each.
"""

from __future__ import annotations

import csv
import functools
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = ["INDONESIAN_TIMEZONES", "WorkingCalendar"]

# WIB, WITA and WIT. Indonesia has no daylight saving time, so local midnight is always
# a fixed offset from UTC, but going through zoneinfo keeps that knowledge out of our code.
INDONESIAN_TIMEZONES: frozenset[str] = frozenset({"Asia/Jakarta", "Asia/Makassar", "Asia/Jayapura"})

_REGIONAL_HOLIDAY_NAME = "Libur daerah"
_KINDS = frozenset({"libur_nasional", "cuti_bersama"})


@functools.lru_cache(maxsize=512)
def _package_holidays(year: int, category: str) -> Mapping[date, str]:
    """National days of one year and one category from the ``holidays`` package."""
    import holidays  # on first use: it costs start-up time and memory in every process

    # language must be explicit: without it the package picks the process locale, not "id".
    found = holidays.country_holidays("ID", years=year, categories=(category,), language="id")
    return {day: str(name) for day, name in found.items()}


@functools.lru_cache(maxsize=32)
def _read_reference(path: str, _mtime_ns: int, _size: int) -> Mapping[date, tuple[str, str]]:
    """``date → (kind, name)`` from a libur_nasional-shaped CSV; the stat values key the cache
    so an edited file is read again."""
    days: dict[date, tuple[str, str]] = {}
    with open(path, encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = {"date", "name", "kind"} - set(reader.fieldnames or ())
        if missing:
            raise ValueError(f"{path}: missing columns {sorted(missing)}")
        for line, row in enumerate(reader, start=2):
            try:
                day = date.fromisoformat(row["date"].strip())
            except ValueError:
                raise ValueError(f"{path}:{line}: bad date {row['date']!r}") from None
            kind = row["kind"].strip()
            if kind not in _KINDS:
                raise ValueError(f"{path}:{line}: unknown kind {kind!r}")
            name = row["name"].strip()
            if day in days:
                # Two rows on one date: a libur nasional outranks a cuti bersama.
                old_kind, old_name = days[day]
                kind = "libur_nasional" if "libur_nasional" in (kind, old_kind) else kind
                name = f"{old_name}; {name}"
            days[day] = (kind, name)
    return days


def _load_reference(path: Path) -> Mapping[date, tuple[str, str]]:
    resolved = path.resolve()
    stat = resolved.stat()
    return _read_reference(str(resolved), stat.st_mtime_ns, stat.st_size)


def _plain_date(value: date, what: str = "date") -> date:
    # A datetime is a date subclass; accepting one would silently use its own (often UTC)
    # calendar date instead of the regency's.
    if isinstance(value, datetime):
        raise TypeError(f"{what} must be a date, not a datetime; convert with local_date()")
    return value


@dataclass(frozen=True, slots=True)
class _Year:
    names: Mapping[date, str]  # holidays that are days off in this calendar
    working: tuple[int, ...]  # ordinals of the working days, ascending
    off: frozenset[int]  # ordinals of the days off


class WorkingCalendar:
    """Working days of one regency. Build one per tenant and keep it; it caches per year."""

    def __init__(
        self,
        timezone: str,
        *,
        extra_holidays: Iterable[date] | Mapping[date, str] = (),
        extra_working_days: Iterable[date] = (),
        include_cuti_bersama: bool = True,
        weekend: frozenset[int] = frozenset({5, 6}),
        reference_csv: Path | None = None,
    ) -> None:
        """``extra_holidays`` may be a mapping ``date → name`` to give regional days a name.

        ``extra_working_days`` beat every holiday and the weekend (a Saturday made a working
        day, or a cuti bersama the regency does not observe). A date in both lists is an error.
        """
        if timezone not in INDONESIAN_TIMEZONES:
            raise ValueError(
                f"timezone must be one of {sorted(INDONESIAN_TIMEZONES)}, not {timezone!r}"
            )
        try:
            self._tz = ZoneInfo(timezone)
        except ZoneInfoNotFoundError:
            raise ValueError(f"time zone data for {timezone!r} is not installed") from None
        weekend = frozenset(weekend)
        if not weekend <= set(range(7)) or len(weekend) == 7:
            raise ValueError("weekend must be a proper subset of weekday numbers 0-6")
        if isinstance(extra_holidays, Mapping):
            regional = {_plain_date(d): str(n) for d, n in extra_holidays.items()}
        else:
            regional = {_plain_date(d): _REGIONAL_HOLIDAY_NAME for d in extra_holidays}
        working = frozenset(_plain_date(d) for d in extra_working_days)
        clash = sorted(working & regional.keys())
        if clash:
            raise ValueError(f"dates both extra holidays and extra working days: {clash}")
        self._timezone_name = timezone
        self._regional: Mapping[date, str] = regional
        self._extra_working = working
        self._include_cuti_bersama = include_cuti_bersama
        self._weekend = weekend
        self._reference = _load_reference(reference_csv) if reference_csv is not None else {}
        self._years: dict[int, _Year] = {}

    @property
    def timezone(self) -> ZoneInfo:
        return self._tz

    @property
    def timezone_name(self) -> str:
        return self._timezone_name

    # --- per-year tables --------------------------------------------------------------------

    def _year(self, year: int) -> _Year:
        cached = self._years.get(year)
        if cached is None:
            cached = self._years[year] = self._build_year(year)
        return cached

    def _build_year(self, year: int) -> _Year:
        names = dict(_package_holidays(year, "public"))
        if self._include_cuti_bersama:
            for day, name in _package_holidays(year, "government").items():
                names.setdefault(day, name)
        for day, (kind, name) in self._reference.items():
            if day.year == year and (kind == "libur_nasional" or self._include_cuti_bersama):
                names[day] = name
        for day, name in self._regional.items():
            if day.year == year:
                names.setdefault(day, name)
        for day in self._extra_working:
            names.pop(day, None)

        first = date(year, 1, 1).toordinal()
        last = date(year, 12, 31).toordinal()
        working: list[int] = []
        off: set[int] = set()
        for ordinal in range(first, last + 1):
            day = date.fromordinal(ordinal)
            if day in self._extra_working or (
                day.weekday() not in self._weekend and day not in names
            ):
                working.append(ordinal)
            else:
                off.add(ordinal)
        return _Year(names=names, working=tuple(working), off=frozenset(off))

    # --- queries ----------------------------------------------------------------------------

    def is_working_day(self, d: date) -> bool:
        d = _plain_date(d)
        return d.toordinal() not in self._year(d.year).off

    def holiday_name(self, d: date) -> str | None:
        """Indonesian name of the holiday that makes ``d`` a day off, else ``None``.

        Weekends without a holiday and holidays overridden by ``extra_working_days`` give
        ``None``.
        """
        d = _plain_date(d)
        return self._year(d.year).names.get(d)

    def add_working_days(self, start: date, n: int) -> date:
        """The ``n``-th working day after ``start`` (``start`` itself not counted).

        ``n == 0`` returns ``start`` unchanged. For a working-day ``start``,
        ``working_days_between(start, add_working_days(start, n)) == n``.
        """
        start = _plain_date(start, "start")
        if n < 0:
            raise ValueError("n must be zero or more")
        if n == 0:
            return start
        year, after = start.year, start.toordinal()
        while True:
            working = self._year(year).working
            index = bisect_right(working, after)
            available = len(working) - index
            if n <= available:
                return date.fromordinal(working[index + n - 1])
            n -= available
            year += 1

    def working_days_between(self, start: date, end: date) -> int:
        """Number of working days in the half-open interval ``[start, end)``."""
        start, end = _plain_date(start, "start"), _plain_date(end, "end")
        if end <= start:
            return 0
        low, high = start.toordinal(), end.toordinal()
        total = 0
        for year in range(start.year, end.year + 1):
            working = self._year(year).working
            total += bisect_left(working, high) - bisect_left(working, low)
        return total

    def working_days_in_month(self, year: int, month: int) -> list[date]:
        if not 1 <= month <= 12:
            raise ValueError("month must be 1-12")
        first = date(year, month, 1)
        after = (first + timedelta(days=32)).replace(day=1)
        working = self._year(year).working
        lo = bisect_left(working, first.toordinal())
        hi = bisect_left(working, after.toordinal())
        return [date.fromordinal(ordinal) for ordinal in working[lo:hi]]

    # --- time zone --------------------------------------------------------------------------

    def local_date(self, moment: datetime) -> date:
        """Calendar date of an aware instant in the regency's time zone."""
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError("moment must be timezone-aware (store instants in UTC)")
        return moment.astimezone(self._tz).date()

    def local_midnight_utc(self, d: date) -> datetime:
        """The UTC instant at which local day ``d`` begins."""
        d = _plain_date(d)
        return datetime.combine(d, time(0), tzinfo=self._tz).astimezone(UTC)

    def now_local(self) -> datetime:
        return datetime.now(self._tz)

    def elapsed_working_days(self, start: datetime, end: datetime) -> int:
        """Working days between two aware instants, counted on their local dates as
        ``working_days_between(local_date(start), local_date(end))``."""
        return self.working_days_between(self.local_date(start), self.local_date(end))
