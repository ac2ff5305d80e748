"""The sky classroom's pages: book, my sessions, a session, week views of a room and a school, approvals.

Every rule is the store's (`store.book`, `edit`, `cancel`, `approve`, `reject` check who may and
what fits); these views read the form, call the store, and render. A refused form is shown again
with the store's reasons and suggested free slots; the page's script shows the same feedback
before submitting by calling `/api/v1/sessions/check`.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _

from eduops import auth, ctx
from eduops.auth import ROLES, current_user, require, school_scope
from eduops.bookings import forms, labels, rules_of, schedule, store
from eduops.clock import from_iso, to_iso
from eduops.ctx import get_db, hub_config
from eduops.errors import Conflict, DomainError, Invalid, NotFound

bp = Blueprint("bookings_pages", __name__, url_prefix="/bookings")

BOOKERS = ("teacher", "it_staff")  # and the admin, who passes every check
RECENT = timedelta(days=30)  # "my sessions" shows this much of the past
AHEAD = timedelta(days=183)  # and this much of the future: a term
YEAR = timedelta(days=366)  # a series lies inside one term


@bp.context_processor
def helpers() -> dict[str, Any]:
    return labels.helpers()


def _zone() -> ZoneInfo:
    return ZoneInfo(hub_config().timezone)


def _offset(day: date) -> str:
    """The county's UTC offset on a day, as the page's script writes it into times (`+08:00`)."""
    offset = datetime.combine(day, time(12), _zone()).strftime("%z")
    return f"{offset[:3]}:{offset[3:]}"


def _source_rooms() -> list[dict[str, Any]]:
    return schedule.source_rooms(get_db(), school_scope(current_user()))


def _tree() -> list[dict[str, Any]]:
    return schedule.receiver_choices(get_db())


def _chosen(codes: list[str]) -> list[dict[str, Any]]:
    """The picked classes grouped by school, as the form shows them (names from the inventory)."""
    wanted, found = set(codes), {}
    if not wanted:
        return []
    for area in _tree():
        for t in area["townships"]:
            for s in t["schools"]:
                picked = [c for c in s["classes"] if c["code"] in wanted]
                if picked:
                    found[s["code"]] = {"code": s["code"], "name": s["name"], "classes": picked}
    return list(found.values())


def _term_end(day: str) -> str:
    """The last day of the term holding ``day`` (or of the next term), for the recurrence's "until"."""
    try:
        asked = date.fromisoformat(day)
    except ValueError:
        asked = ctx.now().astimezone(_zone()).date()
    for first, last in rules_of(hub_config()).terms:
        if asked <= last:
            return last.isoformat()
    return ""


def _form_page(form: forms.Form, status: int = 200, session: dict[str, Any] | None = None,
               error: str = "", problems: list[Any] = (), suggestions: list[Any] = ()):
    rooms = _source_rooms()
    texts = {"ok": _("Free: the room, you and every receiver are free, and the network has room for it."),
             "ok_time": _("The room and you are free at this time; now pick the receiving classes."),
             "approval": _("It reaches beyond your school, so the county technology centre approves it; "
                           "the slot is held for you meanwhile."),
             "checking": _("Checking…"), "failed": _("The check could not be done: %(why)s"),
             "free_at": _("Free at:"), "book": _("will be booked"), "skip": _("skipped: holiday"),
             "fails": _("cannot be booked"), "classes": _("%(n)d classes"), "remove": _("Remove"),
             "none": _("No receivers yet: a recording needs none."), "loading": _("Loading the classes…")}
    return render_template(
        "bookings/form.html", form=form, session=session, rooms=rooms,
        rooms_span_schools=len({r["school_code"] for r in rooms}) > 1, tree=_tree(), chosen=_chosen(form.classes),
        durations=forms.DURATIONS, offset=_offset(date.fromisoformat(form.day) if form.day else date.today()),
        term_end=_term_end(form.day), js_texts=texts, error=error, problems=problems, suggestions=suggestions,
        heading=_("Change a session") if session else _("Book a sky classroom session"),
        submit_label=_("Save the change") if session else _("Book"),
        action=url_for(".edit", session_id=session["id"]) if session else url_for(".create")), status


