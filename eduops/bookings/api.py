"""JSON API of sky-classroom booking (docs/bookings.md): sessions, the dry-run check, schedules, approval.

Every route takes a person's API token or a signed-in browser. The store decides and raises
domain errors; the hub's one error handler answers them as JSON.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any, Callable, TypeVar

from flask import Blueprint, Response, current_app, jsonify, request
from flask_babel import gettext as _
from pydantic import BaseModel, ValidationError

from eduops import openapi
from eduops.accounts import store as accounts
from eduops.auth import actor, current_user, require
from eduops.bookings import rules_of, schedule, store
from eduops.bookings.schemas import (Booked, BookingRequest, ConflictAnswer, Decision, EditRequest, ListQuery,
                                     Outcome, RoomSchedule, SchoolSchedule, Session, SessionList, WeekQuery)
from eduops.ctx import get_db, hub_config, now
from eduops.errors import ErrorAnswer, Invalid
from eduops.fleet.api import parse
from scheduler.bookings import Rules

bp = Blueprint("bookings_api", __name__, url_prefix="/api/v1")
Q = TypeVar("Q", bound=BaseModel)
MAX_WINDOW = timedelta(days=92)

read = require("viewer", "teacher", "it_staff")
book = require("teacher", "it_staff")
decide = require("admin")


def _describe(summary: str, answer: type[BaseModel], *errors: int, body: type[BaseModel] | None = None,
              query: type[BaseModel] | None = None, status: int = 200,
              refusal: type[BaseModel] = ErrorAnswer) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Describe a route: its answer, 401 to anyone not signed in, and the refusals it can give
    (400 and 409 carry the booking problems where ``refusal`` is ConflictAnswer)."""
    answers: dict[int, type[BaseModel] | None] = {status: answer, 401: ErrorAnswer}
    answers |= {code: refusal if code in (400, 409) else ErrorAnswer for code in errors}
    return openapi.operation(summary, body=body, answers=answers, security="userToken", query=query)


def _rules() -> Rules:
    if "eduops_booking_rules" not in current_app.extensions:  # the configuration is fixed for the app's life
        current_app.extensions["eduops_booking_rules"] = rules_of(hub_config())
    return current_app.extensions["eduops_booking_rules"]


def _query(model: type[Q]) -> Q:
    given = {name: value.strip() for name, value in request.args.items() if value.strip()}
    try:
        return model.model_validate(given)
    except ValidationError as exc:
        problem = exc.errors(include_url=False)[0]
    name = str(problem["loc"][0])
    raise Invalid(_("%(name)s=%(value)s: %(problem)s.", name=name, value=given.get(name, ""),
                    problem=problem["msg"]), code="bad_argument")


def _moment(name: str, text: str) -> datetime:
    """A query time: a county-local date (its midnight) or an ISO 8601 time with its zone."""
    tz = _rules().timetable.tz
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), time(), tz)
        moment = datetime.fromisoformat(text)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise Invalid(_("%(name)s=%(value)s: give a date (2026-12-07) or a time with its zone "
                        "(2026-12-07T08:00:00+08:00, with + written %%2B in a URL).", name=name, value=text),
                      code="bad_argument")
    return moment


def _window(start_text: str | None, end_text: str | None, start: datetime, span: timedelta) -> tuple[datetime, datetime]:
    start = _moment("from", start_text) if start_text else start
    end = _moment("to", end_text) if end_text else start + span
    if end <= start or end - start > MAX_WINDOW:
        raise Invalid(_("to must come after from, and at most 92 days after it."), code="bad_argument")
    return start, end


def _this_week() -> datetime:
    local = now().astimezone(_rules().timetable.tz)
    return datetime.combine(local.date() - timedelta(days=local.weekday()), time(), local.tzinfo)


@bp.get("/sessions")
@_describe("Sessions overlapping a time window, filtered by room, school, host or state", SessionList, 400,
           query=ListQuery)
