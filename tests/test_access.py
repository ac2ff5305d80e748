"""Deny by default: every route of the hub checks role (and school) on the server, for every role.

The matrix walks app.url_map, so a route added later is covered without
anyone remembering to; a route whose URL takes a new kind of argument needs a
sample value in SAMPLE_ARGS.
"""
import pytest
from flask import Blueprint, jsonify

from eduops import auth
from eduops.accounts import store as accounts
from eduops import config as configmod
from eduops import db as dbmod
from eduops.app import create_app
from eduops.audit import COMMAND_LINE
from eduops.auth import ROLES, current_user, require, require_school, school_scope
from eduops.clock import utcnow

# The only routes anyone may reach without signing in; the agent API checks agent keys itself.
PUBLIC = {"/login", "/healthz", "/static/<path:filename>", "/lang/<code>", "/api/openapi.json", "/metrics",
          "/feeds/<token>.ics"}
AGENT_API = ("/api/v1/enroll", "/api/v1/reports", "/api/v1/commands", "/api/v1/schedule")
IDENTITIES = ("anonymous", "viewer", "teacher@S1", "teacher@S2", "it_staff@S1", "it_staff@S2", "admin")


def _is_agent_api(rule: str) -> bool:
    return any(rule == p or rule.startswith(p + "/") for p in AGENT_API)


def _guarded_routes(app):
    return sorted((rule.rule, method, rule.endpoint) for rule in app.url_map.iter_rules()
                  if rule.rule not in PUBLIC and not _is_agent_api(rule.rule)
                  for method in sorted(rule.methods - {"HEAD", "OPTIONS"}))


# create_app reads no database, so the routes are known when the tests are collected.
URL_MAP_APP = create_app(configmod.load(env={}, overrides={"secret_key": "collection-only"}))
ROUTES = [(rule, method) for rule, method, _endpoint in _guarded_routes(URL_MAP_APP)]


def test_every_route_but_the_public_allow_list_has_a_role_check():
    unguarded = [f"{method} {rule} ({endpoint})" for rule, method, endpoint in _guarded_routes(URL_MAP_APP)
                 if auth.required_roles(URL_MAP_APP.view_functions[endpoint]) is None]
    assert not unguarded, f"routes without @require(...): {unguarded}"
    for rule in URL_MAP_APP.url_map.iter_rules():
        assert auth.is_public(rule.rule) == (rule.rule in PUBLIC or _is_agent_api(rule.rule)), rule.rule


def test_a_route_without_a_role_check_is_refused_to_everyone(hub_config, fresh_db, make_user, login):
    app = create_app(hub_config)
    forgot = Blueprint("forgot", __name__)
    forgot.add_url_rule("/forgot", "forgot", lambda: "secret inventory")
    app.register_blueprint(forgot)
    client = app.test_client()
    login(client, make_user("admin"))
    answer = client.get("/forgot")
    assert answer.status_code == 403
    assert "secret inventory" not in answer.text


# Who may use each route (admin may use all): the access policy, written down once more so a
# slip in a decorator shows. Every guarded endpoint needs its line here.
EVERYONE = {"viewer", "teacher", "it_staff", "admin"}
POLICY = {
    "pages.index": EVERYONE,
    "accounts.logout": EVERYONE, "accounts.account": EVERYONE, "accounts.change_password": EVERYONE,
    "accounts.create_token": EVERYONE, "accounts.revoke_token": EVERYONE, "accounts.me": EVERYONE,
    "users.list_users": {"admin"}, "users.add_user": {"admin"}, "users.edit_user": {"admin"},
    "users.change_access": {"admin"}, "users.reset_password": {"admin"}, "users.set_disabled": {"admin"},
    "users.revoke_token": {"admin"}, "users.audit_log": {"admin"},
    **{f"coverage.{view}": EVERYONE for view in ("overview", "area", "township", "school", "school_class",
                                                   "gap_page", "gap_export", "disagreement_page")},
    **{f"coverage_api.{view}": EVERYONE for view in ("county", "area", "township", "school", "school_class",
                                                       "gap_list", "disagreement_list", "trend")},
    "fleet_staff.list_terminals": {"it_staff", "viewer", "admin"},
    "fleet_staff.show_terminal": {"it_staff", "viewer", "admin"},
    "fleet_staff.retire_terminal": {"it_staff", "admin"}, "fleet_staff.queue_command": {"it_staff", "admin"},
    "fleet_pages.terminals": {"it_staff", "viewer", "admin"}, "fleet_pages.retire_terminal": {"it_staff", "admin"},
    **{f"fleet_pages.{view}": {"it_staff", "admin"} for view in ("token_list", "create_token", "revoke_token",
                                                                 "rotate_token")},
    **{f"bookings_pages.{view}": EVERYONE for view in ("show", "rooms_index", "room_week", "school_week")},
    **{f"bookings_pages.{view}": {"teacher", "it_staff", "admin"}
       for view in ("mine", "new_form", "create", "edit_form", "edit", "cancel", "school_classes")},
    **{f"bookings_pages.{view}": {"admin"} for view in ("approvals", "approve", "reject")},
    **{f"bookings_feeds.{view}": EVERYONE for view in ("feed_page", "create_feed", "revoke_feed")},
    **{f"bookings_api.{view}": EVERYONE for view in ("list_sessions", "show_session", "room_schedule",
                                                       "school_schedule")},
    **{f"bookings_api.{view}": {"teacher", "it_staff", "admin"} for view in ("create_session", "check_session",
                                                                           "edit_session", "cancel_session")},
    "bookings_api.approve_session": {"admin"}, "bookings_api.reject_session": {"admin"},
    **{f"delivery_pages.{view}": EVERYONE for view in ("overview", "overview_export", "upcoming", "notifications",
                                                        "notifications_read")},
    "delivery_pages.attendance": {"teacher", "it_staff", "admin"},
    "delivery_api.delivered_figures": EVERYONE,
    **{f"delivery_pages.{view}": {"it_staff", "admin"} for view in ("robots", "add_robot", "delete_robot")},
}