def _refused(exc: DomainError) -> dict[str, Any]:
    """What the form shows for a refusal: the sentence, each problem, the suggested slots."""
    problems = exc.details.get("problems") or []
    return {"error": "" if problems else exc.message, "problems": problems,
            "suggestions": exc.details.get("suggestions") or []}


@bp.get("/new")
@require(*BOOKERS)
def new_form():
    user, now = current_user(), ctx.now()
    form = forms.defaults(get_db(), user, _source_rooms(), rules_of(hub_config()), now)
    return _form_page(form)


@bp.post("/new")
@require(*BOOKERS)
def create():
    form = forms.read(request.form)
    user = current_user()
    try:
        booked = store.book(get_db(), forms.booking(form, hub_config().timezone), user, auth.actor(),
                            rules_of(hub_config()), ctx.now())["sessions"]
    except (Invalid, Conflict, NotFound) as exc:
        return _form_page(form, exc.status, **_refused(exc))
    return redirect(url_for(".show", session_id=booked[0]["id"], done="booked", n=len(booked)), 303)


@bp.get("/<int:session_id>")
@require(*ROLES)
def show(session_id: int):
    s = schedule.session(get_db(), session_id)
    starts = from_iso(s["starts_at"])
    series = schedule.sessions(get_db(), starts - YEAR, starts + YEAR, series_id=s["series_id"]) \
        if s["series_id"] else []
    return render_template("bookings/session.html", s=s, series=series, may_change=_may_change(s),
                           done=request.args.get("done"), n=request.args.get("n", 1, type=int))


def _may_change(s: dict[str, Any]) -> bool:
    """Whether to offer edit and cancel (the store decides again when it is done)."""
    user = current_user()
    if s["state"] not in ("pending", "booked") or user.role == "viewer":
        return False
    if user.role == "admin":
        return True
    if user.role == "it_staff":
        return s["source_school_code"] in user.school_codes
    return s["host_id"] == user.id


@bp.get("/<int:session_id>/edit")
@require(*BOOKERS)
def edit_form(session_id: int):
    s = schedule.session(get_db(), session_id)
    return _form_page(forms.of_session(s, hub_config().timezone), session=s)


@bp.post("/<int:session_id>/edit")
@require(*BOOKERS)
def edit(session_id: int):
    s = schedule.session(get_db(), session_id)
    form = forms.read(request.form)
    try:
        store.edit(get_db(), session_id, forms.changes(form, hub_config().timezone, request.form.get("version", type=int)),
                   current_user(), auth.actor(), rules_of(hub_config()), ctx.now())
    except (Invalid, Conflict, NotFound) as exc:
        return _form_page(form, exc.status, session=s, **_refused(exc))
    return redirect(url_for(".show", session_id=session_id, done="edited"), 303)


@bp.post("/<int:session_id>/cancel")
@require(*BOOKERS)
def cancel(session_id: int):
    store.cancel(get_db(), session_id, request.form.get("version", type=int), request.form.get("scope", "this"),
                 request.form.get("reason", "").strip(), current_user(), auth.actor(), ctx.now())
    return redirect(url_for(".show", session_id=session_id, done="cancelled"), 303)


@bp.get("/")
@require(*BOOKERS)
def mine():
    user, now, db = current_user(), ctx.now(), get_db()
    hosted = schedule.sessions(db, now - RECENT, now + AHEAD, host_id=user.id)
    schools = [(code, schedule.school_schedule(db, code, now, now + timedelta(days=14)))
               for code in sorted(user.school_codes)] if user.role == "it_staff" else []
    return render_template("bookings/mine.html", upcoming=[s for s in hosted if s["ends_at"] >= to_iso(now)],
                           soon=to_iso(now + timedelta(days=14)),
                           past=[s for s in hosted if s["ends_at"] < to_iso(now)][::-1], schools=schools,
                           done=request.args.get("done"))