@read
def list_sessions() -> Response:
    asked = _query(ListQuery)
    start, end = _window(asked.start, asked.to, now(), timedelta(days=14))
    host_id = None
    if asked.mine == "yes":
        host_id = current_user().id
    elif asked.host:
        host = accounts.user_named(get_db(), asked.host)
        if host is None:
            raise Invalid(_("host=%(value)s: no account has this username.", value=asked.host), code="bad_argument")
        host_id = host.id
    return jsonify(sessions=schedule.sessions(get_db(), start, end, room=asked.room, school=asked.school,
                                              host_id=host_id, states=[asked.state] if asked.state else None,
                                              limit=asked.limit))


@bp.post("/sessions")
@_describe("Book a session or a weekly series: all of it is checked and written in one transaction", Booked,
           400, 403, 404, 409, body=BookingRequest, status=201, refusal=ConflictAnswer)
@book
def create_session() -> tuple[Response, int]:
    booked = store.book(get_db(), parse(BookingRequest), current_user(), actor(), _rules(), now())
    return jsonify(booked), 201


@bp.post("/sessions/check")
@_describe("Dry run of a booking: the same rules, the preview of a series and suggestions; writes nothing",
           Outcome, 400, 403, 404, body=BookingRequest, refusal=ConflictAnswer)
@book
def check_session() -> Response:
    return jsonify(store.check(get_db(), parse(BookingRequest), current_user(), _rules(), now()))


@bp.get("/sessions/<int:session_id>")
@_describe("One session with its receivers", Session, 404)
@read
def show_session(session_id: int) -> Response:
    return jsonify(schedule.session(get_db(), session_id))


@bp.patch("/sessions/<int:session_id>")
@_describe("Change a session, or it and the rest of its series; send the version you read", SessionList,
           400, 403, 404, 409, body=EditRequest, refusal=ConflictAnswer)
@book
def edit_session(session_id: int) -> Response:
    changed = store.edit(get_db(), session_id, parse(EditRequest), current_user(), actor(), _rules(), now())
    return jsonify(sessions=changed)


@bp.post("/sessions/<int:session_id>/cancel")
@_describe("Cancel a session, or it and the rest of its series; their slots are free at once", SessionList,
           400, 403, 404, 409, body=Decision, refusal=ConflictAnswer)
@book
def cancel_session(session_id: int) -> Response:
    asked = parse(Decision)
    return jsonify(sessions=store.cancel(get_db(), session_id, asked.version, asked.scope, asked.reason,
                                         current_user(), actor(), now()))


def _decide(session_id: int, approve: bool) -> Response:
    asked = parse(Decision)
    return jsonify(sessions=store.decide(get_db(), session_id, asked.version, asked.scope, approve, asked.reason,
                                         current_user(), actor(), now()))


@bp.post("/sessions/<int:session_id>/approve")
@_describe("The county admin approves a pending session (or the rest of its series)", SessionList,
           400, 403, 404, 409, body=Decision, refusal=ConflictAnswer)
@decide
def approve_session(session_id: int) -> Response:
    return _decide(session_id, approve=True)


@bp.post("/sessions/<int:session_id>/reject")
@_describe("The county admin rejects a pending session with a reason the host sees", SessionList,
           400, 403, 404, 409, body=Decision, refusal=ConflictAnswer)
@decide
def reject_session(session_id: int) -> Response:
    return _decide(session_id, approve=False)


def _week(what: str, found: dict[str, Any], read: Callable[..., list[dict[str, Any]]]) -> Response:
    asked = _query(WeekQuery)
    start, end = _window(asked.start, asked.to, _this_week(), timedelta(days=7))
    return jsonify({what: found, "from": schedule.iso(start), "to": schedule.iso(end),
                    "sessions": read(get_db(), found["code"], start, end)})


@bp.get("/rooms/<code>/schedule")
@_describe("A room's sessions, as source or receiver (default: this county-local week)", RoomSchedule, 400, 404,
           query=WeekQuery)
@read
def room_schedule(code: str) -> Response:
    return _week("room", schedule.room_info(get_db(), code), schedule.room_schedule)


@bp.get("/schools/<code>/schedule")
@_describe("A school's sessions, sent or received by any of its rooms (default: this county-local week)",
           SchoolSchedule, 400, 404, query=WeekQuery)
@read
def school_schedule(code: str) -> Response:
    return _week("school", schedule.school_info(get_db(), code), schedule.school_schedule)
