"""Measure nine coverage as pure functions over plain data.

A class meets the goal when its home room has a working teaching terminal, a
wired link and usable Wi-Fi; a school, when it has a wired uplink and Wi-Fi.
Each measure is judged twice, side by side: by the inventory (what the county
believes) and by observation (what agents showed within the window).
"""
from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import NamedTuple

from eduops.clock import local_day, to_iso

CLASS_MEASURES = ("class_terminal", "class_wired", "class_wireless")
SCHOOL_MEASURES = ("school_wired", "school_wireless")
MEASURES = CLASS_MEASURES + SCHOOL_MEASURES
BASES = ("inventory", "observed")
# Every count kept per node and per daily snapshot, in this order.
COUNTS = ("classes", "schools") + tuple(f"{m}_{b}" for m in MEASURES for b in BASES)


@dataclass(frozen=True)
class Window:
    """The observation window, one rule for every measure: the last N county-local days, today
    included (``first_day`` to ``last_day``), and within them only what was reported by ``until``
    (the moment figures are taken for, so a backdated snapshot counts nothing reported after it)."""
    first_day: str
    last_day: str
    until: str


def observation_window(now: datetime, days: int, tz: str) -> Window:
    today = date.fromisoformat(local_day(now, tz))
    return Window(first_day=(today - timedelta(days=days - 1)).isoformat(), last_day=today.isoformat(),
                  until=to_iso(now))


# Schools, rooms and classes are named tuples: a county has thousands of each,
# built straight from database rows on every page and scrape.
class School(NamedTuple):
    code: str
    name: str
    township_code: str
    area_code: str
    stage: str
    small_scale: bool
    uplink_mbps: float
    wired_planned: bool
    wireless_planned: bool
    wifi_ssid: str


class Room(NamedTuple):
    """A room of the inventory and what agents showed in it, from the reports made there (wherever
    the agent is now). ``working``, ``wired`` and ``wireless`` cover agents in service at the
    window's ``until`` and the window's days: one reported, one had a wired link up, one saw its
    school's own SSID at or above the threshold. ``ever_reported`` and ``ever_school_wifi`` cover
    any agent on any day (for the disagreements); ``unlisted_agents`` counts the agents in service
    that have reported and stand in the room now, where the inventory lists no terminal (0 elsewhere)."""
    code: str
    school_code: str
    name: str
    terminals: int  # teaching terminals the inventory places in the room
    wired_planned: bool
    wireless_planned: bool
    working: bool = False
    wired: bool = False
    wireless: bool = False
    ever_reported: bool = False
    ever_school_wifi: bool = False
    unlisted_agents: int = 0


class SchoolClass(NamedTuple):
    code: str
    school_code: str
    grade: int
    name: str
    room_code: str | None


@dataclass(frozen=True)
class Observed:
    """The schools agents show wired and wireless: any of their rooms is (a room carries its own)."""
    wired_schools: frozenset[str]
    wireless_schools: frozenset[str]


def observe(rooms: Iterable[Room]) -> Observed:
    rooms = list(rooms)
    return Observed(frozenset(r.school_code for r in rooms if r.wired),
                    frozenset(r.school_code for r in rooms if r.wireless))


# ((measure, (inventory, observed)), ...) in MEASURES order. A tuple, so it can be hashed: a county's
# thousands of rooms fall into a few dozen kinds of marks, and what follows from marks (counts, gaps)
# is worked out once per kind.
Marks = tuple[tuple[str, tuple[bool, bool]], ...]


@functools.cache
def _class_marks(terminal: bool, working: bool, wired_planned: bool, wired: bool, wireless_planned: bool,
                 wireless: bool) -> Marks:
    return (("class_terminal", (terminal, working)), ("class_wired", (wired_planned, wired)),
            ("class_wireless", (wireless_planned, wireless)))


def class_marks(room: Room | None) -> Marks:
    """A class shares its home room's coverage (classes sharing a room share it all)."""
    if room is None:
        return _class_marks(False, False, False, False, False, False)
    return _class_marks(room.terminals > 0, room.working, room.wired_planned, room.wired, room.wireless_planned,
                        room.wireless)


def school_marks(school: School, observed: Observed) -> Marks:
    return (("school_wired", (school.wired_planned, school.code in observed.wired_schools)),
            ("school_wireless", (school.wireless_planned, school.code in observed.wireless_schools)))


def gap_status(inventory: bool, observed: bool) -> str | None:
    """None when observed; 'unobserved' when only the inventory claims it; else 'missing'."""
    if observed:
        return None
    return "unobserved" if inventory else "missing"


def node_keys(school: School) -> tuple[tuple[str, str], ...]:
    """The nodes a school's figures add up into, county first."""
    return (("county", ""), ("area", school.area_code), ("township", school.township_code),
            ("school", school.code))


_NO_CLASS = (0,) * (2 * len(CLASS_MEASURES))
_NO_SCHOOL = (0,) * (2 * len(SCHOOL_MEASURES))


@functools.cache
def _class_counts(marks: Marks) -> tuple[int, ...]:
    """One class's contribution to its node's counts, in COUNTS order (class marks come in CLASS_MEASURES')."""
    return (1, 0, *(int(v) for _, pair in marks for v in pair), *_NO_SCHOOL)


@functools.cache
def _school_counts(marks: Marks) -> tuple[int, ...]:
    return (0, 1, *_NO_CLASS, *(int(v) for _, pair in marks for v in pair))


def tally(schools: dict[str, School], rooms: dict[str, Room], classes: Iterable[SchoolClass],
          observed: Observed, nodes: Iterable[tuple[str, str]] = ()) -> dict[tuple[str, str], dict[str, int]]:
    """Counts of every node: the given ``nodes`` (so empty areas show zeros) and each school's ancestors."""
    # Each class and school contributes a row of counts; a node's counts are its rows added up
    # column by column (in C, by zip and sum), a school's from its classes', the levels' from schools'.
    zero = (0,) * len(COUNTS)
    rows = {code: [zero, _school_counts(school_marks(school, observed))] for code, school in schools.items()}
    for c in classes:
        rows[c.school_code].append(_class_counts(class_marks(rooms.get(c.room_code))))
    own = {code: tuple(map(sum, zip(*counted))) for code, counted in rows.items()}
    above: dict[tuple[str, str], list[tuple[int, ...]]] = {key: [zero] for key in nodes}
    for school in schools.values():
        for key in node_keys(school)[:-1]:
            above.setdefault(key, [zero]).append(own[school.code])
    totals = {key: dict(zip(COUNTS, map(sum, zip(*counted)))) for key, counted in above.items()}
    totals.update({("school", code): dict(zip(COUNTS, counts)) for code, counts in own.items()})
    return totals


def ratios(counts: dict[str, int]) -> dict[str, object]:
    """Counts with ratios against the goal of 100% (None where there is nothing to count)."""
    out: dict[str, object] = {"classes": counts["classes"], "schools": counts["schools"]}
    for measure in MEASURES:
        whole = counts["classes" if measure in CLASS_MEASURES else "schools"]
        entry: dict[str, object] = {}
        for basis in BASES:
            part = counts[f"{measure}_{basis}"]
            entry[basis] = part
            entry[basis + "_ratio"] = round(part / whole, 4) if whole else None
        out[measure] = entry
    return out
