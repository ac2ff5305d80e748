"""The fleet's pages for school IT staff and the county admin: terminals and enrollment tokens.

IT staff see and act on their own schools only, the county admin on all; viewers may
look at the terminals. Storage is in ``store`` and ``tokens``; these views only read
the form, check the school, and render.
"""
from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for
from flask_babel import format_timedelta
from flask_babel import gettext as _

from eduops import auth, ctx
from eduops.i18n import local_time
from eduops.auth import current_user, require, require_school, school_scope
from eduops.clock import from_iso
from eduops.ctx import get_db, hub_config
from eduops.errors import ApiError
from eduops.fleet import agents, store, tokens
from scheduler.states import STATES

log = logging.getLogger(__name__)
bp = Blueprint("fleet_pages", __name__, url_prefix="/fleet")

PAGE_SIZE = 300
MAX_USES = 100_000


def state_name(state: str) -> str:
    return {"online": _("Online"), "stale": _("Missed reports"), "offline": _("Offline"),
            "expected_off": _("Off as expected"), "retired": _("Retired")}.get(state, state)


def token_status_name(status: str) -> str:
    return {"active": _("Active"), "expired": _("Expired"), "revoked": _("Revoked"),
            "used up": _("Used up")}.get(status, status)


def ago(iso: str | None) -> str:
    """How long before now a stored UTC time was, in the page's language ("5 minutes ago")."""
    return format_timedelta(from_iso(iso) - ctx.now(), add_direction=True) if iso else ""


@bp.context_processor
def helpers() -> dict[str, Any]:
    return {"state_name": state_name, "token_status_name": token_status_name, "ago": ago, "states": STATES,
            "room_kind_name": room_kind_name}


def _schools() -> dict[str, str]:
    """{code: name} of the schools the signed-in user may choose."""
    return store.school_names(get_db(), school_scope(current_user()))


def _int_field(name: str, low: int, high: int, label: str, default: int | None = None) -> int | None:
    text = request.form.get(name, "").strip()
    if not text:
        return default
    if not text.isdigit() or not low <= int(text) <= high:
        raise tokens.TokenError(_("%(field)s must be a whole number from %(low)d to %(high)d.",
                                  field=label, low=low, high=high))
    return int(text)


@bp.get("/terminals")
@require("it_staff", "viewer")
def terminals():
    user, db = current_user(), get_db()
    scope = school_scope(user)
    default = sorted(scope)[0] if scope else ""
    school = request.args.get("school", default)
    if school:
        require_school(user, school)
    state = request.args.get("state", "")
    if state and state not in STATES:
        raise ApiError(400, "bad_filter", _("State must be one of: %(states)s.", states=", ".join(STATES)))
    proposed = request.args.get("proposed") == "1"
    page = max(1, request.args.get("page", 1, type=int))
    found = store.list_agents(db, school or None, state or None, proposed, schools=scope,
                              limit=PAGE_SIZE + 1, offset=(page - 1) * PAGE_SIZE)
    rows = found[:PAGE_SIZE]
    args = {k: v for k, v in dict(school=school, state=state, proposed="1" if proposed else "").items()
            if v or k == "school"}
    return render_template(
        "fleet/terminals.html", rows=rows, days=store.latest_days(db, [a["id"] for a in rows]),
        schools=_schools(), school=school, state=state, proposed=proposed, page=page,
        counts=store.state_counts(db, {school} if school else scope),
        older=url_for(".terminals", **args, page=page + 1) if len(found) > PAGE_SIZE else None,
        newer=url_for(".terminals", **args, page=page - 1) if page > 1 else None,
        skew_warn_s=hub_config().clock_skew_warn_s, may_act=user.role in ("it_staff", "admin"),
        done=request.args.get("done"))


@bp.post("/terminals/<agent_id>/retire")
@require("it_staff")
def retire_terminal(agent_id: str):
    found = store.agent_detail(get_db(), agent_id)
    if found is None:
        raise ApiError(404, "not_found", _("There is no terminal %(id)s.", id=agent_id))
    require_school(current_user(), found["school_code"])
    agents.retire(get_db(), agent_id, ctx.now(), auth.actor())
    log.info("%s retired terminal %s of %s", current_user().username, agent_id, found["school_code"])
    return redirect(url_for(".terminals", school=found["school_code"], done=agent_id), 303)


