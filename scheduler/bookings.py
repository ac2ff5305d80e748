"""Booking rules for sky-classroom sessions, as plain functions over plain data.

A session *claims* its source room, its host, every receiving room and some bandwidth for as
long as it lasts. ``check`` says what stands in the way of a new claim against the claims
already held (a ``Ledger``); ``suggest`` finds the nearest free slots of the same length. The
hub's store loads the ledger and writes the accepted claim in one transaction; nothing here
touches storage. Problems are data (a kind and what it is about): the hub puts them in words.
"""
from __future__ import annotations

import bisect
import functools
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Iterable, Mapping

from scheduler.timetable import Timetable

KINDS = ("open_lesson", "collective_research", "quality_course", "teacher_training", "recording")
STATES = ("pending", "booked", "rejected", "cancelled", "expired", "finished")
HOLDING = ("pending", "booked", "finished")  # the states that keep their slots; the others free them
EDITABLE = ("pending", "booked")
SOURCE_ROOM_KINDS = ("broadcast", "digital")
# No session may be this long (booking_max_minutes is bounded below it), so a session colliding
# with one at ``start`` began after ``start - LONGEST``: a check reads that range of an index only.
LONGEST = timedelta(hours=12)
COUNTY = ("county", "")
CALENDAR_KINDS = ("ends_before_start", "too_short", "too_long", "spans_days", "in_past",
                  "not_school_day", "holiday", "outside_hours", "too_late_for_approval")

Pool = tuple[str, str]  # ("school", code) or COUNTY


def school_pool(code: str) -> Pool:
    return ("school", code)


@dataclass(frozen=True)
class Claim:
    """What a session holds from ``start`` to ``end`` (half-open)."""
    start: datetime
    end: datetime
    source_room: str
    host: int
    receivers: frozenset[str] = frozenset()
    loads: tuple[tuple[Pool, float], ...] = ()  # Mbps it takes from each pool while it lasts
    id: int | None = None
    title: str = ""

    @functools.cached_property
    def rooms(self) -> frozenset[str]:
        return self.receivers | {self.source_room}

    @functools.cached_property
    def load_of(self) -> dict[Pool, float]:
        return dict(self.loads)


@dataclass(frozen=True)
class Problem:
    """One reason a claim cannot be had: what kind, about which room or school, against what."""
    kind: str
    resource: str = ""
    other: Claim | None = None
    need: float | None = None
    free: float | None = None


@dataclass(frozen=True)
class Rules:
    timetable: Timetable                   # zone, school days, holidays
    hours: tuple[tuple[int, int], ...]     # booking periods, minutes after local midnight
    buffer: timedelta                      # setup time kept free between sessions in one room
    min_length: timedelta
    max_length: timedelta
    stream_mbps: float
    live_share: float                      # share of a school's uplink live streams may use
    county_mbps: float                     # the county streaming server's egress
    terms: tuple[tuple[date, date], ...] = ()
    approval_required: bool = True
    approval_deadline: timedelta = timedelta(hours=24)  # a pending session expires this long before its start


def approval_problems(start: datetime, rules: Rules, now: datetime) -> list[Problem]:
    """A session that must wait for approval cannot start so soon that it would expire unapproved."""
    return [Problem("too_late_for_approval")] if start - rules.approval_deadline <= now else []


def stream_loads(source_school: str, live_receiver_schools: Iterable[str],
                 mbps: float) -> tuple[tuple[Pool, float], ...]:
    """Bandwidth of a live session: one stream up at the source school, one down at each live
    receiving room's school, and every receiving stream out of the county server. No live
    receiver (a recording) costs nothing."""
    schools = list(live_receiver_schools)
    if not schools or mbps <= 0:
        return ()
    load: dict[Pool, float] = defaultdict(float)
    load[school_pool(source_school)] += mbps
    for school in schools:
        load[school_pool(school)] += mbps
    load[COUNTY] = mbps * len(schools)
    return tuple(load.items())


