"""Coverage of one scope at one moment: loaded once, then read by the pages, the API and the snapshot job.

Every figure the pages show comes from here in the same shape as the JSON API
gives it, so the two can never disagree.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Any

import sqlite_utils

from eduops import county
from eduops.config import Config
from eduops.coverage import figures, gaps, store
from eduops.coverage.figures import Observed, Room, School, SchoolClass, Window
from eduops.errors import ApiError

CHILD_LEVEL = {"county": "area", "area": "township", "township": "school"}


@dataclass
class CoverageReport:
    window: Window
    scope: store.Scope
    areas: list[dict[str, str]]
    townships: dict[str, dict[str, str]]
    schools: dict[str, School]
    rooms: dict[str, Room]
    classes: list[SchoolClass]

    @cached_property
    def observed(self) -> Observed:
        return figures.observe(self.rooms.values())

    @cached_property
    def totals(self) -> dict[tuple[str, str], dict[str, int]]:
        # County-wide, every area and township shows even when empty; a scope shows only its own.
        nodes = [("county", "")] if self.scope is not None else (
            [("county", "")] + [("area", a["code"]) for a in self.areas]
            + [("township", t) for t in self.townships])
        return figures.tally(self.schools, self.rooms, self.classes, self.observed, nodes)

    @cached_property
    def gap_list(self) -> list[gaps.Gap]:
        return gaps.gap_list(self.schools, self.rooms, self.classes, self.observed)

    @cached_property
    def _area_names(self) -> dict[str, dict[str, str]]:
        return {a["code"]: a for a in self.areas}

    def names(self, level: str, code: str) -> dict[str, str]:
        """{'name': Chinese name, 'name_en': English name} of a node (places have only one name)."""
        if level == "county":
            return {"name": "", "name_en": ""}
        if level == "area":
            area = self._area_names[code]
            return {"name": area["name_zh"], "name_en": area["name_en"]}
        name = self.townships[code]["name"] if level == "township" else self.schools[code].name
        return {"name": name, "name_en": name}

    def parents(self, level: str, code: str) -> list[tuple[str, str]]:
        """The nodes above one node, county first."""
        if level == "school":
            return list(figures.node_keys(self.schools[code])[:-1])
        if level == "township":
            return [("county", ""), ("area", self.townships[code]["area_code"])]
        return [("county", "")] if level == "area" else []

    def node(self, level: str, code: str) -> dict[str, Any]:
        """One node of the drill-down (county, area, township, school) with its children's figures."""
        if (level, code) not in self.totals:
            raise ApiError(404, "not_found", f"No {level} with code {code!r} in your view of the county; "
                                             "pick one from the level above.")
        out = {"level": level, "code": code, **self.names(level, code),
               "parents": [{"level": lv, "code": c, **self.names(lv, c)} for lv, c in self.parents(level, code)],
               "figures": figures.ratios(self.totals[(level, code)])}
        if level == "school":
            school = self.schools[code]
            out["school"] = school_json(school)
            out["marks"] = marks_json(figures.school_marks(school, self.observed))
            out["classes"] = [self.class_row(c) for c in self.classes if c.school_code == code]
        else:
            child = CHILD_LEVEL[level]
            out["children"] = [{"level": child, "code": c, **self.names(child, c),
                                "figures": figures.ratios(self.totals[(child, c)])}
                               for lv, c in self.totals if lv == child and self.parents(child, c)[-1] == (level, code)]
        return out

    def class_detail(self, db: sqlite_utils.Database, code: str) -> dict[str, Any]:
        """One class: its marks, its room's inventory terminals and the agents there with their window's days."""
        found = next((c for c in self.classes if c.code == code), None)
        if found is None:
            raise ApiError(404, "not_found", f"No class with code {code!r}; pick one from its school.")
        room = self.rooms.get(found.room_code or "")
        parents = list(figures.node_keys(self.schools[found.school_code]))
        return {"level": "class", "code": code, "name": found.name,
                "parents": [{"level": lv, "code": c, **self.names(lv, c)} for lv, c in parents],
                "window": {"first_day": self.window.first_day, "last_day": self.window.last_day,
                           "until": self.window.until},
                "class": self.class_row(found), "school": school_json(self.schools[found.school_code]),
                "room": None if room is None else {
                    "code": room.code, "name": room.name, "wired_planned": room.wired_planned,
                    "wireless_planned": room.wireless_planned},
                "terminals": store.room_terminals(db, room.code) if room else [],
                "agents": store.room_agents(db, room.code, self.window) if room else []}

    def class_row(self, c: SchoolClass) -> dict[str, Any]:
        room = self.rooms.get(c.room_code or "")
        return {"code": c.code, "name": c.name, "grade": c.grade, "room_code": c.room_code,
                "room_name": room.name if room else None,
                "marks": marks_json(figures.class_marks(room))}


def school_json(s: School) -> dict[str, Any]:
    return {"code": s.code, "name": s.name, "township_code": s.township_code, "area_code": s.area_code,
            "stage": s.stage, "small_scale": s.small_scale, "uplink_mbps": s.uplink_mbps,
            "wired_planned": s.wired_planned, "wireless_planned": s.wireless_planned, "wifi_ssid": s.wifi_ssid,
            "wifi_ssids": list(county.school_ssids(s.wifi_ssid))}


def marks_json(marks: figures.Marks) -> dict[str, dict[str, bool]]:
    return {m: {"inventory": inv, "observed": obs} for m, (inv, obs) in marks}


def load(db: sqlite_utils.Database, config: Config, now: datetime, scope: store.Scope) -> CoverageReport:
    """The scope's part of the county's inventory, and what agents showed in its rooms."""
    window = figures.observation_window(now, config.coverage_window_days, config.timezone)
    listed = store.inventory(db)
    rooms = store.rooms(db, listed.rooms, window, config.coverage_wifi_min_dbm, scope)
    if scope is None:
        return CoverageReport(window, scope, listed.areas, listed.townships, listed.schools, rooms, listed.classes)
    schools = {code: s for code, s in listed.schools.items() if code in scope}
    held = {s.township_code for s in schools.values()}
    return CoverageReport(window, scope, listed.areas, {c: t for c, t in listed.townships.items() if c in held},
                          schools, rooms, [c for c in listed.classes if c.school_code in scope])


def disagreements(db: sqlite_utils.Database, report: CoverageReport) -> list[gaps.Disagreement]:
    # A school imported since the report's inventory was read waits for the next look, as its rooms do.
    retired = [t for t in store.retired_terminals(db, report.scope) if t[1] in report.schools]
    return gaps.disagreements(report.schools, report.rooms, retired)