def test_every_guarded_route_has_its_policy_and_its_decorator_agrees():
    endpoints = {endpoint for _rule, _method, endpoint in _guarded_routes(URL_MAP_APP)}
    assert not endpoints - set(POLICY), f"add these endpoints to POLICY: {sorted(endpoints - set(POLICY))}"
    for endpoint in endpoints:
        assert auth.required_roles(URL_MAP_APP.view_functions[endpoint]) == POLICY[endpoint], endpoint


# A value for each kind of URL argument; "victim" and "victim_token" stand for a teacher of S2 and their token.
SAMPLE_ARGS = {"user_id": "victim", "token_id": "victim_token", "action": "disable", "code": "nowhere",
               "fmt": "csv", "agent_id": "ag_nowhere",
               "session_id": "999", "robot_id": "999"}


def _victim(db_path, make_user):
    victim = make_user("teacher", ["S2"])
    database = dbmod.connect(db_path)
    try:
        token_id, _raw = accounts.create_token(database, accounts.user_named(database, victim.username),
                                               "victim's script", COMMAND_LINE, utcnow())
    finally:
        database.conn.close()
    return {"victim": victim.id, "victim_token": token_id}


def _url(rule, samples) -> str:
    missing = set(rule.arguments) - set(SAMPLE_ARGS)
    assert not missing, f"{rule.rule}: add sample values for {missing} to SAMPLE_ARGS"
    values = {arg: samples.get(SAMPLE_ARGS[arg], SAMPLE_ARGS[arg]) for arg in rule.arguments}
    return rule.build(values)[1]


@pytest.mark.parametrize("rule_text,method", ROUTES)
def test_each_role_reaches_exactly_the_routes_it_may(rule_text, method, app, db_path, two_schools,
                                                     make_user, login):
    rule = next(r for r in app.url_map.iter_rules() if r.rule == rule_text and method in r.methods)
    allowed = POLICY[rule.endpoint]
    url = _url(rule, _victim(db_path, make_user))
    for identity in IDENTITIES:  # admin last: its changes cannot hide another identity's denial
        client = app.test_client()
        if identity != "anonymous":
            role, _at, school = identity.partition("@")
            login(client, make_user(role, [school] if school else []))
        answer = client.open(url, method=method)
        where = f"{identity} {method} {url}: {answer.status_code}"
        if identity == "anonymous":
            if url.startswith("/api/"):
                assert answer.status_code == 401, where
            else:
                assert answer.status_code == 303, where
                assert answer.headers["Location"].split("?")[0] == "/login", where
        elif identity.partition("@")[0] in allowed:
            assert answer.status_code not in (401, 403), where
            if rule.endpoint != "accounts.logout":  # the one route that sends a signed-in user to /login
                assert not answer.headers.get("Location", "").startswith("/login"), where
        else:
            assert answer.status_code == 403, where


def _school_api(app):
    """A route as the fleet and coverage branches write them: role first, then the school."""
    bp = Blueprint("school_probe", __name__)

    @bp.get("/api/v1/probe-schools/<code>")
    @require("it_staff", "teacher", "viewer")
    def probe(code):
        require_school(current_user(), code)
        return jsonify(code=code, scope=sorted(school_scope(current_user()) or []))
    app.register_blueprint(bp)


@pytest.mark.parametrize("role,school,target,status", [
    ("it_staff", "S1", "S1", 200), ("it_staff", "S1", "S2", 403),
    ("teacher", "S2", "S2", 200), ("teacher", "S2", "S1", 403),
    ("viewer", None, "S1", 200), ("viewer", None, "S2", 200),
    ("admin", None, "S2", 200)])
def test_school_staff_reach_only_their_own_schools(role, school, target, status, hub_config, fresh_db,
                                                    two_schools, make_user, login):
    app = create_app(hub_config)
    _school_api(app)
    client = app.test_client()
    login(client, make_user(role, [school] if school else []))
    answer = client.get(f"/api/v1/probe-schools/{target}")
    assert answer.status_code == status, answer.text
    if status == 403:
        assert answer.json["error"] == "forbidden_school"


def test_school_scope_is_the_users_schools_or_every_school():
    staff = auth.User(1, "a", "it_staff", frozenset({"S1", "S2"}))
    assert school_scope(staff) == {"S1", "S2"}
    assert school_scope(auth.User(2, "b", "teacher", frozenset({"S1"}))) == {"S1"}
    assert school_scope(auth.User(3, "c", "admin", frozenset())) is None
    assert school_scope(auth.User(4, "d", "viewer", frozenset())) is None


def test_require_refuses_unknown_roles_at_definition():
    with pytest.raises(ValueError):
        require("superuser")
    with pytest.raises(ValueError):
        require()
    assert auth.required_roles(require("teacher")(lambda: None)) == {"teacher", "admin"}
    assert set(ROLES) == {"admin", "it_staff", "teacher", "viewer"}
