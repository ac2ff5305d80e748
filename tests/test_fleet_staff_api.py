"""The terminals API for people, behind the hub's real accounts: roles and schools decide."""
import pytest

from eduops.app import create_app
from tests.support.fleet_kit import Agent, build_county, create_token


@pytest.fixture
def world(db_path, hub_config, fresh_db, make_user, login):
    """Two schools with one enrolled agent each; ``sign_in(role, schools)`` gives a signed-in client."""
    build_county(db_path)
    app = create_app(hub_config)
    client = app.test_client()
    ids = {}
    for school, room in (("S1", "S1-R2"), ("S2", "S2-R1")):
        agent = Agent("", room=room)
        answer = client.post("/api/v1/enroll", json={"token": create_token(db_path, school), "room": room,
                                                     "instance_id": agent.instance_id, "hardware": agent.hardware})
        ids[school] = answer.json["agent_id"]

    def sign_in(role: str, *schools: str):
        signed_in = app.test_client()
        login(signed_in, make_user(role, schools))
        return signed_in
    return client, sign_in, ids


def test_signed_out_is_401_and_a_viewer_may_look_but_not_act(world):
    client, sign_in, ids = world
    assert client.get("/api/v1/terminals").status_code == 401
    viewer = sign_in("viewer")
    assert {t["school_code"] for t in viewer.get("/api/v1/terminals").json["terminals"]} == {"S1", "S2"}
    assert viewer.post(f"/api/v1/terminals/{ids['S1']}/retire").status_code == 403
    assert sign_in("teacher", "S1").get("/api/v1/terminals").status_code == 403


def test_it_staff_see_and_act_on_their_own_school_only(world):
    _, sign_in, ids = world
    staff = sign_in("it_staff", "S1")
    listed = staff.get("/api/v1/terminals").json["terminals"]
    assert [t["id"] for t in listed] == [ids["S1"]]
    assert listed[0]["state"] == "online" and listed[0]["flags"] == 0
    assert staff.get("/api/v1/terminals?school=S2").status_code == 403
    assert staff.get(f"/api/v1/terminals/{ids['S2']}").status_code == 403
    assert staff.post(f"/api/v1/terminals/{ids['S2']}/retire").status_code == 403
    shown = staff.get(f"/api/v1/terminals/{ids['S1']}").json
    assert shown["history"][0]["to_state"] == "online" and shown["commands"] == []


def test_it_staff_confirm_a_retirement(world, fresh_db):
    _, sign_in, ids = world
    staff = sign_in("it_staff", "S1")
    answer = staff.post(f"/api/v1/terminals/{ids['S1']}/retire")
    assert answer.status_code == 200 and answer.json == {"id": ids["S1"], "school_code": "S1",
                                                         "state": "retired", "was": "online"}
    reason = fresh_db.execute("SELECT reason FROM agent_states ORDER BY id DESC").fetchone()[0]
    assert reason == "retired by it-staff1"
    queued = staff.post(f"/api/v1/terminals/{ids['S1']}/commands", json={"kind": "send_inventory"})
    assert queued.status_code == 409


def test_it_staff_queue_a_command(world):
    _, sign_in, ids = world
    staff = sign_in("it_staff", "S1")
    queued = staff.post(f"/api/v1/terminals/{ids['S1']}/commands",
                        json={"kind": "refresh_schedule", "expires_in_s": 3600})
    assert queued.status_code == 201 and queued.json["kind"] == "refresh_schedule"
    bad = staff.post(f"/api/v1/terminals/{ids['S1']}/commands", json={"kind": "reboot"})
    assert bad.status_code == 400 and bad.json["details"][0]["path"] == "kind"
    assert staff.get(f"/api/v1/terminals/{ids['S1']}").json["commands"][0]["id"] == queued.json["id"]


def test_unknown_terminals_and_states_are_precise_errors(world):
    _, sign_in, _ = world
    viewer = sign_in("viewer")
    assert viewer.get("/api/v1/terminals/ag_nobody").status_code == 404
    assert viewer.get("/api/v1/terminals?state=asleep").json["error"] == "invalid"


def test_the_terminals_routes_are_in_the_openapi_document(world):
    client, _, _ = world
    paths = client.get("/api/openapi.json").json["paths"]
    assert "/api/v1/terminals/{agent_id}/retire" in paths
    assert paths["/api/v1/terminals/{agent_id}/commands"]["post"]["requestBody"]["content"][
        "application/json"]["schema"] == {"$ref": "#/components/schemas/CommandRequest"}
