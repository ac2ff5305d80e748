"""Calendar feeds: a teacher's own sessions, a room's or a school's, at secret URLs for calendar apps.

Calendar apps cannot sign in, so ``/feeds/<token>.ics`` is public and the token is the key: it
opens its one feed and nothing else, an unknown or revoked token is a plain 404, and the owner
must still be an active user. Schedules are county-wide reading (docs/bookings.md), so a feed
shows what its owner could read on the week pages. Tokens are made and revoked on
``/bookings/feeds``; the secret is shown once.
"""
from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from flask import Blueprint, Response, redirect, render_template, request, url_for
from flask_babel import gettext as _

from eduops import auth, county, ctx
from eduops.accounts import store as accounts
from eduops.auth import ROLES, current_user, require
from eduops.bookings import feed_tokens, ical, labels, schedule
from eduops.ctx import get_db, hub_config
from eduops.errors import NotFound

log = logging.getLogger(__name__)
bp = Blueprint("bookings_feeds", __name__)

PAST = timedelta(days=60)     # a feed keeps this much history, so last month's sessions stay in the app
FUTURE = timedelta(days=200)  # and looks this far ahead: the rest of a term and the next one's start


def _places() -> tuple[dict[str, str], dict[str, str]]:
    """({room code: name}, {school code: name}) a feed may follow: the broadcast and digital rooms, the schools."""
    rooms = schedule.source_rooms(get_db(), None)
    schools = {s["code"]: s["name"] for area in schedule.receiver_choices(get_db())
               for t in area["townships"] for s in t["schools"]}
    return {r["code"]: f"{r['name']} · {r['school_name']}" for r in rooms}, schools


def _feed_name(scope: str, target: str, owner: str) -> str:
    if scope == "teacher":
        return _("Sky classroom: sessions of %(name)s", name=owner)
    if scope == "room":
        room = schedule.room_info(get_db(), target)
        return _("Sky classroom: %(place)s", place=f"{room['name']} · {room['school_name']}")
    return _("Sky classroom: %(place)s", place=schedule.school_info(get_db(), target)["name"])


@bp.get("/bookings/feeds")
@require(*ROLES)
def feed_page(status: int = 200, error: str = ""):
    rooms, schools = _places()
    found = feed_tokens.of_user(get_db(), current_user().id)
    for f in found:
        f["name"] = _feed_name(f["scope"], f["target"], current_user().username)
    return render_template("bookings/feeds.html", feeds=found, rooms=rooms, schools=schools, error=error,
                           done=request.args.get("done")), status


@bp.post("/bookings/feeds")
@require(*ROLES)
def create_feed():
    user = current_user()
    scope = request.form.get("scope", "")
    rooms, schools = _places()
    target = {"teacher": str(user.id), "room": request.form.get("room", ""),
              "school": request.form.get("school", "")}.get(scope)
    if target is None:
        return feed_page(400, _("Choose what the calendar follows: your sessions, a room or a school."))
    if (scope == "room" and target not in rooms) or (scope == "school" and target not in schools):
        return feed_page(400, _("Choose a room or school from the list."))
    token_id, secret = feed_tokens.create(get_db(), user.id, user.username, scope, target, auth.actor(), ctx.now())
    log.info("%s made calendar feed %d (%s %s)", user.username, token_id, scope, target)
    return render_template(
        "secret.html", title=_feed_name(scope, target, user.username),
        secret=url_for(".feed", token=secret, _external=True), command=None, back=url_for(".feed_page"),
        note=_("Copy this address into your calendar app (subscribe to a calendar by URL). The hub keeps "
               "only its hash and cannot show it again; anyone with the address can read this calendar, "
               "so revoke it here if it leaks.")), 201


@bp.post("/bookings/feeds/<int:token_id>/revoke")
@require(*ROLES)
def revoke_feed(token_id: int):
    user = current_user()
    feed_tokens.revoke(get_db(), token_id, user.id, user.username, auth.actor(), ctx.now())
    return redirect(url_for(".feed_page", done="revoked"), 303)


def _describe(s: dict[str, Any], names: dict[str, str], states: dict[str, str]) -> tuple[str, str, str]:
    schools = list(dict.fromkeys(r["school_name"] for r in s["receivers"]))
    lines = [f"{names.get(s['kind'], s['kind'])} · {states.get(s['state'], s['state'])}",
             _("Host: %(name)s", name=s["host_username"])]
    if schools:
        lines.append(_("Receivers: %(n)d rooms in %(schools)s", n=len(s["receivers"]), schools="、".join(schools)))
    if s["reason"]:
        lines.append(_("Reason: %(why)s", why=s["reason"]))
    if s["notes"]:
        lines.append(s["notes"])
    return s["title"], f"{s['source_room_name']} · {s['source_school_name']}", "\n".join(lines)


@bp.get("/feeds/<token>.ics")
def feed(token: str):
    """One feed, for a calendar app: public, the token is the key."""
    db, now = get_db(), ctx.now()
    found = feed_tokens.find(db, token, now) if token.startswith(feed_tokens.PREFIX) else None
    owner = accounts.active_user(db, found.user_id) if found else None
    if owner is None:
        raise NotFound(_("There is no such calendar feed; it may have been revoked."), code="no_feed")
    start, end = now - PAST, now + FUTURE
    if found.scope == "teacher":
        sessions = schedule.sessions(db, start, end, host_id=owner.id)
    elif found.scope == "room":
        sessions = schedule.room_schedule(db, found.target, start, end)
    else:
        sessions = schedule.school_schedule(db, found.target, start, end)
    names, states = labels.kinds(), labels.states()
    body = ical.calendar(_feed_name(found.scope, found.target, owner.username), sessions,
                         county.get_meta(db, "hub_id"), hub_config().timezone,
                         lambda s: _describe(s, names, states),
                         lambda s: url_for("bookings_pages.show", session_id=s["id"], _external=True))
    return Response(body, mimetype="text/calendar",
                    headers={"Content-Disposition": f'inline; filename="{found.scope}-{found.id}.ics"'})
