"""What the sky classroom delivered, per area and township, for one term and (optionally) one kind.

Two sides of a session are counted where they happen:
- sessions held and hours delivered go to the host's (source room's) school's township;
- schools reached (distinct), rural schools reached and training attendances go to the
  receiving school's township (attendance to the school that entered it).
A school belongs to one township, so townships add up to their area and areas to the county.
A school is rural when its township is a town or township, not an urban subdistrict
(scheduler/delivered.py). Limited to some schools (a school-bound user's), each side counts only
those schools, and only their townships and areas are listed.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Collection
from zoneinfo import ZoneInfo

import sqlite_utils

from eduops.clock import to_iso
from scheduler.delivered import rural

COLUMNS = ("held", "hours", "schools_reached", "rural_reached", "attendances")


@dataclass(frozen=True)
class Term:
    first: date
    last: date     # inclusive

    def bounds(self, tz: str) -> tuple[str, str]:
        zone = ZoneInfo(tz)
        return (to_iso(datetime.combine(self.first, time(), zone)),
                to_iso(datetime.combine(self.last + timedelta(days=1), time(), zone)))

    @property
    def label(self) -> str:
        return f"{self.first.isoformat()}..{self.last.isoformat()}"


def current_term(terms: tuple[tuple[date, date], ...], today: date) -> Term | None:
    """The term holding today, else the last one begun, else the first one."""
    if not terms:
        return None
    begun = [t for t in terms if t[0] <= today]
    holding = [t for t in begun if today <= t[1]]
    chosen = (holding or begun or list(terms))[-1 if (holding or begun) else 0]
    return Term(*chosen)


def figures(db: sqlite_utils.Database, term: Term, tz: str, kind: str | None = None,
            schools: Collection[str] | None = None) -> dict[str, Any]:
    """{"term", "kind", "areas": [{area_code, name_zh, name_en, held, hours, …, "townships": [...]}],
    "county": {held, hours, …}}; ``schools`` limits every figure to those schools (None: all)."""
    start, end = term.bounds(tz)
    kind_sql, kind_args = ("AND s.kind = ?", [kind]) if kind else ("", [])
    base = f"FROM sky_sessions s JOIN deliveries d ON d.session_id = s.id WHERE s.starts_at >= ? AND s.starts_at < ? {kind_sql}"
    args = [start, end, *kind_args]
    only, only_args = ("AND sc.code IN (%s)" % (",".join("?" * len(schools)) or "NULL"), sorted(schools)) \
        if schools is not None else ("", [])
    rows: dict[str, dict[str, Any]] = {}
    for code, name, area in db.execute(
            "SELECT code, name, area_code FROM townships t WHERE ?1 OR EXISTS (SELECT 1 FROM schools sc "
            f"WHERE sc.township_code = t.code {only})", [schools is None, *only_args]):
        rows[code] = {"area_code": area, "township_code": code, "township": name, "rural": rural(name),
                      **dict.fromkeys(COLUMNS, 0)}
    for township, held, hours in db.execute(
            f"SELECT sc.township_code, COUNT(*), TOTAL(d.hours) {base.replace('WHERE', 'JOIN schools sc ON sc.code = s.source_school_code WHERE')} "
            f"AND d.held = 1 {only} GROUP BY sc.township_code", args + only_args):
        rows[township].update(held=held, hours=round(hours, 2))
    for township, reached in db.execute(
            f"SELECT sc.township_code, COUNT(DISTINCT dr.school_code) {base.replace('WHERE', 'JOIN delivery_rooms dr ON dr.session_id = s.id JOIN schools sc ON sc.code = dr.school_code WHERE')} "
            f"AND dr.role = 'receiver' AND dr.reports > 0 {only} GROUP BY sc.township_code", args + only_args):
        rows[township]["schools_reached"] = reached
        rows[township]["rural_reached"] = reached if rows[township]["rural"] else 0
    if kind in (None, "teacher_training"):
        for township, teachers in db.execute(
                "SELECT sc.township_code, SUM(a.teachers) FROM attendance a JOIN sky_sessions s ON s.id = a.session_id "
                "JOIN schools sc ON sc.code = a.school_code WHERE s.kind = 'teacher_training' AND s.starts_at >= ? "
                f"AND s.starts_at < ? AND s.state IN ('booked', 'finished') {only} GROUP BY sc.township_code",
                [start, end, *only_args]):
            rows[township]["attendances"] = teachers
    townships = sorted(rows.values(), key=lambda r: (r["area_code"], r["township_code"]))
    areas = []
    for area, name_zh, name_en in db.execute("SELECT code, name_zh, name_en FROM areas ORDER BY sort"):
        mine = [r for r in townships if r["area_code"] == area]
        if not mine and schools is not None:
            continue
        areas.append({"area_code": area, "name_zh": name_zh, "name_en": name_en, "townships": mine,
                      **{c: round(sum(r[c] for r in mine), 2) for c in COLUMNS}})
    return {"term": term.label, "kind": kind, "areas": areas,
            "county": {c: round(sum(a[c] for a in areas), 2) for c in COLUMNS}}