def capacities(uplinks: Mapping[str, float], rules: Rules) -> dict[Pool, float]:
    """What each pool can give live streams: a share of each school's uplink, and the county server."""
    return {**{school_pool(code): mbps * rules.live_share for code, mbps in uplinks.items()},
            COUNTY: rules.county_mbps}


def no_uplink_problems(receiver_schools: Mapping[str, str], uplinks: Mapping[str, float],
                       recorded: bool) -> list[Problem]:
    """A school without an uplink on record cannot receive live; unless the session is recorded
    (its rooms then get the recording), that is a problem."""
    if recorded:
        return []
    return [Problem("no_uplink", school) for school in sorted(set(receiver_schools.values()))
            if uplinks.get(school, 0) <= 0]


def calendar_problems(start: datetime, end: datetime, rules: Rules, now: datetime) -> list[Problem]:
    """Whether the time itself is bookable: order, length, not past, a school day, inside the hours."""
    if end < start:
        return [Problem("ends_before_start")]
    found = []
    if end - start < rules.min_length:
        found.append(Problem("too_short"))
    elif end - start > rules.max_length:
        found.append(Problem("too_long"))
    if start < now:
        found.append(Problem("in_past"))
    tz = rules.timetable.tz
    local_start, local_end = start.astimezone(tz), end.astimezone(tz)
    day = local_start.date()
    midnight = datetime.combine(day, time(), tz)
    if local_end > midnight + timedelta(days=1):
        return found + [Problem("spans_days")]
    if rules.timetable.holiday(day):
        found.append(Problem("holiday", day.isoformat()))
    elif day.weekday() not in rules.timetable.school_days:
        found.append(Problem("not_school_day", day.isoformat()))
    first, last = _minutes(local_start, midnight), _minutes(local_end, midnight)
    if not any(a <= first and last <= b for a, b in rules.hours):
        found.append(Problem("outside_hours"))
    return found


def _minutes(moment: datetime, midnight: datetime) -> float:
    return (moment - midnight).total_seconds() / 60


def _keys(claim: Claim, kind: str) -> Iterable[Any]:
    if kind == "room":
        return claim.rooms
    return (claim.host,) if kind == "host" else claim.load_of


class Ledger:
    """The claims held that a new one could collide with, indexed by room, host and pool. Each kind
    of index is built in one pass the first time it is asked for, so a check pays only for what it uses."""

    def __init__(self, buffer: timedelta, claims: Iterable[Claim] = ()):
        self.buffer = buffer
        self._claims = sorted(claims, key=lambda c: c.start)
        self._index: dict[str, dict[Any, list[Claim]]] = {}          # kind -> key -> claims by start
        self._starts: dict[tuple[str, Any], list[datetime]] = {}     # the starts of the lines asked for

    @classmethod
    def of(cls, claims: Iterable[Claim], buffer: timedelta) -> "Ledger":
        return cls(buffer, claims)

    def add(self, claim: Claim) -> None:
        bisect.insort(self._claims, claim, key=lambda c: c.start)
        for kind, index in self._index.items():
            for key in _keys(claim, kind):
                bisect.insort(index.setdefault(key, []), claim, key=lambda c: c.start)
                self._starts.pop((kind, key), None)

    def near(self, kind: str, key: Any, start: datetime, end: datetime) -> list[Claim]:
        """Claims on one room, host or pool that start before ``end`` and could last until after ``start``."""
        if kind not in self._index:
            index: dict[Any, list[Claim]] = {}
            for claim in self._claims:
                for k in _keys(claim, kind):
                    index.setdefault(k, []).append(claim)
            self._index[kind] = index
        line = self._index[kind].get(key, [])
        starts = self._starts.get((kind, key))
        if starts is None:
            starts = self._starts[(kind, key)] = [c.start for c in line]
        return line[bisect.bisect_left(starts, start - LONGEST):bisect.bisect_left(starts, end)]


