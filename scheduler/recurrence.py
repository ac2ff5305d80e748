"""Weekly series of sessions inside a school term, with holidays skipped.

The dates come from python-dateutil's ``rrule``: it is RFC 5545's recurrence rule itself, so
the series stored (its ``RRULE`` text) is the one calendar feeds announce, and the dates are
the ones a calendar app would compute from it.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timezone
from zoneinfo import ZoneInfo

from dateutil import rrule

from scheduler.timetable import WEEKDAYS, Timetable

_RRULE_DAYS = (rrule.MO, rrule.TU, rrule.WE, rrule.TH, rrule.FR, rrule.SA, rrule.SU)


class RepeatError(ValueError):
    """A series that cannot be made; ``code`` says why and ``params`` hold what the message needs."""

    def __init__(self, code: str, **params: object):
        super().__init__(code)
        self.code, self.params = code, params


@dataclass(frozen=True)
class Occurrence:
    day: date                # county-local date; stays the occurrence's key when it is moved
    start: datetime
    end: datetime
    skip: str | None = None  # "holiday": not booked, and never brought back


def term_of(day: date, terms: tuple[tuple[date, date], ...]) -> tuple[date, date] | None:
    return next((term for term in terms if term[0] <= day <= term[1]), None)


def weekly(start: datetime, end: datetime, weekdays: frozenset[int], until: date,
           timetable: Timetable, terms: tuple[tuple[date, date], ...]) -> tuple[str, list[Occurrence]]:
    """The RRULE text and every occurrence of a series whose first session is ``start``-``end``,
    repeated on ``weekdays`` (Monday 0) up to ``until`` inclusive, inside the first day's term."""
    tz: ZoneInfo = timetable.tz
    first_start, first_end = start.astimezone(tz), end.astimezone(tz)
    first = first_start.date()
    if not weekdays:
        raise RepeatError("no_weekdays")
    off = sorted(set(weekdays) - timetable.school_days)
    if off:
        raise RepeatError("weekday_not_school_day", weekday=WEEKDAYS[off[0]])
    if first.weekday() not in weekdays:
        raise RepeatError("first_day_not_repeated", day=first.isoformat(), weekday=WEEKDAYS[first.weekday()])
    if until < first:
        raise RepeatError("until_before_start", until=until.isoformat(), day=first.isoformat())
    term = term_of(first, terms)
    if term is None:
        raise RepeatError("no_term", day=first.isoformat())
    if until > term[1]:
        raise RepeatError("past_term", until=until.isoformat(), term_end=term[1].isoformat())
    last = datetime.combine(until, time(23, 59, 59), tz).astimezone(timezone.utc)
    rule = rrule.rrule(rrule.WEEKLY, dtstart=first_start, until=last,
                       byweekday=[_RRULE_DAYS[d] for d in sorted(weekdays)])
    # the RRULE as a feed announces it beside DTSTART (UNTIL in UTC, as RFC 5545 asks)
    text = (f"FREQ=WEEKLY;BYDAY={','.join(str(_RRULE_DAYS[d]) for d in sorted(weekdays))};"
            f"UNTIL={last:%Y%m%dT%H%M%SZ}")
    found = []
    for moment in rule:
        day = moment.date()
        found.append(Occurrence(day, datetime.combine(day, first_start.time(), tz),
                                datetime.combine(day, first_end.time(), tz),
                                "holiday" if timetable.holiday(day) else None))
    return text, found


def retime(day: date, start: datetime, end: datetime, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The local times of day of ``start``-``end``, on ``day``: an edit of the rest of a series."""
    local_start, local_end = start.astimezone(tz), end.astimezone(tz)
    return (datetime.combine(day, local_start.time(), tz),
            datetime.combine(day, local_end.time(), tz) + (local_end.date() - local_start.date()))
