"""Delivery pages: the overview of what was delivered (with its XLSX), a session's readiness, recording
and delivery (on the booking session page), training attendance, notifications, and group robots.

Sessions are read county-wide, like the schedules; the delivered figures are the viewer's schools'
(IT staff and teachers see their own, like coverage); entering attendance is for the host and the IT staff
of a school the session touches; robots are set by IT staff for their schools and by the admin
for any school and county-wide. Storage is in ``store``, ``notify`` and ``figures``.
"""
from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Blueprint, Response, redirect, render_template, request, url_for
from flask_babel import gettext as _

from eduops import ctx
from eduops.auth import ROLES, current_user, require, school_scope
from eduops.bookings import labels as booking_labels
from eduops.bookings import schedule
from eduops.ctx import get_db, hub_config
from eduops.delivery import export, notify, recordings, store, web
from eduops.errors import DomainError, Invalid, NotFound

bp = Blueprint("delivery_pages", __name__)

UPCOMING = timedelta(days=7)


def reason_text(codes: list[str]) -> str:
    """Why a room is not ready, in the reader's language."""
    return notify.reason_list(codes, _)


def attendance_error(code: str) -> str:
    return {"not_begun": _("Attendance can be entered once the session has begun."),
            "unknown_teacher": _("An account given is not a teacher of that school."),
            "invalid": _("Enter the number of teachers who took part, or their accounts.")}.get(code, "")


def recording_states() -> dict[str, str]:
    return {"scheduled": _("Scheduled"), "recording": _("Recording"), "finished": _("Recording finished"),
            "failed": _("Recording failed")}


def recording_leads() -> dict[str, str]:
    """The phrases agents/recorder.py begins a failure's reason with, in the reader's language."""
    return {"the agent was not running during the session": _("the agent was not running during the session"),
            "the recorder exited early": _("the recorder exited early"),
            "the start command failed": _("the start command failed"),
            "the stop command failed": _("the stop command failed"),
            "cannot run the start command": _("cannot run the start command"),
            "cannot run the stop command": _("cannot run the stop command"),
            "the start command did not return within": _("the start command did not return within"),
            "the stop command did not return within": _("the stop command did not return within")}


def recording_reason(reason: str) -> str:
    """A recorder's reason as the page shows it. The agent reports it in English (it runs without
    Babel, and the reason ends with its recorder's own last words): the known leading phrase is
    translated, the rest (status, the recorder's words) is shown as it came."""
    for lead, text in recording_leads().items():
        if reason.startswith(lead):
            return text + reason[len(lead):]
    return reason


def notification_text(n: dict[str, Any]) -> str:
    return notify.render(n["event"], n["params"], _, hub_config().timezone)


def may_enter_attendance(session: dict[str, Any], school_codes: set[str]) -> set[str]:
    """The schools whose attendance the signed-in user may enter for this session."""
    user = current_user()
    if session["kind"] != "teacher_training" or user.role == "viewer":
        return set()
    if user.role == "admin" or session["host_user_id"] == user.id:
        return school_codes
    return school_codes & set(user.school_codes) if user.role == "it_staff" else set()


def panel(session_id: int) -> dict[str, Any]:
    """What a session's page shows of its delivery: readiness room by room, recordings, delivered."""
    db = get_db()
    session = store.session_brief(db, session_id)
    rooms = store.session_rooms(db, session_id)
    schools = {r["school_code"]: r["school_name"] for r in rooms}
    return {"readiness": store.readiness_of(db, [session_id])[session_id], "recordings": recordings.recordings_of(db, session_id),
            "delivered": store.delivery_of(db, session_id), "attendance": store.attendance_of(db, session_id),
            "attendance_schools": {c: n for c, n in schools.items() if c in may_enter_attendance(session, set(schools))},
            "session": session, "error": attendance_error(request.args.get("attendance_error", ""))}


def readiness_summary(session_id: int) -> dict[str, Any] | None:
    """Ready rooms of the newest check, for a line in a list of sessions; None when not checked yet."""
    found = store.readiness_of(get_db(), [session_id])[session_id]
    if not found:
        return None
    return {"ready": sum(r["ready"] for r in found), "rooms": len(found),
            "not_ready": [r for r in found if not r["ready"]]}


@bp.app_context_processor
def helpers() -> dict[str, Any]:
    """For the booking pages too: the session page shows the panel, the lists the summary."""
    return {"delivery_panel": panel, "readiness_summary": readiness_summary, "reason_text": reason_text,
            "unread_notifications": lambda: notify.unread_count(get_db(), current_user().id),
            "recording_states": recording_states, "recording_reason": recording_reason,
            "notification_text": notification_text}


# The overview of what was delivered -----------------------------------------------------------------

