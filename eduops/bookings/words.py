"""Booking problems in words a teacher understands, in the request's language, and as JSON.

The rules (scheduler/bookings.py) say what is wrong as data; this module names the rooms,
schools and sessions concerned and shows times in the county's zone.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Mapping

from flask_babel import gettext as _

from eduops.clock import to_iso
from scheduler.bookings import Problem, Rules
from scheduler.recurrence import Occurrence, RepeatError


def _hm(moment: datetime, rules: Rules) -> str:
    return moment.astimezone(rules.timetable.tz).strftime("%H:%M")


def _mbps(value: float) -> str:
    return f"{value:g}"


def _hours(rules: Rules) -> str:
    return ", ".join(f"{a // 60:02d}:{a % 60:02d}–{b // 60:02d}:{b % 60:02d}" for a, b in rules.hours)


def _name(p: Problem, names: Mapping[str, str]) -> str:
    return names.get(f"host:{p.resource}" if p.kind == "host_busy" else p.resource, p.resource)


def message(p: Problem, names: Mapping[str, str], rules: Rules, start: datetime, end: datetime) -> str:
    """One problem of a session asked for ``start``-``end`` as a sentence; ``names`` maps room and
    school codes (and ``host:ID`` to a username) to what people call them."""
    name = _name(p, names)
    if p.kind in ("room_busy", "receiver_busy"):
        return _("%(room)s (%(code)s) is taken by “%(title)s”, %(start)s–%(end)s", room=name, code=p.resource,
                 title=p.other.title, start=_hm(p.other.start, rules), end=_hm(p.other.end, rules))
    if p.kind == "host_busy":
        return _("%(host)s already hosts “%(title)s”, %(start)s–%(end)s", host=name, title=p.other.title,
                 start=_hm(p.other.start, rules), end=_hm(p.other.end, rules))
    if p.kind == "bandwidth":
        return _("%(school)s has too little bandwidth: needs %(need)s Mbps, %(free)s Mbps left", school=name,
                 need=_mbps(p.need), free=_mbps(p.free))
    if p.kind == "county_bandwidth":
        return _("The county streaming server is full: needs %(need)s Mbps, %(free)s Mbps left",
                 need=_mbps(p.need), free=_mbps(p.free))
    if p.kind == "no_uplink":
        return _("%(school)s has no uplink on record, so it cannot receive live: tick “recorded” so it gets "
                 "the recording, or leave it out", school=name)
    return calendar_message(p, rules, start, end)


def calendar_message(p: Problem, rules: Rules, start: datetime, end: datetime) -> str:
    local = start.astimezone(rules.timetable.tz)
    if p.kind == "ends_before_start":
        return _("The end (%(end)s) comes before the start (%(start)s).", start=local.strftime("%Y-%m-%d %H:%M"),
                 end=end.astimezone(rules.timetable.tz).strftime("%Y-%m-%d %H:%M"))
    if p.kind == "too_short":
        return _("A session lasts at least %(minutes)s minutes.", minutes=int(rules.min_length.total_seconds() // 60))
    if p.kind == "too_long":
        return _("A session lasts at most %(minutes)s minutes.", minutes=int(rules.max_length.total_seconds() // 60))
    if p.kind == "in_past":
        return _("%(start)s has passed; pick a time from now on.", start=local.strftime("%Y-%m-%d %H:%M"))
    if p.kind == "spans_days":
        return _("A session starts and ends on the same day.")
    if p.kind == "holiday":
        return _("%(day)s is a holiday.", day=p.resource)
    if p.kind == "too_late_for_approval":
        return _("A session beyond your school waits for the county's approval, which must come %(hours)s hours "
                 "before it starts: book it at least that far ahead, or only for your own school's rooms.",
                 hours=int(rules.approval_deadline.total_seconds() // 3600))
    if p.kind == "not_school_day":
        return _("%(day)s is not a school day.", day=p.resource)
    return _("Sessions run within %(hours)s; this one runs %(start)s–%(end)s.", hours=_hours(rules),
             start=_hm(start, rules), end=_hm(end, rules))


def problem_json(p: Problem, names: Mapping[str, str], rules: Rules, start: datetime, end: datetime) -> dict[str, Any]:
    return {"kind": p.kind, "resource": _name(p, names) if p.kind == "host_busy" else p.resource,
            "session_id": p.other.id if p.other else None, "session_title": p.other.title if p.other else None,
            "starts_at": to_iso(p.other.start) if p.other else None,
            "ends_at": to_iso(p.other.end) if p.other else None,
            "need_mbps": p.need, "free_mbps": p.free, "message": message(p, names, rules, start, end)}


def occurrence_json(o: Occurrence, problems: list[dict[str, Any]]) -> dict[str, Any]:
    status = "skip" if o.skip else ("fails" if problems else "book")
    return {"day": o.day.isoformat(), "starts_at": to_iso(o.start), "ends_at": to_iso(o.end), "status": status,
            "reason": o.skip, "problems": problems}


def repeat_message(exc: RepeatError) -> str:
    p = exc.params
    if exc.code == "no_weekdays":
        return _("Pick at least one weekday for the series.")
    if exc.code == "weekday_not_school_day":
        return _("%(weekday)s is not a school day; a series repeats on school days only.", weekday=p["weekday"])
    if exc.code == "first_day_not_repeated":
        return _("The first session is on %(day)s (%(weekday)s), which is not one of the weekdays chosen.",
                 day=p["day"], weekday=p["weekday"])
    if exc.code == "until_before_start":
        return _("The series ends (%(until)s) before its first session (%(day)s).", until=p["until"], day=p["day"])
    if exc.code == "no_term":
        return _("%(day)s is in no school term configured (setting terms), so a series cannot start there; "
                 "book single sessions or ask the county admin.", day=p["day"])
    return _("The series runs until %(until)s, past the end of its term on %(term_end)s.", until=p["until"],
             term_end=p["term_end"])