def conflicts(claim: Claim, ledger: Ledger) -> list[Problem]:
    """Every held claim that shares a room or the host with ``claim`` within the setup buffer.

    Two claims collide when each starts before the other's end plus the buffer, so a session
    may start exactly ``buffer`` after the last one in its room ends.
    """
    found = []
    wide_start, wide_end = claim.start - ledger.buffer, claim.end + ledger.buffer
    for room in sorted(claim.rooms):
        kind = "room_busy" if room == claim.source_room else "receiver_busy"
        near = ledger.near("room", room, wide_start, wide_end)
        found += [Problem(kind, room, other) for other in _colliding(near, claim, wide_start, wide_end)]
    found += [Problem("host_busy", str(claim.host), other)
              for other in _colliding(ledger.near("host", claim.host, wide_start, wide_end), claim, wide_start,
                                                   wide_end)]
    return found


def _colliding(near: list[Claim], claim: Claim, start: datetime, end: datetime) -> list[Claim]:
    return [o for o in near if o.start < end and start < o.end and (claim.id is None or o.id != claim.id)]


def peak_load(claims: Iterable[tuple[datetime, datetime, float]], start: datetime, end: datetime) -> float:
    """The highest sum of loads at any instant of ``[start, end)``, over (start, end, load) intervals."""
    events = []
    for s, e, load in claims:
        s, e = max(s, start), min(e, end)
        if s < e:
            events += [(s, 1, load), (e, 0, -load)]  # at one instant an end comes before a start
    events.sort(key=lambda ev: (ev[0], ev[1]))
    peak = running = 0.0
    for _at, _order, delta in events:
        running += delta
        peak = max(peak, running)
    return peak


def over_capacity(claim: Claim, ledger: Ledger, capacity: Mapping[Pool, float]) -> list[Problem]:
    """Every pool that could not carry ``claim``'s streams at some instant of it."""
    found = []
    for pool, mbps in claim.loads:
        held = [(o.start, o.end, o.load_of[pool]) for o in ledger.near("pool", pool, claim.start, claim.end)
                if o.end > claim.start and (claim.id is None or o.id != claim.id)]
        free = capacity.get(pool, 0.0) - peak_load(held, claim.start, claim.end)
        if mbps > free + 1e-9:
            found.append(Problem("county_bandwidth" if pool == COUNTY else "bandwidth", pool[1],
                                 need=mbps, free=round(max(free, 0.0), 3)))
    return found


def check(claim: Claim, ledger: Ledger, capacity: Mapping[Pool, float], rules: Rules,
          now: datetime) -> list[Problem]:
    """Everything that stands in the way of ``claim``: its time, its rooms and host, its bandwidth."""
    return (calendar_problems(claim.start, claim.end, rules, now) + conflicts(claim, ledger)
            + over_capacity(claim, ledger, capacity))


def suggest(claim: Claim, ledger: Ledger, capacity: Mapping[Pool, float], rules: Rules, now: datetime,
            count: int = 3, step: timedelta = timedelta(minutes=5),
            horizon: timedelta = timedelta(days=14)) -> list[tuple[datetime, datetime]]:
    """The ``count`` free slots of ``claim``'s length nearest to its start (later first at equal
    distance), on school days within the booking hours, not in the past, not overlapping each other.
    ``ledger`` must hold the claims of ``horizon`` either way."""
    length = claim.end - claim.start
    found: list[tuple[datetime, datetime]] = []
    for k in range(1, int(horizon / step) + 1):
        for start in (claim.start + k * step, claim.start - k * step):
            end = start + length
            if any(s < end and start < e for s, e in found):
                continue
            moved = Claim(start, end, claim.source_room, claim.host, claim.receivers, claim.loads, claim.id)
            if not check(moved, ledger, capacity, rules, now):
                found.append((start, end))
                if len(found) == count:
                    return found
    return found
