"""What the coverage pages and the coverage API share: the viewer's scope, the report, filters, JSON shapes."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Mapping

from eduops.auth import current_user, require, require_school, school_scope
from eduops.coverage import figures, gaps, report, storage
from eduops.coverage.gaps import Disagreement, Gap, GapFilter
from eduops.ctx import get_db, hub_config
from eduops.errors import ApiError
from eduops.inventory import STAGES

YES_NO = {"yes": True, "no": False, "": None}

# Every coverage page and API route: any signed-in role (admin always passes), each within
# its own scope: viewer county-wide, IT staff and teachers their own schools.
guard = require("viewer", "it_staff", "teacher")


def scope() -> storage.Scope:
    """The schools the signed-in user may see; None is the whole county (guard has signed them in)."""
    return school_scope(current_user())


def now() -> datetime:
    return datetime.now(timezone.utc)


def county_report() -> report.CoverageReport:
    return report.load(get_db(), hub_config(), now(), scope())


def school_report(school_code: str) -> report.CoverageReport:
    """Coverage of one school only (cheaper than the county); 404 if unknown, 403 if outside the scope."""
    if not storage.schools(get_db(), frozenset({school_code})):
        raise ApiError(404, "not_found", f"No school with code {school_code!r}; pick one from its township.")
    require_school(current_user(), school_code)
    return report.load(get_db(), hub_config(), now(), frozenset({school_code}))


def class_detail(class_code: str) -> dict[str, Any]:
    """One class with its room's terminals and agents; 404 if unknown, 403 if its school is outside the scope."""
    school_code = storage.school_of_class(get_db(), class_code)
    if school_code is None:
        raise ApiError(404, "not_found", f"No class with code {class_code!r}; pick one from its school.")
    return school_report(school_code).class_detail(get_db(), class_code)


def selected_gaps(args: Mapping[str, str]) -> tuple[report.CoverageReport, GapFilter, list[Gap]]:
    """The scope's gap list as the query arguments filter it."""
    rep = county_report()
    chosen = gap_filter(args, rep)
    return rep, chosen, [g for g in rep.gap_list if chosen.matches(g)]


def selected_disagreements(args: Mapping[str, str]) -> tuple[report.CoverageReport, str, GapFilter,
                                                               list[Disagreement]]:
    """The scope's disagreements of one ``kind`` (or all) in the places the query arguments name."""
    rep = county_report()
    kind = choice(args, "kind", set(gaps.DISAGREEMENTS), "kind of disagreement")
    chosen = gap_filter(args, rep)
    return rep, kind, chosen, [d for d in report.disagreements(get_db(), rep)
                               if (not kind or d.kind == kind) and chosen.matches_school(d.school)]


def choice(args: Mapping[str, str], name: str, allowed: Mapping[str, Any] | set[str], what: str) -> str:
    value = args.get(name, "").strip()
    if value and value not in allowed:
        shown = ", ".join(sorted(allowed)[:12]) + (", …" if len(allowed) > 12 else "")
        raise ApiError(400, "bad_filter", f"{name}={value!r} is not a known {what}; use one of: {shown}.")
    return value


def gap_filter(args: Mapping[str, str], rep: report.CoverageReport) -> GapFilter:
    """Read the gap list's filters from query arguments; an unknown value is a precise 400."""
    small = choice(args, "small_scale", YES_NO, "choice (yes or no)")
    return GapFilter(area=choice(args, "area", {a["code"] for a in rep.areas}, "area"),
                     township=choice(args, "township", set(rep.townships), "township in your view"),
                     school=choice(args, "school", set(rep.schools), "school in your view"),
                     stage=choice(args, "stage", STAGES, "stage"),
                     measure=choice(args, "measure", set(figures.MEASURES), "measure"),
                     status=choice(args, "status", set(gaps.STATUSES), "gap status"),
                     small_scale=YES_NO[small])


def int_arg(args: Mapping[str, str], name: str, default: int, lo: int, hi: int) -> int:
    raw = args.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or not lo <= int(raw) <= hi:
        raise ApiError(400, "bad_argument", f"{name}={raw!r} must be a whole number from {lo} to {hi}.")
    return int(raw)


def gap_json(gap: Gap, rep: report.CoverageReport) -> dict[str, Any]:
    s, c = gap.school, gap.school_class
    room = rep.rooms.get(c.room_code or "") if c else None
    return {"level": gap.level, "area_code": s.area_code, "township_code": s.township_code,
            "township_name": rep.townships[s.township_code]["name"], "school_code": s.code,
            "school_name": s.name, "stage": s.stage, "small_scale": s.small_scale,
            "class_code": c.code if c else None, "class_name": c.name if c else None,
            "grade": c.grade if c else None, "room_code": c.room_code if c else None,
            "room_name": room.name if room else None, "missing": gap.missing}


def disagreement_json(d: Disagreement, rep: report.CoverageReport) -> dict[str, Any]:
    return {"kind": d.kind, "area_code": d.school.area_code, "township_code": d.school.township_code,
            "township_name": rep.townships[d.school.township_code]["name"], "school_code": d.school.code,
            "school_name": d.school.name, "room_code": d.room.code if d.room else None,
            "room_name": d.room.name if d.room else None, **d.detail}
