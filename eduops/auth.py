"""Who is asking, and may they: sessions, API tokens, roles and schools, CSRF and security headers.

Deny by default: a route answers only if its view is wrapped in ``require(...)``
or its path is on the public allow-list below; anything else gets 403. The
agent API is left alone: agents authenticate with their own keys.
Admins pass every role check (the county admin may do everything).
"""
from __future__ import annotations

import functools
import hashlib
import hmac
import logging
import secrets
from typing import Any, Callable

from flask import Flask, Response, current_app, g, redirect, request, url_for
from flask_babel import gettext as _

from eduops import ctx
from eduops.accounts import store as accounts
from eduops.audit import Actor
from eduops.accounts.store import ROLES, User  # noqa: F401  (part of this module's interface)
from eduops.ctx import get_db, hub_config
from eduops.errors import ApiError
from eduops.accounts.login import SessionPolicy

log = logging.getLogger(__name__)

SESSION_COOKIE = "eduops_session"
LOGIN_COOKIE = "eduops_login"  # binds the sign-in form's CSRF token before any session exists
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
PUBLIC_PATHS = ("/login", "/healthz", "/static", "/lang", "/api/openapi.json", "/metrics",
                "/feeds")  # calendar apps cannot sign in: the feed token in the URL is the key
AGENT_API_PATHS = ("/api/v1/enroll", "/api/v1/reports", "/api/v1/commands", "/api/v1/schedule")
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; font-src 'self'; "
       "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
_ROLES_MARK = "eduops_required_roles"


def _under(path: str, prefixes: tuple[str, ...]) -> bool:
    return any(path == p or path.startswith(p + "/") for p in prefixes)


def is_public(rule: str) -> bool:
    """Whether a URL rule is on the public allow-list (no sign-in needed)."""
    return _under(rule, PUBLIC_PATHS) or _under(rule, AGENT_API_PATHS)


def required_roles(view: Callable[..., Any] | None) -> frozenset[str] | None:
    """The roles ``require`` admits to a view (admin included), or None when it has no role check."""
    return getattr(view, _ROLES_MARK, None)


def current_user() -> User | None:
    """The signed-in user of this request: from a Bearer API token if one is sent, else the session cookie."""
    if "eduops_user" not in g:
        g.eduops_user, g.eduops_auth = _authenticate()
    return g.eduops_user


def actor() -> Actor:
    """Who is doing this, for the audit log: the signed-in user (if any) and the client's address."""
    user = current_user()
    return Actor(user.username if user else None, request.remote_addr or "unknown")


def current_auth() -> str | None:
    """How this request signed in: "cookie" (a browser session), "token" (a script), or None."""
    current_user()
    return g.eduops_auth


def _authenticate() -> tuple[User | None, str | None]:
    db = get_db()
    header = request.headers.get("Authorization")
    if header is not None:  # a script: never fall back to a cookie, so a bad token is a clear 401
        scheme, _sep, token = header.partition(" ")
        user = accounts.token_user(db, token.strip(), ctx.now()) if scheme.lower() == "bearer" and token.strip() else None
        return user, "token"
    raw = request.cookies.get(SESSION_COOKIE)
    if raw:
        policy = SessionPolicy.of(hub_config())
        user = accounts.session_user(db, raw, ctx.now(), policy.idle, policy.lifetime)
        if user:
            return user, "cookie"
    return None, None


