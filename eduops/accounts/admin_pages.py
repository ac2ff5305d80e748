"""The county admin's pages: user management and the audit log."""
from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_babel import gettext as _

from eduops import audit, auth, ctx
from eduops.accounts import passwords
from eduops.accounts import store as accounts
from eduops.accounts.store import AccountError
from eduops.auth import require
from eduops.ctx import get_db, hub_config

bp = Blueprint("users", __name__)
AUDIT_PAGE = 100


def _school_codes(text: str) -> list[str]:
    return [code for code in re.split(r"[\s,，、;；]+", text) if code]


def _user_or_404(user_id: int) -> tuple[dict[str, Any], accounts.User]:
    rows = accounts.user_rows(get_db(), user_id)
    if not rows:
        abort(404)
    return rows[0], accounts.user_named(get_db(), rows[0]["username"])


def _new_password_page(username: str, password: str, status: int):
    return render_template("secret.html", title=_("Password for %(name)s", name=username), secret=password,
                           back=url_for("users.list_users"),
                           note=_("Give it to the person in private; they should change it under My account. "
                                  "The hub keeps only its hash and cannot show it again.")), status


def event_name(event: str) -> str:
    return {"login": _("Signed in"), "login_failed": _("Failed sign-in"), "logout": _("Signed out"),
            "password_changed": _("Changed own password"), "password_reset": _("Password reset"),
            "user_added": _("User added"), "access_changed": _("Role or schools changed"),
            "user_disabled": _("User disabled"), "user_enabled": _("User enabled"),
            "token_created": _("API token created"), "token_revoked": _("API token revoked"),
            "enroll_token_created": _("Enrollment token created"),
            "enroll_token_rotated": _("Enrollment token rotated"),
            "enroll_token_revoked": _("Enrollment token revoked"),
            "terminal_retired": _("Terminal retired"),
            "session_booked": _("Session booked"), "session_edited": _("Session changed"),
            "session_cancelled": _("Session cancelled"), "session_approved": _("Session approved"),
            "session_rejected": _("Session rejected"), "session_expired": _("Session expired unapproved")}.get(
                event, event)


@bp.context_processor
def helpers() -> dict[str, Any]:
    return {"event_name": event_name}


def _users_page(status: int = 200, **extra: Any):
    return render_template("accounts/users.html", users=accounts.user_rows(get_db()), form=request.form, **extra), status


@bp.get("/users")
@require("admin")
def list_users():
    return _users_page()


@bp.post("/users")
@require("admin")
def add_user():
    password = passwords.generate_password()
    username = request.form.get("username", "").strip()
    try:
        accounts.add_user(get_db(), username, request.form.get("role", ""),
                          _school_codes(request.form.get("schools", "")), password, auth.actor(), ctx.now())
    except AccountError as exc:
        return _users_page(400, error=str(exc))
    return _new_password_page(username, password, 201)


def _user_page(user_id: int, status: int = 200, **extra: Any):
    row, _user = _user_or_404(user_id)
    return render_template("accounts/user.html", row=row, tokens=accounts.user_tokens(get_db(), user_id), **extra), status


@bp.get("/users/<int:user_id>")
@require("admin")
def edit_user(user_id: int):
    return _user_page(user_id)


@bp.post("/users/<int:user_id>/access")
@require("admin")
def change_access(user_id: int):
    _row, user = _user_or_404(user_id)
    try:
        accounts.set_access(get_db(), user, request.form.get("role", ""),
                            _school_codes(request.form.get("schools", "")), auth.actor(), ctx.now())
    except AccountError as exc:
        return _user_page(user_id, 400, error=str(exc))
    return redirect(url_for("users.edit_user", user_id=user_id), 303)


@bp.post("/users/<int:user_id>/password")
@require("admin")
def reset_password(user_id: int):
    _row, user = _user_or_404(user_id)
    password = passwords.generate_password()
    accounts.set_password(get_db(), user, password, auth.actor(), ctx.now())
    return _new_password_page(user.username, password, 200)


@bp.post("/users/<int:user_id>/<any(disable, enable):action>")
@require("admin")
def set_disabled(user_id: int, action: str):
    row, _user = _user_or_404(user_id)
    try:
        accounts.set_disabled(get_db(), row["username"], action == "disable", auth.actor(), ctx.now())
    except AccountError as exc:
        return _user_page(user_id, 400, error=str(exc))
    return redirect(url_for("users.edit_user", user_id=user_id), 303)


@bp.post("/users/<int:user_id>/tokens/<int:token_id>/revoke")
@require("admin")
def revoke_token(user_id: int, token_id: int):
    _row, user = _user_or_404(user_id)
    try:
        accounts.revoke_token(get_db(), token_id, auth.actor(), ctx.now(), owner=user)
    except AccountError as exc:
        return _user_page(user_id, 404, error=str(exc))
    return redirect(url_for("users.edit_user", user_id=user_id), 303)


def _local_day(text: str, zone: ZoneInfo) -> datetime | None:
    """The start of a county-local day given as YYYY-MM-DD (empty: None)."""
    if not text:
        return None
    try:
        return datetime.combine(date.fromisoformat(text), time(), zone)
    except ValueError:
        raise AccountError(_("Dates are written YYYY-MM-DD, such as 2024-09-01.")) from None


@bp.get("/audit")
@require("admin")
def audit_log():
    args = request.args
    zone = ZoneInfo(hub_config().timezone)
    try:
        since, until = _local_day(args.get("from", ""), zone), _local_day(args.get("to", ""), zone)
    except AccountError as exc:
        return render_template("accounts/audit.html", events=[], error=str(exc), events_known=audit.EVENTS), 400
    event = args.get("event") if args.get("event") in audit.EVENTS else None
    events = audit.search(get_db(), user=args.get("user", "").strip() or None, event=event, since=since,
                          until=until + timedelta(days=1) if until else None,
                          before_id=args.get("before", type=int), limit=AUDIT_PAGE)
    older = dict(args, before=events[-1]["id"]) if len(events) == AUDIT_PAGE else None
    return render_template("accounts/audit.html", events=events, events_known=audit.EVENTS, older=older)
