"""Measure nine coverage as pure functions over plain data.

A class meets the goal when its home room has a working teaching terminal, a
wired link and usable Wi-Fi; a school, when it has a wired uplink and Wi-Fi.
Each measure is judged twice, side by side: by the inventory (what the county
believes) and by observation (what agents showed within the window).
"""
from __future__ import annotations

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
_COUNT_KEYS = {m: (f"{m}_inventory", f"{m}_observed") for m in MEASURES}  # tally adds these per class


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


# Schools, rooms, classes and room sightings are named tuples: a county has thousands of each,
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
    code: str
    school_code: str
    name: str
    terminals: int  # teaching terminals the inventory places in the room
    wired_planned: bool
    wireless_planned: bool


class SchoolClass(NamedTuple):
    code: str
    school_code: str
    grade: int
    name: str
    room_code: str | None


class RoomSeen(NamedTuple):
    """What agents showed in one room, from the reports made there (wherever the agent is now).
    The first three cover agents in service at the window's ``until`` and the window's days: one
    reported, one had a wired link up, one saw its school's own SSID at or above the threshold.
    The last two cover any agent on any day (for the disagreements)."""
    room_code: str
    school_code: str
    working: bool
    wired: bool
    wireless: bool
    ever_reported: bool
    ever_school_wifi: bool


@dataclass(frozen=True)
class Observed:
    working_rooms: frozenset[str]
    wired_rooms: frozenset[str]
    wireless_rooms: frozenset[str]
    wired_schools: frozenset[str]
    wireless_schools: frozenset[str]


def observe(seen: Iterable[RoomSeen]) -> Observed:
    """What the agents show per room, and per school (any of its rooms)."""
    seen = list(seen)
    wired = [r for r in seen if r.wired]
    wireless = [r for r in seen if r.wireless]
    return Observed(frozenset(r.room_code for r in seen if r.working), frozenset(r.room_code for r in wired),
                    frozenset(r.room_code for r in wireless), frozenset(r.school_code for r in wired),
                    frozenset(r.school_code for r in wireless))


Marks = dict[str, tuple[bool, bool]]  # measure -> (inventory, observed)


def class_marks(room: Room | None, observed: Observed) -> Marks:
    """A class shares its home room's coverage (classes sharing a room share it all)."""
    if room is None:
        return {m: (False, False) for m in CLASS_MEASURES}
    return {"class_terminal": (room.terminals > 0, room.code in observed.working_rooms),
            "class_wired": (room.wired_planned, room.code in observed.wired_rooms),
            "class_wireless": (room.wireless_planned, room.code in observed.wireless_rooms)}


def school_marks(school: School, observed: Observed) -> Marks:
    return {"school_wired": (school.wired_planned, school.code in observed.wired_schools),
            "school_wireless": (school.wireless_planned, school.code in observed.wireless_schools)}


def gap_status(inventory: bool, observed: bool) -> str | None:
    """None when observed; 'unobserved' when only the inventory claims it; else 'missing'."""
    if observed:
        return None
    return "unobserved" if inventory else "missing"


def node_keys(school: School) -> tuple[tuple[str, str], ...]:
    """The nodes a school's figures add up into, county first."""
    return (("county", ""), ("area", school.area_code), ("township", school.township_code),
            ("school", school.code))


def tally(schools: dict[str, School], rooms: dict[str, Room], classes: Iterable[SchoolClass],
          observed: Observed, nodes: Iterable[tuple[str, str]] = ()) -> dict[tuple[str, str], dict[str, int]]:
    """Counts of every node: the given ``nodes`` (so empty areas show zeros) and each school's ancestors."""
    totals: dict[tuple[str, str], dict[str, int]] = {key: dict.fromkeys(COUNTS, 0) for key in nodes}

    def add(counts: dict[str, int], marks: Marks, unit: str) -> None:
        counts[unit] += 1
        for measure, (inv, obs) in marks.items():
            inv_key, obs_key = _COUNT_KEYS[measure]
            counts[inv_key] += inv
            counts[obs_key] += obs

    # Count each school first, then add the schools up the levels: far fewer steps than class by level.
    for school in schools.values():
        add(totals.setdefault(("school", school.code), dict.fromkeys(COUNTS, 0)),
            school_marks(school, observed), "schools")
    for c in classes:
        add(totals[("school", c.school_code)], class_marks(rooms.get(c.room_code or ""), observed), "classes")
    for school in schools.values():
        own = totals[("school", school.code)]
        for key in node_keys(school)[:-1]:
            counts = totals.setdefault(key, dict.fromkeys(COUNTS, 0))
            for name, value in own.items():
                counts[name] += value
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
