"""Sessions as an iCalendar feed (RFC 5545), for the calendar apps teachers and schools already use.

Written with the `icalendar` library rather than by hand: folding long lines, escaping
commas and semicolons in Chinese titles, and a correct VTIMEZONE are exactly what
hand-written feeds get wrong. The output depends only on the sessions, so the same data
gives the same bytes (an ETag and a cache can rely on it).

Each occurrence of a series is its own event with its own UID: the hub stores
occurrences, and a calendar app then shows every exception exactly as booked.
"""
from __future__ import annotations

import functools
from datetime import date, timedelta
from typing import Any, Iterable, Mapping
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, Timezone

from eduops.clock import from_iso

PRODID = "-//EduOps//Sky classroom//ZH"
FIRST_DAY = date(2000, 1, 1)
REFRESH = timedelta(minutes=30)  # how often a subscribed app should fetch again
STATUS = {"pending": "TENTATIVE", "booked": "CONFIRMED", "finished": "CONFIRMED",
          "cancelled": "CANCELLED", "rejected": "CANCELLED", "expired": "CANCELLED"}


@functools.lru_cache(maxsize=4)
def vtimezone(tz: str) -> Timezone:
    """The zone's VTIMEZONE: the same for every feed, and costly to work out (icalendar walks the years day
    by day), so made once. It starts in 2000: feeds hold no older sessions, and China's last daylight
    saving time (1991) would only add rules that never apply."""
    return Timezone.from_tzid(tz, first_date=FIRST_DAY)


def uid(session_id: int, hub_id: str) -> str:
    """The event's UID for good: the session's number on this hub (hub ids differ between counties)."""
    return f"session-{session_id}@{hub_id}.eduops"


def calendar(name: str, sessions: Iterable[Mapping[str, Any]], hub_id: str, tz: str,
             describe: Any, link: Any) -> bytes:
    """One feed. ``describe(session)`` gives (summary, location, description) in the reader's
    language; ``link(session)`` the session page's full URL."""
    zone = ZoneInfo(tz)
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", name)
    cal.add("x-wr-timezone", tz)
    cal.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", REFRESH)
    cal.add_component(vtimezone(tz))
    for s in sessions:
        summary, location, description = describe(s)
        changed = from_iso(s["updated_at"])
        event = Event()
        event.add("uid", uid(s["id"], hub_id))
        event.add("dtstamp", changed)
        event.add("last-modified", changed)
        event.add("created", from_iso(s["created_at"]))
        event.add("sequence", s["version"])
        event.add("status", STATUS[s["state"]])
        event.add("dtstart", from_iso(s["starts_at"]).astimezone(zone))
        event.add("dtend", from_iso(s["ends_at"]).astimezone(zone))
        event.add("summary", summary)
        event.add("location", location)
        event.add("description", description)
        event.add("url", link(s))
        cal.add_component(event)
    return cal.to_ical()
