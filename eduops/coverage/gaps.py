"""The gap list and the disagreements between inventory and observation, as pure functions."""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from eduops.coverage.figures import (MEASURES, Observed, Room, RoomSeen, School, SchoolClass,
                                     class_marks, gap_status, school_marks)

STATUSES = ("missing", "unobserved")
DISAGREEMENTS = ("terminal_unseen", "agent_unlisted", "terminal_retired", "wifi_unseen")


@dataclass(frozen=True)
class Gap:
    """One class or school short of the goal, and what it lacks: {measure: status}."""
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


def gap_list(schools: dict[str, School], rooms: dict[str, Room], classes: Iterable[SchoolClass],
             observed: Observed) -> list[Gap]:
    """Every school and class short of the goal, each school's own gaps before its classes'."""
    by_school: dict[str, list[Gap]] = {code: [] for code in schools}
    for c in classes:
        marks = class_marks(rooms.get(c.room_code or ""), observed)
        missing = {m: st for m, (inv, obs) in marks.items() if (st := gap_status(inv, obs))}
        if missing:
            by_school[c.school_code].append(Gap(schools[c.school_code], c, missing))
    found = []
    for code, school in schools.items():
        own = {m: st for m, (inv, obs) in school_marks(school, observed).items() if (st := gap_status(inv, obs))}
        if own:
            found.append(Gap(school, None, own))
        found.extend(sorted(by_school[code], key=lambda g: (g.school_class.grade, g.school_class.code)))
    return found


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


def disagreements(schools: dict[str, School], rooms: dict[str, Room], seen: Iterable[RoomSeen],
                  live_agents: dict[str, int], retired: Iterable[tuple[str, str, str | None]]) -> list[Disagreement]:
    """Where inventory and agents disagree, over all time (not only the window):

    - terminal_unseen: the inventory places a terminal in a room no agent has ever reported from;
    - agent_unlisted: an agent in service reports from a room where the inventory lists no terminal;
    - terminal_retired: the inventory lists a terminal whose agent was retired (the terminal is gone);
    - wifi_unseen: the inventory says a school has Wi-Fi, its agents report, yet none ever saw its SSID.

    ``live_agents`` counts agents in service per room; ``retired`` is (terminal, school, room) of each
    inventory terminal retired and claimed by no agent in service.
    """
    reported_rooms: set[str] = set()
    reporting_schools: set[str] = set()
    wifi_schools: set[str] = set()
    for r in seen:
        if r.ever_reported:
            reported_rooms.add(r.room_code)
            reporting_schools.add(r.school_code)
        if r.ever_school_wifi:
            wifi_schools.add(r.school_code)
    found = []
    for room in rooms.values():
        school = schools[room.school_code]
        if room.terminals and room.code not in reported_rooms:
            found.append(Disagreement("terminal_unseen", school, room, detail={"terminals": room.terminals}))
        if not room.terminals and live_agents.get(room.code):
            found.append(Disagreement("agent_unlisted", school, room, detail={"agents": live_agents[room.code]}))
    for terminal, school_code, room_code in retired:
        found.append(Disagreement("terminal_retired", schools[school_code], rooms.get(room_code or ""),
                                  detail={"terminal": terminal}))
    for school in schools.values():
        if school.wireless_planned and school.code in reporting_schools and school.code not in wifi_schools:
            found.append(Disagreement("wifi_unseen", school, None, detail={"wifi_ssid": school.wifi_ssid}))
    order = {code: n for n, code in enumerate(schools)}  # schools come in area, township, code order
    return sorted(found, key=lambda d: (order[d.school.code], d.room.code if d.room else "", d.kind))
