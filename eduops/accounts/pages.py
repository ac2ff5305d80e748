"""Signing in and out, and one's own account: password and API tokens."""
from __future__ import annotations

import logging
import math
from typing import Any, Literal

from flask import Blueprint, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from pydantic import BaseModel, ConfigDict

from eduops import auth, ctx, openapi
from eduops.accounts import login
from eduops.accounts import store as accounts
from eduops.accounts.store import AccountError
from eduops.auth import ROLES, current_user, require
from eduops.ctx import get_db, hub_config
from eduops.errors import ErrorAnswer

log = logging.getLogger(__name__)
bp = Blueprint("accounts", __name__)


def client_address() -> str:
    return request.remote_addr or "unknown"


def role_name(role: str) -> str:
    return {"admin": _("County admin"), "it_staff": _("School IT staff"), "teacher": _("Teacher"),
            "viewer": _("Viewer")}.get(role, role)


@bp.app_context_processor
def helpers() -> dict[str, Any]:
    return {"role_name": role_name, "roles": ROLES}


def _next_page() -> str:
    """Where to go after signing in: a path on this hub only, never another site."""
    target = request.values.get("next", "")
    if target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("pages.index")


@bp.route("/login", methods=["GET", "POST"])
def login_page():
    if request.method == "GET":
        return render_template("accounts/login.html", next=request.args.get("next", ""))
    username = request.form.get("username", "")
    db, address = get_db(), client_address()
    try:
        user, raw = login.sign_in(db, hub_config(), username, request.form.get("password", ""), address, ctx.now())
    except login.RateLimitedError as exc:
        log.warning("sign-in refused from %s: too many failures, retry in %d s", address, exc.retry_after)
        message = _("Too many failed sign-ins. Try again in %(minutes)d minute(s).",
                    minutes=math.ceil(exc.retry_after / 60))
        return render_template("accounts/login.html", next=request.form.get("next", ""), error=message,
                               username=username), 429, {"Retry-After": str(exc.retry_after)}
    except login.BadCredentialsError:
        log.info("failed sign-in from %s", address)
        return render_template("accounts/login.html", next=request.form.get("next", ""), username=username,
                               error=_("Wrong username or password.")), 401
    if current_user() is not None and auth.current_auth() == "cookie":  # another account was signed in here
        accounts.end_session(db, request.cookies[auth.SESSION_COOKIE], auth.actor(), ctx.now())
    log.info("%s signed in from %s", user.username, address)
    response = redirect(_next_page(), 303)
    auth.set_session_cookie(response, raw)
    return response


@bp.post("/logout")
@require(*ROLES)
def logout():
    if auth.current_auth() == "cookie":
        accounts.end_session(get_db(), request.cookies[auth.SESSION_COOKIE], auth.actor(), ctx.now())
        log.info("%s signed out", current_user().username)
    response = redirect(url_for("accounts.login_page"), 303)
    auth.set_session_cookie(response, None)
    return response


def _account_page(status: int = 200, **extra: Any):
    user = current_user()
    return render_template("accounts/account.html", user=user, tokens=accounts.user_tokens(get_db(), user.id),
                           done=request.args.get("done"), **extra), status


@bp.get("/account")
@require(*ROLES)
def account():
    return _account_page()


@bp.post("/account/password")
@require(*ROLES)
def change_password():
    user, db = current_user(), get_db()
    new = request.form.get("new_password", "")
    if new != request.form.get("confirm_password", ""):
        return _account_page(400, password_error=_("The two new passwords differ."))
    try:
        login.check_password(db, hub_config(), user.username, request.form.get("current_password", ""),
                             client_address(), ctx.now())
        accounts.set_password(db, user, new, auth.actor(), ctx.now(),
                              keep_session=request.cookies.get(auth.SESSION_COOKIE))
    except login.RateLimitedError as exc:
        return _account_page(429, password_error=_("Too many failed sign-ins. Try again in %(minutes)d minute(s).",
                                                   minutes=math.ceil(exc.retry_after / 60)))
    except login.BadCredentialsError:
        return _account_page(400, password_error=_("Your current password is not right."))
    except AccountError as exc:
        return _account_page(400, password_error=str(exc))
    return redirect(url_for("accounts.account", done="password"), 303)


@bp.post("/account/tokens")
@require(*ROLES)
def create_token():
    user = current_user()
    try:
        token_id, raw = accounts.create_token(get_db(), user, request.form.get("name", ""), auth.actor(), ctx.now())
    except AccountError as exc:
        return _account_page(400, token_error=str(exc))
    return render_template("secret.html", title=_("New API token"), secret=raw, back=url_for("accounts.account"),
                           note=_("Copy it now: the hub keeps only its hash and cannot show it again. "
                                  "Scripts send it as the header 'Authorization: Bearer TOKEN'.")), 201


@bp.post("/account/tokens/<int:token_id>/revoke")
@require(*ROLES)
def revoke_token(token_id: int):
    user = current_user()
    try:
        accounts.revoke_token(get_db(), token_id, auth.actor(), ctx.now(), owner=user)
    except AccountError as exc:
        return _account_page(404, token_error=str(exc))
    return redirect(url_for("accounts.account", done="revoked"), 303)


class Me(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: int
    username: str
    role: Literal[ROLES]
    schools: list[str]
    auth: Literal["cookie", "token"]


@bp.get("/api/v1/me")
@openapi.operation("Who the token or session belongs to", answers={200: Me, 401: ErrorAnswer},
                   security="userToken")
@require(*ROLES)
def me():
    """Who the token or session belongs to: scripts check their token with it."""
    user = current_user()
    return jsonify(id=user.id, username=user.username, role=user.role,
                   schools=sorted(user.school_codes), auth=auth.current_auth())