@bp.get("/approvals")
@require("admin")
def approvals():
    return render_template("bookings/approvals.html", queue=schedule.pending_sessions(get_db(), ctx.now()),
                           done=request.args.get("done"))


def _decide(session_id: int, approve: bool, reason: str) -> None:
    store.decide(get_db(), session_id, request.form.get("version", type=int), request.form.get("scope", "this"),
                 approve, reason, current_user(), auth.actor(), ctx.now())


@bp.post("/<int:session_id>/approve")
@require("admin")
def approve(session_id: int):
    _decide(session_id, True, "")
    return redirect(url_for(".approvals", done="approved"), 303)


@bp.post("/<int:session_id>/reject")
@require("admin")
def reject(session_id: int):
    _decide(session_id, False, request.form.get("reason", "").strip())
    return redirect(url_for(".approvals", done="rejected"), 303)


def _week(arg: str | None) -> date:
    """The Monday of the week holding ``arg`` (a date), or of this county-local week."""
    try:
        day = date.fromisoformat(arg) if arg else ctx.now().astimezone(_zone()).date()
    except ValueError:
        raise Invalid(_("Give the week as a date such as 2026-12-07."), field="week") from None
    return day - timedelta(days=day.weekday())


def _week_page(title: str, sessions_of, place: dict[str, Any], kind: str):
    monday = _week(request.args.get("week"))
    start = datetime.combine(monday, time(), _zone())
    found = sessions_of(start, start + timedelta(days=7))
    days = [monday + timedelta(days=i) for i in range(7)]
    by_day = {d: [s for s in found if labels.day_of(s) == d.isoformat()] for d in days}
    school_days = rules_of(hub_config()).timetable.school_days
    shown = [d for d in days if d.weekday() in school_days or by_day[d]]
    return render_template("bookings/week.html", title=title, place=place, kind=kind, days=shown, by_day=by_day,
                           monday=monday, previous=(monday - timedelta(days=7)).isoformat(),
                           following=(monday + timedelta(days=7)).isoformat(),
                           today=ctx.now().astimezone(_zone()).date(),
                           rooms=_switchable_rooms())


def _switchable_rooms() -> list[dict[str, Any]]:
    """The rooms the week page offers to switch to: every broadcast room, and the user's own schools' rooms."""
    own = {r["code"] for r in _source_rooms()} if school_scope(current_user()) is not None else set()
    return [r for r in schedule.source_rooms(get_db(), None) if r["kind"] == "broadcast" or r["code"] in own]


@bp.get("/rooms")
@require(*ROLES)
def rooms_index():
    """The week of the room asked for, else of the user's own school's first broadcast room."""
    code = request.args.get("room")
    if not code:
        rooms = _source_rooms() or schedule.source_rooms(get_db(), None)
        if not rooms:
            raise NotFound(_("The inventory has no broadcast or digital room yet."), code="unknown_room")
        code = next((r for r in rooms if r["kind"] == "broadcast"), rooms[0])["code"]
    return redirect(url_for(".room_week", code=code, week=request.args.get("week") or None))


@bp.get("/rooms/<code>")
@require(*ROLES)
def room_week(code: str):
    room = schedule.room_info(get_db(), code)
    if room["kind"] not in ("broadcast", "digital"):
        raise NotFound(_("There is no broadcast or digital room %(code)s.", code=code), code="unknown_room")
    return _week_page(f"{room['name']} · {room['school_name']}",
                      lambda a, b: schedule.room_schedule(get_db(), code, a, b), room, "room")


@bp.get("/schools/<code>")
@require(*ROLES)
def school_week(code: str):
    school = schedule.school_info(get_db(), code)
    return _week_page(school["name"], lambda a, b: schedule.school_schedule(get_db(), code, a, b), school, "school")


@bp.get("/schools/<code>/classes")
@require(*BOOKERS)
def school_classes(code: str):
    """The classes of one school for the receiver picker, which loads them when a school is opened."""
    return jsonify(classes=schedule.school_classes(get_db(), code))
