"""JSON API of measure nine coverage: every figure the pages show, under /api/v1/coverage.

Ratios are against the goal of 100% (every class, every school); a ratio is
null where there is nothing to count.
"""
from __future__ import annotations

from flask import Blueprint, jsonify, request

from eduops.coverage import gaps, report, snapshots, web
from eduops.ctx import get_db, hub_config

# Access: every view carries @web.guard (who may come in); web.scope() limits what they see.
bp = Blueprint("coverage_api", __name__, url_prefix="/api/v1/coverage")


@bp.get("")
@web.guard
def county():
    """The county with its areas."""
    return jsonify(web.county_report().node("county", ""))


@bp.get("/areas/<code>")
@web.guard
def area(code: str):
    """An area with its townships."""
    return jsonify(web.county_report().node("area", code))


@bp.get("/townships/<code>")
@web.guard
def township(code: str):
    """A township with its schools."""
    return jsonify(web.county_report().node("township", code))


@bp.get("/schools/<code>")
@web.guard
def school(code: str):
    """A school: its own uplink and Wi-Fi, and every class."""
    return jsonify(web.school_report(code).node("school", code))


@bp.get("/classes/<code>")
@web.guard
def school_class(code: str):
    """A class: its marks, its room's terminals in the inventory and the agents reporting there."""
    return jsonify(web.class_detail(code))


@bp.get("/gaps")
@web.guard
def gap_list():
    """Every class and school short of the goal, filtered; ``limit`` and ``offset`` page through it."""
    rep, _chosen, selected = web.selected_gaps(request.args)
    limit = web.int_arg(request.args, "limit", 1000, 1, 10_000)
    offset = web.int_arg(request.args, "offset", 0, 0, 10_000_000)
    return jsonify(total=len(selected), offset=offset, limit=limit, counts=gaps.gap_counts(selected),
                   gaps=[web.gap_json(g, rep) for g in selected[offset:offset + limit]])


@bp.get("/disagreements")
@web.guard
def disagreement_list():
    """Where the inventory and the agents disagree, over all time."""
    rep, _kind, _chosen, found = web.selected_disagreements(request.args)
    return jsonify(total=len(found), disagreements=[web.disagreement_json(d, rep) for d in found])


@bp.get("/trend")
@web.guard
def trend():
    """Daily snapshots of a node (level and code) and its children, for ``days`` days back."""
    rep = web.county_report()
    level = web.choice(request.args, "level", set(report.CHILD_LEVEL) | {"school"}, "level") or "county"
    days = web.int_arg(request.args, "days", 365, 1, 3650)
    today = snapshots.local_day(web.now(), hub_config().timezone)
    return jsonify(snapshots.trend(get_db(), rep, level, request.args.get("code", ""), days, today))
