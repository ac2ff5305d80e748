"""The terminals API for people, guarded by an access layer passed in (here a fake with a chosen user)."""
import functools
from dataclasses import dataclass

import pytest

from eduops.app import create_app
from eduops.errors import ApiError
from eduops.fleet import staff_api
from tests.fleet_kit import Agent, build_county, create_token


@dataclass(frozen=True)
class User:
    username: str
    role: str
    school_codes: frozenset


class FakeAccess:
    """The accounts contract's four functions, with the signed-in user chosen by the test."""

    def __init__(self):
        self.user: User | None = None

    def require(self, *roles):
        def decorate(view):
            @functools.wraps(view)
            def guarded(*args, **kwargs):
                if self.user is None:
                    raise ApiError(401, "unauthorized", "Sign in first.")
                if self.user.role not in roles and self.user.role != "admin":
                    raise ApiError(403, "forbidden", "Your role may not do this.")
                return view(*args, **kwargs)
            return guarded
        return decorate

    def current_user(self):
        return self.user

    def school_scope(self, user):
        return user.school_codes if user.role in ("it_staff", "teacher") else None

    def require_school(self, user, school_code):
        scope = self.school_scope(user)
        if scope is not None and school_code not in scope:
            raise ApiError(403, "forbidden_school", f"School {school_code} is not one of your schools.")


IT_S1 = User("li", "it_staff", frozenset({"S1"}))
VIEWER = User("county", "viewer", frozenset())


@pytest.fixture
def world(db_path, hub_config, fresh_db):
    build_county(db_path)
    access = FakeAccess()
    app = create_app(hub_config)
    app.register_blueprint(staff_api.blueprint(access))
    client = app.test_client()
    ids = {}
    for school, room in (("S1", "S1-R2"), ("S2", "S2-R1")):
        agent = Agent("", room=room)
        answer = client.post("/api/v1/enroll", json={"token": create_token(db_path, school), "room": room,
                                                     "instance_id": agent.instance_id, "hardware": agent.hardware})
        ids[school] = answer.json["agent_id"]
    return client, access, ids


def test_signed_out_is_401_and_a_viewer_may_look_but_not_act(world):
    client, access, ids = world
    assert client.get("/api/v1/terminals").status_code == 401
    access.user = VIEWER
    assert {t["school_code"] for t in client.get("/api/v1/terminals").json["terminals"]} == {"S1", "S2"}
    assert client.post(f"/api/v1/terminals/{ids['S1']}/retire").status_code == 403


def test_it_staff_see_and_act_on_their_own_school_only(world):
    client, access, ids = world
    access.user = IT_S1
    listed = client.get("/api/v1/terminals").json["terminals"]
    assert [t["id"] for t in listed] == [ids["S1"]]
    assert listed[0]["state"] == "online" and listed[0]["flags"] == 0
    assert client.get("/api/v1/terminals?school=S2").status_code == 403
    assert client.get(f"/api/v1/terminals/{ids['S2']}").status_code == 403
    assert client.post(f"/api/v1/terminals/{ids['S2']}/retire").status_code == 403
    shown = client.get(f"/api/v1/terminals/{ids['S1']}").json
    assert shown["history"][0]["to_state"] == "online" and shown["commands"] == []


def test_it_staff_confirm_a_retirement(world, fresh_db):
    client, access, ids = world
    access.user = IT_S1
    answer = client.post(f"/api/v1/terminals/{ids['S1']}/retire")
    assert answer.status_code == 200 and answer.json == {"id": ids["S1"], "school_code": "S1",
                                                         "state": "retired", "was": "online"}
    assert fresh_db.execute("SELECT reason FROM agent_states ORDER BY id DESC").fetchone()[0] == "retired by li"
    queued = client.post(f"/api/v1/terminals/{ids['S1']}/commands", json={"kind": "send_inventory"})
    assert queued.status_code == 409


def test_it_staff_queue_a_command(world):
    client, access, ids = world
    access.user = IT_S1
    queued = client.post(f"/api/v1/terminals/{ids['S1']}/commands",
                         json={"kind": "refresh_schedule", "expires_in_s": 3600})
    assert queued.status_code == 201 and queued.json["kind"] == "refresh_schedule"
    bad = client.post(f"/api/v1/terminals/{ids['S1']}/commands", json={"kind": "reboot"})
    assert bad.status_code == 400 and bad.json["details"][0]["path"] == "kind"
    assert client.get(f"/api/v1/terminals/{ids['S1']}").json["commands"][0]["id"] == queued.json["id"]


def test_unknown_terminals_and_states_are_precise_errors(world):
    client, access, _ = world
    access.user = VIEWER
    assert client.get("/api/v1/terminals/ag_nobody").status_code == 404
    assert client.get("/api/v1/terminals?state=asleep").json["error"] == "invalid"


def test_registered_routes_join_the_openapi_document(world):
    client, _, _ = world
    paths = client.get("/api/openapi.json").json["paths"]
    assert "/api/v1/terminals/{agent_id}/retire" in paths
    assert paths["/api/v1/terminals/{agent_id}/commands"]["post"]["requestBody"]["content"][
        "application/json"]["schema"] == {"$ref": "#/components/schemas/CommandRequest"}
