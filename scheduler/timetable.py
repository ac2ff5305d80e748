"""The school timetable: when terminals are expected to be on (class hours on school days, not holidays).

Parsed from three plain texts so it fits in the hub's configuration:
class hours ``07:30-12:00,14:00-18:00``, school days ``mon,tue,wed,thu,fri`` and
holidays ``2026-10-01..2026-10-07,2027-01-01`` (county-local dates).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def parse_zone(text: str) -> ZoneInfo:
    try:
        return ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{text!r} is not a known time zone such as Asia/Shanghai") from None


def _minutes(text: str) -> int:
    hours, sep, minutes = text.strip().partition(":")
    if not sep or not hours.isdigit() or not minutes.isdigit() or len(minutes) != 2:
        raise ValueError(f"{text.strip()!r} is not a time such as 07:30")
    value = int(hours) * 60 + int(minutes)
    if int(minutes) > 59 or value > 24 * 60:
        raise ValueError(f"{text.strip()!r} is not a time of day between 00:00 and 24:00")
    return value


def parse_class_hours(text: str) -> tuple[tuple[int, int], ...]:
    """`07:30-12:00,14:00-18:00` as sorted (start, end) minutes after midnight."""
    periods = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        start, sep, end = part.partition("-")
        if not sep:
            raise ValueError(f"{part!r} is not a period such as 07:30-12:00")
        period = (_minutes(start), _minutes(end))
        if period[0] >= period[1]:
            raise ValueError(f"{part!r} ends before it starts")
        periods.append(period)
    periods.sort()
    for (_, end), (start, _) in zip(periods, periods[1:]):
        if start < end:
            raise ValueError(f"class hours {text!r} overlap")
    return tuple(periods)


def parse_school_days(text: str) -> frozenset[int]:
    """`mon,tue,wed,thu,fri` as weekday numbers (Monday is 0)."""
    days = set()
    for part in filter(None, (p.strip().lower() for p in text.split(","))):
        if part not in WEEKDAYS:
            raise ValueError(f"{part!r} is not a day; use {', '.join(WEEKDAYS)}")
        days.add(WEEKDAYS.index(part))
    return frozenset(days)


def parse_holidays(text: str) -> tuple[tuple[date, date], ...]:
    """`2026-10-01..2026-10-07,2027-01-01` as inclusive (first, last) date ranges."""
    ranges = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        first, _, last = part.partition("..")
        try:
            span = (date.fromisoformat(first.strip()), date.fromisoformat((last or first).strip()))
        except ValueError:
            raise ValueError(f"{part!r} is not a date (2026-10-01) or range (2026-10-01..2026-10-07)") from None
        if span[1] < span[0]:
            raise ValueError(f"{part!r} ends before it starts")
        ranges.append(span)
    return tuple(ranges)


@dataclass(frozen=True)
class Timetable:
    tz: ZoneInfo
    periods: tuple[tuple[int, int], ...]
    school_days: frozenset[int]
    holidays: tuple[tuple[date, date], ...] = ()

    @classmethod
    def parse(cls, tz: str, class_hours: str, school_days: str, holidays: str = "") -> "Timetable":
        return cls(parse_zone(tz), parse_class_hours(class_hours), parse_school_days(school_days), parse_holidays(holidays))

    def holiday(self, day: date) -> bool:
        return any(a <= day <= b for a, b in self.holidays)

    def school_day(self, day: date) -> bool:
        return day.weekday() in self.school_days and not self.holiday(day)

    def period_start(self, now: datetime) -> datetime | None:
        """When the class period going on at ``now`` began, or None outside class hours."""
        local = now.astimezone(self.tz)
        if not self.school_day(local.date()):
            return None
        minute = local.hour * 60 + local.minute
        for start, end in self.periods:
            if start <= minute < end:
                midnight = datetime.combine(local.date(), time(), self.tz)
                return (midnight + timedelta(minutes=start)).astimezone(now.tzinfo)
        return None

    def expected_on(self, now: datetime) -> bool:
        return self.period_start(now) is not None
