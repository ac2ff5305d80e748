"""What the coverage pages and the coverage API share: the viewer's scope, the report, filters, JSON shapes."""
from __future__ import annotations

from dataclasses import replace
from typing import Any, Mapping, TypeVar

from pydantic import BaseModel, ValidationError

from eduops import ctx, openapi
from eduops.auth import current_user, require, require_school, school_scope
from eduops.coverage import report, schemas, store
from eduops.coverage.gaps import Disagreement, Gap, GapFilter
from eduops.ctx import get_db, hub_config
from eduops.errors import ApiError

Q = TypeVar("Q", bound=BaseModel)

# Every coverage page and API route: any signed-in role (admin always passes), each within
# its own scope: viewer county-wide, IT staff and teachers their own schools.
guard = require("viewer", "it_staff", "teacher")


def scope() -> store.Scope:
    """The schools the signed-in user may see; None is the whole county (guard has signed them in)."""
    return school_scope(current_user())


def county_report() -> report.CoverageReport:
    return report.load(get_db(), hub_config(), ctx.now(), scope())


def school_report(school_code: str) -> report.CoverageReport:
    """Coverage of one school only (cheaper than the county); 404 if unknown, 403 if outside the scope."""
    if school_code not in store.inventory(get_db()).schools:
        raise ApiError(404, "not_found", f"No school with code {school_code!r}; pick one from its township.")
    require_school(current_user(), school_code)
    return report.load(get_db(), hub_config(), ctx.now(), frozenset({school_code}))


def class_detail(class_code: str) -> dict[str, Any]:
    """One class with its room's terminals and agents; 404 if unknown, 403 if its school is outside the scope."""
    school_code = store.school_of_class(get_db(), class_code)
    if school_code is None:
        raise ApiError(404, "not_found", f"No class with code {class_code!r}; pick one from its school.")
    return school_report(school_code).class_detail(get_db(), class_code)


def selected_gaps(asked: schemas.GapQuery) -> tuple[report.CoverageReport, GapFilter, list[Gap]]:
    """The scope's gap list as the query arguments filter it."""
    rep = county_report()
    chosen = gap_filter(asked, rep)
    return rep, chosen, [g for g in rep.gap_list if chosen.matches(g)]


def selected_disagreements(asked: schemas.DisagreementQuery) -> tuple[report.CoverageReport, GapFilter,
                                                                      list[Disagreement]]:
    """The scope's disagreements of the kind asked (or all) in the places asked."""
    rep = county_report()
    chosen = place_filter(asked, rep)
    return rep, chosen, [d for d in report.disagreements(get_db(), rep)
                         if (not asked.kind or d.kind == asked.kind) and chosen.matches_school(d.school)]


def query(model: type[Q], args: Mapping[str, str]) -> Q:
    """The query arguments ``model`` names (blank ones take their defaults), or a precise 400 for the first bad one."""
    given = {name: args[name].strip() for name in model.model_fields if args.get(name, "").strip()}
    try:
        return model.model_validate(given)
    except ValidationError as exc:
        problem = exc.errors(include_url=False)[0]
    name = str(problem["loc"][0])
    raw, schema = given[name], next(p["schema"] for p in openapi.query_parameters(model) if p["name"] == name)
    if "enum" in schema:
        *most, last = schema["enum"]
        raise ApiError(400, "bad_filter", f"{name}={raw!r} is not a known {name.replace('_', ' ')}; "
                                          f"use one of: {', '.join(most)} or {last}.")
    if schema.get("type") == "integer":
        raise ApiError(400, "bad_argument", f"{name}={raw!r} must be a whole number from {schema['minimum']} "
                                            f"to {schema['maximum']}.")
    raise ApiError(400, "bad_argument", f"{name}={raw!r}: {problem['msg']}.")


def known(name: str, value: str, allowed: set[str], what: str) -> str:
    """``value`` if it is empty or one of ``allowed`` (places in the viewer's report), else a precise 400."""
    if value and value not in allowed:
        shown = ", ".join(sorted(allowed)[:12]) + (", …" if len(allowed) > 12 else "")
        raise ApiError(400, "bad_filter", f"{name}={value!r} is not a known {what}; use one of: {shown}.")
    return value


def place_filter(asked: schemas.PlaceQuery, rep: report.CoverageReport) -> GapFilter:
    """The filter of the places asked, each checked against the viewer's report."""
    return GapFilter(area=known("area", asked.area, {a["code"] for a in rep.areas}, "area"),
                     township=known("township", asked.township, set(rep.townships), "township in your view"),
                     school=known("school", asked.school, set(rep.schools), "school in your view"),
                     stage=asked.stage or "",
                     small_scale=None if asked.small_scale is None else asked.small_scale == "yes")


def gap_filter(asked: schemas.GapQuery, rep: report.CoverageReport) -> GapFilter:
    return replace(place_filter(asked, rep), measure=asked.measure or "", status=asked.status or "")


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