def require(*roles: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """View decorator admitting these roles (and admin). Not signed in: pages redirect to the
    sign-in page and /api/ answers 401; signed in with another role: 403."""
    if not roles or set(roles) - set(ROLES):
        raise ValueError(f"require() takes roles from {ROLES}, got {roles}")
    allowed = frozenset(roles) | {"admin"}

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            user = current_user()
            if user is None:
                if request.path.startswith("/api/"):
                    raise ApiError(401, "unauthorized", _(
                        "Sign in first: send your API token as the header 'Authorization: Bearer TOKEN'."))
                # back to the page after signing in; a form posted meanwhile cannot be replayed
                back = {"next": request.full_path.rstrip("?")} if request.method == "GET" else {}
                return redirect(url_for("accounts.login_page", **back), 303)
            if user.role not in allowed:
                raise ApiError(403, "forbidden", _("Your role may not do this; ask the county admin if you need to."))
            return view(*args, **kwargs)

        setattr(guarded, _ROLES_MARK, allowed)
        return guarded
    return decorate


def school_scope(user: User) -> frozenset[str] | None:
    """The schools a user may see; None means every school (admin and viewer)."""
    return user.school_codes if user.role in accounts.SCHOOL_ROLES else None


def require_school(user: User, school_code: str) -> None:
    """403 unless ``school_code`` is within the user's schools."""
    scope = school_scope(user)
    if scope is not None and school_code not in scope:
        raise ApiError(403, "forbidden_school", _("School %(code)s is not one of your schools.", code=school_code))


def csrf_token() -> str:
    """The token every form and state-changing browser request must send back (field or header)."""
    if current_auth() == "cookie":
        basis = request.cookies[SESSION_COOKIE]
    else:
        basis = request.cookies.get(LOGIN_COOKIE) or g.setdefault("eduops_new_login_cookie",
                                                                  secrets.token_urlsafe(32))
    return _sign(basis)


def _sign(basis: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, b"csrf:" + basis.encode(), hashlib.sha256).hexdigest()


def _check_csrf() -> None:
    basis = request.cookies.get(SESSION_COOKIE if current_auth() == "cookie" else LOGIN_COOKIE)
    sent = request.form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER) or ""
    if not basis or not hmac.compare_digest(sent.encode(), _sign(basis).encode()):
        raise ApiError(403, "csrf", _("This form has expired or did not come from the hub's own page; "
                                      "reload the page and try again."))


def _guard() -> None:
    rule = request.url_rule
    if rule is None or _under(rule.rule, AGENT_API_PATHS):
        return  # unknown paths get their 404/405; the agent API checks agent keys itself
    public = is_public(rule.rule)
    if required_roles(current_app.view_functions.get(request.endpoint)) is None and not public:
        log.warning("refused %s: route %s has no access rule", request.path, rule.rule)
        raise ApiError(403, "forbidden", _("This address has no access rule, so the hub refuses it."))
    if request.method not in SAFE_METHODS and (current_auth() == "cookie" or (public and current_auth() is None)):
        _check_csrf()


def set_session_cookie(response: Response, raw: str | None) -> None:
    """Give the browser its new session id (or, with None, take it away)."""
    if raw is None:
        response.delete_cookie(SESSION_COOKIE, httponly=True, samesite="Lax", secure=request.is_secure)
    else:
        response.set_cookie(SESSION_COOKIE, raw, httponly=True, samesite="Lax", secure=request.is_secure)


_SECURITY_HEADERS = (("Content-Security-Policy", CSP), ("X-Content-Type-Options", "nosniff"),
                     ("X-Frame-Options", "DENY"), ("Referrer-Policy", "same-origin"),
                     ("Cross-Origin-Opener-Policy", "same-origin"))


def security_headers(present: set[str], secure: bool, static: bool = False) -> list[tuple[str, str]]:
    """The security headers an answer lacks, given the (lower-case) names it has: every answer of the
    hub gets them, those of routes answered below Flask (eduops/bare.py) too."""
    missing = [(name, value) for name, value in _SECURITY_HEADERS if name.lower() not in present]
    if not static and "cache-control" not in present:
        missing.append(("Cache-Control", "no-store"))  # pages show what only this user may see
    if secure and "strict-transport-security" not in present:
        missing.append(("Strict-Transport-Security", "max-age=31536000"))
    return missing


def _finish(response: Response) -> Response:
    if "eduops_new_login_cookie" in g:
        response.set_cookie(LOGIN_COOKIE, g.eduops_new_login_cookie, httponly=True, samesite="Lax",
                            secure=request.is_secure)
    headers = response.headers
    headers.extend(security_headers({name.lower() for name in headers.keys()}, request.is_secure,
                                    request.endpoint == "static"))
    return response


def init_app(app: Flask) -> None:
    app.before_request(_guard)
    app.after_request(_finish)

    @app.context_processor
    def signed_in() -> dict[str, Any]:
        return {"current_user": current_user(), "csrf_token": csrf_token}
