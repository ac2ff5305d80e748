"""The gap list and the disagreements between inventory and observation, as pure functions."""
from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple

from eduops.coverage.figures import (MEASURES, Marks, Observed, Room, School, SchoolClass, class_marks,
                                     gap_status, school_marks)

STATUSES = ("missing", "unobserved")
DISAGREEMENTS = ("terminal_unseen", "agent_unlisted", "terminal_retired", "wifi_unseen")


class Gap(NamedTuple):
    """One class or school short of the goal, and what it lacks: {measure: status} (classes sharing
    a room share one dict: read it, never change it). A named tuple: a county has thousands."""
    school: School
    school_class: SchoolClass | None  # None for a school's own gaps (uplink, Wi-Fi)
    missing: dict[str, str]

    @property
    def level(self) -> str:
        return "school" if self.school_class is None else "class"


@dataclass(frozen=True)
class GapFilter:
    """Empty fields match everything; ``small_scale`` picks one side of measure four's line."""
    area: str = ""
    township: str = ""
    school: str = ""
    stage: str = ""
    measure: str = ""
    status: str = ""
    small_scale: bool | None = None

    def matches_school(self, s: School) -> bool:
        return not ((self.area and s.area_code != self.area) or (self.township and s.township_code != self.township)
                    or (self.school and s.code != self.school) or (self.stage and s.stage != self.stage)
                    or (self.small_scale is not None and s.small_scale != self.small_scale))

    def matches(self, gap: Gap) -> bool:
        return self.matches_school(gap.school) and any(
            (not self.measure or m == self.measure) and (not self.status or st == self.status)
            for m, st in gap.missing.items())


@functools.cache
def _short(marks: Marks) -> dict[str, str]:
    """The measures ``marks`` lack, with their status: one dict per kind of marks, shared (read it only)."""
    return {m: st for m, (inv, obs) in marks if (st := gap_status(inv, obs))}


def gap_list(schools: dict[str, School], rooms: dict[str, Room], classes: Iterable[SchoolClass],
             observed: Observed) -> list[Gap]:
    """Every school and class short of the goal, each school's own gaps before its classes'."""
    by_school: dict[str, list[Gap]] = {code: [] for code in schools}
    for c in classes:
        missing = _short(class_marks(rooms.get(c.room_code)))
        if missing:
            by_school[c.school_code].append(Gap(schools[c.school_code], c, missing))
    found = []
    for code, school in schools.items():
        own = _short(school_marks(school, observed))
        if own:
            found.append(Gap(school, None, own))
        found.extend(sorted(by_school[code], key=lambda g: (g.school_class.grade, g.school_class.code)))
    return found


GapKind = tuple[str, str, tuple[tuple[str, str], ...]]  # (area, level, ((measure, status), ...))


def gap_kinds(schools: dict[str, School], rooms: dict[str, Room], classes: Iterable[SchoolClass],
              observed: Observed) -> Counter[GapKind]:
    """The gap list's rows counted by area, level and what they lack, without listing them (what
    /metrics needs of a county's thousands of gaps: the rows fall into a few dozen kinds)."""
    marked = Counter((schools[c.school_code].area_code, class_marks(rooms.get(c.room_code))) for c in classes)
    kinds: Counter[GapKind] = Counter()
    for (area, marks), count in marked.items():
        if missing := _short(marks):
            kinds[(area, "class", tuple(missing.items()))] += count
    for school in schools.values():
        if missing := _short(school_marks(school, observed)):
            kinds[(school.area_code, "school", tuple(missing.items()))] += 1
    return kinds


def gap_counts(gaps: Iterable[Gap]) -> dict[str, dict[str, int]]:
    """How many classes or schools lack each measure, by status."""
    counts = {m: dict.fromkeys(STATUSES, 0) for m in MEASURES}
    for gap in gaps:
        for measure, status in gap.missing.items():
            counts[measure][status] += 1
    return counts


@dataclass(frozen=True)
class Disagreement:
    kind: str
    school: School
    room: Room | None
    detail: dict[str, object]  # terminals listed, agents reporting, the retired terminal, or the SSID never seen


def disagreements(schools: dict[str, School], rooms: dict[str, Room],
                  retired: Iterable[tuple[str, str, str | None]]) -> list[Disagreement]:
    """Where inventory and agents disagree, over all time (not only the window):

    - terminal_unseen: the inventory places a terminal in a room no agent has ever reported from;
    - agent_unlisted: an agent in service reports from a room where the inventory lists no terminal;
    - terminal_retired: the inventory lists a terminal whose agent was retired (the terminal is gone);
    - wifi_unseen: the inventory says a school has Wi-Fi, its agents report, yet none ever saw its SSID.

    ``retired`` is (terminal, school, room) of each inventory terminal retired and claimed by no
    agent in service.
    """
    reporting_schools: set[str] = set()
    wifi_schools: set[str] = set()
    found = []
    for room in rooms.values():
        if room.ever_reported:
            reporting_schools.add(room.school_code)
        if room.ever_school_wifi:
            wifi_schools.add(room.school_code)
        if room.terminals and not room.ever_reported:
            found.append(Disagreement("terminal_unseen", schools[room.school_code], room,
                                      detail={"terminals": room.terminals}))
        if not room.terminals and room.unlisted_agents:
            found.append(Disagreement("agent_unlisted", schools[room.school_code], room,
                                      detail={"agents": room.unlisted_agents}))
    for terminal, school_code, room_code in retired:
        found.append(Disagreement("terminal_retired", schools[school_code], rooms.get(room_code or ""),
                                  detail={"terminal": terminal}))
    for school in schools.values():
        if school.wireless_planned and school.code in reporting_schools and school.code not in wifi_schools:
            found.append(Disagreement("wifi_unseen", school, None, detail={"wifi_ssid": school.wifi_ssid}))
    order = {code: n for n, code in enumerate(schools)}  # schools come in area, township, code order
    return sorted(found, key=lambda d: (order[d.school.code], d.room.code if d.room else "", d.kind))