def room_kind_name(kind: str) -> str:
    return {"ordinary": _("Ordinary classroom"), "digital": _("Standard digital classroom"),
            "broadcast": _("Interactive broadcast classroom")}.get(kind, kind)


def room_commands(school: str, token: str) -> list[dict[str, Any]]:
    """The school's rooms, each with the install-and-enroll command of the agent bundle's scripts for
    Linux and for Windows, as the person installing will paste them (docs/agent.md, sections 3 and 4)."""
    hub = request.host_url.rstrip("/")
    rooms = store.school_rooms(get_db(), school)
    for room in rooms:
        room["linux"] = f"sudo sh install-linux.sh --hub {hub} --token {token} --room {room['code']}"
        room["windows"] = (f"powershell -ExecutionPolicy Bypass -File .\\install-windows.ps1 -Hub {hub} "
                           f"-Token {token} -Room {room['code']}")
    return rooms


def _tokens_page(status: int = 200, **extra: Any):
    now = ctx.now()
    found = tokens.list_tokens(get_db(), school_scope(current_user()))
    for t in found:
        t["status"] = tokens.token_status(t, now)
    schools = _schools()
    # The county admin has every school: the rooms are shown for the one asked for, IT staff see their own.
    rooms_school = request.args.get("rooms") or (next(iter(schools)) if len(schools) == 1 else "")
    if rooms_school:
        require_school(current_user(), rooms_school)
    return render_template("fleet/tokens.html", tokens=found, schools=schools, form=request.form,
                           default_days=hub_config().enroll_token_days, done=request.args.get("done"),
                           rooms_school=rooms_school,
                           rooms=room_commands(rooms_school, "TOKEN") if rooms_school else [], **extra), status


def _secret_page(new: tokens.NewToken, status: int):
    return render_template(
        "secret.html", title=_("Enrollment token %(id)d for %(school)s", id=new.id, school=new.school_code),
        secret=new.secret, back=url_for(".token_list"), rooms=room_commands(new.school_code, new.secret),
        note=_("Copy it now: the hub keeps only its hash and cannot show it again. It lasts until %(until)s.",
               until=local_time(new.expires_at))), status


@bp.get("/tokens")
@require("it_staff")
def token_list():
    return _tokens_page()


@bp.post("/tokens")
@require("it_staff")
def create_token():
    school = request.form.get("school", "")
    if school:
        require_school(current_user(), school)
    try:
        if not school:
            raise tokens.TokenError(_("Choose the school the token is for."))
        days = _int_field("days", 1, 365, _("Days valid"), hub_config().enroll_token_days)
        uses = _int_field("max_uses", 1, MAX_USES, _("Most enrollments"))
        new = tokens.create_token(get_db(), school, ctx.now(), timedelta(days=days), uses, auth.actor())
    except tokens.TokenError as exc:
        return _tokens_page(400, error=str(exc))
    log.info("%s created enrollment token %d for %s", current_user().username, new.id, school)
    return _secret_page(new, 201)


def _token_in_scope(token_id: int) -> str:
    school = tokens.token_school(get_db(), token_id)
    if school is None:
        raise ApiError(404, "not_found", _("There is no enrollment token number %(id)d.", id=token_id))
    require_school(current_user(), school)
    return school


@bp.post("/tokens/<int:token_id>/revoke")
@require("it_staff")
def revoke_token(token_id: int):
    school = _token_in_scope(token_id)
    tokens.revoke_token(get_db(), token_id, ctx.now(), auth.actor())
    log.info("%s revoked enrollment token %d of %s", current_user().username, token_id, school)
    return redirect(url_for(".token_list", done="revoked"), 303)


@bp.post("/tokens/<int:token_id>/rotate")
@require("it_staff")
def rotate_token(token_id: int):
    school = _token_in_scope(token_id)
    try:
        new = tokens.rotate_token(get_db(), token_id, ctx.now(), timedelta(days=hub_config().enroll_token_days),
                                 auth.actor())
    except tokens.TokenError:
        return _tokens_page(400, error=_("Token %(id)d is revoked or expired; create a new one instead.",
                                         id=token_id))
    log.info("%s rotated enrollment token %d of %s into %d", current_user().username, token_id, school, new.id)
    return _secret_page(new, 201)