@bp.get("/delivery/")
@require(*ROLES)
def overview():
    term, kind = web.chosen(request.args)
    return render_template("delivery/overview.html", figures=web.scoped_figures(term, kind), term=term,
                           kind=kind or "", terms=web.terms(), kinds=booking_labels.kinds(),
                           scoped=school_scope(current_user()) is not None,
                           xlsx_url=url_for(".overview_export", term=term.label, kind=kind or None))


@bp.get("/delivery/delivered.xlsx")
@require(*ROLES)
def overview_export():
    term, kind = web.chosen(request.args)
    body = export.to_xlsx(web.scoped_figures(term, kind))
    return Response(body, mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f'attachment; filename="sky-classroom-{term.label}.xlsx"'})


# Upcoming sessions with their readiness ------------------------------------------------------------

@bp.get("/delivery/upcoming")
@require(*ROLES)
def upcoming():
    """The coming week's sessions the user is concerned with: hosted, or touching their schools."""
    user, now, db = current_user(), ctx.now(), get_db()
    scope = school_scope(user)
    found = schedule.sessions(db, now, now + UPCOMING, states=("booked", "pending"))
    if scope is not None:
        found = [s for s in found if s["host_id"] == user.id or s["source_school_code"] in scope
                 or any(r["school_code"] in scope for r in s["receivers"])]
    return render_template("delivery/upcoming.html", sessions=found, **booking_labels.helpers())


# Attendance of teacher training -------------------------------------------------------------------

@bp.post("/delivery/sessions/<int:session_id>/attendance")
@require("teacher", "it_staff")
def attendance(session_id: int):
    school = request.form.get("school", "")
    accounts = [a.strip() for a in request.form.get("accounts", "").replace("，", ",").split(",") if a.strip()]
    text = request.form.get("teachers", "").strip()
    session = store.session_brief(get_db(), session_id)
    if school not in may_enter_attendance(session, {r["school_code"] for r in store.session_rooms(get_db(), session_id)}):
        raise NotFound(_("You cannot enter attendance for this school."), code="not_found")
    back = url_for("bookings_pages.show", session_id=session_id)
    try:
        if not accounts and not (text.isdigit() and int(text) <= 10_000):
            raise Invalid("no count and no accounts", code="invalid")
        store.set_attendance(get_db(), session_id, school, int(text or 0), accounts, current_user().id, ctx.now())
    except Invalid as exc:
        return redirect(f"{back}?attendance_error={exc.code}#delivery", 303)
    return redirect(back + "#delivery", 303)


# Notifications ------------------------------------------------------------------------------------

@bp.get("/notifications")
@require(*ROLES)
def notifications():
    user = current_user()
    return render_template("delivery/notifications.html", found=notify.notifications_of(get_db(), user.id))


@bp.post("/notifications/read")
@require(*ROLES)
def notifications_read():
    notify.mark_read(get_db(), current_user().id, ctx.now())
    return redirect(url_for(".notifications"), 303)


# Group robots -------------------------------------------------------------------------------------

def robot_error(exc: DomainError) -> str:
    return {"bad_robot_url": _("This is not a robot address Apprise knows: use dingtalk://TOKEN/ (or "
                               "dingtalk://SECRET@TOKEN/ when the robot signs), wecombot://KEY, or another Apprise URL."),
            "invalid": _("Give the robot a name people recognise, such as 者海镇中心小学信息群.")}.get(exc.code, exc.message)


def _robot_page(status: int = 200, error: str = "", form: dict[str, str] | None = None):
    scope = school_scope(current_user())
    schools = dict(get_db().execute("SELECT code, name FROM schools ORDER BY code").fetchall())
    choices = {c: n for c, n in schools.items() if scope is None or c in scope}
    return render_template("delivery/robots.html", robots=notify.targets(get_db(), scope), schools=schools,
                           choices=choices, county_wide=scope is None, error=error, form=form or {},
                           done=request.args.get("done")), status


@bp.get("/delivery/robots")
@require("it_staff")
def robots():
    return _robot_page()


@bp.post("/delivery/robots")
@require("it_staff")
def add_robot():
    form = {k: request.form.get(k, "") for k in ("school", "label", "url")}
    scope = school_scope(current_user())
    school = form["school"] or None
    if scope is not None and school not in scope:
        return _robot_page(400, _("You may add robots for your own schools only."), form)
    try:
        notify.add_target(get_db(), school, form["label"], form["url"], current_user().username, ctx.now())
    except DomainError as exc:
        return _robot_page(exc.status, robot_error(exc), form)
    return redirect(url_for(".robots", done="added"), 303)


@bp.post("/delivery/robots/<int:robot_id>/delete")
@require("it_staff")
def delete_robot(robot_id: int):
    notify.remove_target(get_db(), robot_id, school_scope(current_user()))
    return redirect(url_for(".robots", done="removed"), 303)
