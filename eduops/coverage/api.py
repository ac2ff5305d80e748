"""JSON API of measure nine coverage: every figure the pages show, under /api/v1/coverage.

Ratios are against the goal of 100% (every class, every school); a ratio is
null where there is nothing to count. Each route describes itself for
/api/openapi.json with the models of eduops/coverage/schemas.py.
"""
from __future__ import annotations

from typing import Any, Callable

from flask import Blueprint, Response, jsonify, request

from eduops.clock import local_day
from eduops import ctx, openapi
from eduops.coverage import gaps, schemas, snapshots, web
from eduops.ctx import get_db, hub_config
from eduops.errors import ErrorAnswer

# Access: every view carries @web.guard (who may come in); web.scope() limits what they see.
bp = Blueprint("coverage_api", __name__, url_prefix="/api/v1/coverage")


def _describe(summary: str, answer: type[schemas.Answer], *errors: int,
              query: type[schemas.Query] | None = None) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Describe a route: its answer, the errors it can give, and 401 to anyone not signed in."""
    return openapi.operation(summary, answers={200: answer, 401: ErrorAnswer, **dict.fromkeys(errors, ErrorAnswer)},
                             security="userToken", query=query)


@bp.get("")
@_describe("The county with its areas' figures", schemas.Node)
@web.guard
def county() -> Response:
    return jsonify(web.county_report().node("county", ""))


@bp.get("/areas/<code>")
@_describe("An area with its townships' figures", schemas.Node, 404)
@web.guard
def area(code: str) -> Response:
    return jsonify(web.county_report().node("area", code))


@bp.get("/townships/<code>")
@_describe("A township with its schools' figures", schemas.Node, 404)
@web.guard
def township(code: str) -> Response:
    return jsonify(web.county_report().node("township", code))


@bp.get("/schools/<code>")
@_describe("A school: its own uplink and Wi-Fi, and every class", schemas.SchoolNode, 403, 404)
@web.guard
def school(code: str) -> Response:
    return jsonify(web.school_report(code).node("school", code))


@bp.get("/classes/<code>")
@_describe("A class: its marks, its room's terminals in the inventory and the agents reporting there",
           schemas.ClassDetail, 403, 404)
@web.guard
def school_class(code: str) -> Response:
    return jsonify(web.class_detail(code))


@bp.get("/gaps")
@_describe("Every class and school short of the goal, filtered; limit and offset page through it",
           schemas.GapList, 400, query=schemas.GapPageQuery)
@web.guard
def gap_list() -> Response:
    asked = web.query(schemas.GapPageQuery, request.args)
    rep, _chosen, selected = web.selected_gaps(asked)
    return jsonify(total=len(selected), offset=asked.offset, limit=asked.limit, counts=gaps.gap_counts(selected),
                   gaps=[web.gap_json(g, rep) for g in selected[asked.offset:asked.offset + asked.limit]])


@bp.get("/disagreements")
@_describe("Where the inventory and the agents disagree, over all time",
           schemas.DisagreementList, 400, query=schemas.DisagreementQuery)
@web.guard
def disagreement_list() -> Response:
    rep, _chosen, found = web.selected_disagreements(web.query(schemas.DisagreementQuery, request.args))
    return jsonify(total=len(found), disagreements=[web.disagreement_json(d, rep) for d in found])


@bp.get("/trend")
@_describe("Daily snapshots of a node and its children, for days back",
           schemas.Trend, 400, 404, query=schemas.TrendQuery)
@web.guard
def trend() -> Response:
    asked = web.query(schemas.TrendQuery, request.args)
    today = local_day(ctx.now(), hub_config().timezone)
    return jsonify(snapshots.trend(get_db(), web.county_report(), asked.level, asked.code, asked.days, today))
