"""Every bad request gets a precise 4xx JSON answer from a real hub, stores nothing, and never a 500."""
import json
from typing import Callable

import pytest
import requests

from tests.support.fleet_kit import Agent, build_county, create_token, eduops, query
from tests.support.hubprocess import HubProcess

pytestmark = pytest.mark.e2e  # real processes: a hub, agents, a browser or Prometheus

STATE = ("SELECT (SELECT COUNT(*) FROM reports), (SELECT COALESCE(SUM(reports), 0) FROM agent_days), "
         "(SELECT COUNT(*) FROM agents), (SELECT SUM(uses) FROM enrollment_tokens), "
         "(SELECT GROUP_CONCAT(room_code) FROM agents), (SELECT COUNT(*) FROM commands WHERE status != 'pending')")


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """One hub with a small batch limit and body limit, one enrolled agent, one good report stored."""
    db_path = tmp_path_factory.mktemp("bad") / "hub.db"
    build_county(db_path)
    hub = HubProcess(db_path, env={"EDUOPS_MAX_BATCH_REPORTS": "3", "EDUOPS_MAX_BODY_BYTES": "20000"})
    agent = Agent(hub.url, room="S1-R2")
    assert agent.enroll(create_token(db_path)).status_code == 201
    assert agent.send().status_code == 200
    yield hub, agent, db_path
    hub.stop()
    assert " 500 " not in hub.output and "Traceback" not in hub.output


def post(world, path: str, data: bytes, key: str | None = "agent") -> requests.Response:
    hub, agent, _ = world
    headers = {"Content-Type": "application/json"}
    if key == "agent":
        headers["Authorization"] = f"Bearer {agent.key}"
    elif key is not None:
        headers["Authorization"] = key
    return requests.post(hub.url + path, data=data, headers=headers, timeout=10)


def refused(world, send: Callable[[], requests.Response], status: int, error: str) -> dict:
    """The answer is the precise error, in JSON, with a message; and nothing changed in the database."""
    before = query(world[2], STATE)
    answer = send()
    assert answer.status_code == status, answer.text
    assert answer.headers["Content-Type"].startswith("application/json")
    body = answer.json()
    assert body["error"] == error and len(body["message"]) > 20
    assert query(world[2], STATE) == before
    return body


def batch(world, change=None) -> dict:
    _, agent, _ = world
    data = {"sent_at": "2026-11-29T06:00:05Z", "reports": [agent.report()]}
    if change:
        change(data)
    return data


def setter(path: str, value):
    """A change that sets one field, given as a dotted path with list indexes."""
    def change(data):
        *parents, last = path.split(".")
        node = data
        for part in parents:
            node = node[int(part)] if part.isdigit() else node[part]
        if value is DELETE:
            del node[int(last) if last.isdigit() else last]
        else:
            node[int(last) if last.isdigit() else last] = value
    return change


DELETE = object()


@pytest.mark.parametrize("data", [b"{bad", b"", b'{"sent_at": "2026-', b"\xff\xfe\x00{}", b"{'sent_at': 1}"])
def test_malformed_json_is_bad_json(world, data):
    body = refused(world, lambda: post(world, "/api/v1/reports", data), 400, "bad_json")
    assert "JSON" in body["message"]


@pytest.mark.parametrize("change, path", [
    (setter("sent_at", DELETE), "sent_at"),
    (setter("reports", DELETE), "reports"),
    (setter("reports", []), "reports"),
    (setter("reports", {"a": 1}), "reports"),
    (setter("sent_at", "2026-11-29T06:00:05"), "sent_at"),          # no time zone
    (setter("sent_at", "yesterday"), "sent_at"),
    (setter("sent_at", "9999-12-31T23:59:59Z"), "sent_at"),
    (setter("reports.0.agent_time", "0001-01-01T00:00:00Z"), "reports.0.agent_time"),
    (setter("reports.0.id", "not-a-uuid"), "reports.0.id"),
    (setter("reports.0.id", DELETE), "reports.0.id"),
    (setter("reports.0.seq", "1"), "reports.0.seq"),
    (setter("reports.0.seq", -1), "reports.0.seq"),
    (setter("reports.0.seq", 1.5), "reports.0.seq"),
    (setter("reports.0.agent_time", DELETE), "reports.0.agent_time"),
    (setter("reports.0.body", DELETE), "reports.0.body"),
    (setter("reports.0.body.host", DELETE), "reports.0.body.host"),
    (setter("reports.0.body.network", None), "reports.0.body.network"),
    (setter("reports.0.body.resources.cpu_percent", 150), "reports.0.body.resources.cpu_percent"),
    (setter("reports.0.body.resources.cpu_percent", "12.5"), "reports.0.body.resources.cpu_percent"),
    (setter("reports.0.body.displays.0.connected", "yes"), "reports.0.body.displays.0.connected"),
    (setter("reports.0.body.network.interfaces.0.kind", "fiber"), "reports.0.body.network.interfaces.0.kind"),
    (setter("reports.0.body.network.wifi.signal_dbm", 20), "reports.0.body.network.wifi.signal_dbm"),
    (setter("reports.0.body.host.hostname", "x" * 300), "reports.0.body.host.hostname"),
    (setter("reports.0.body.displays", [{"name": f"d{n}"} for n in range(17)]), "reports.0.body.displays"),
    (setter("room", 7), "room"),
])
def test_wrong_types_missing_fields_and_out_of_range_values_are_invalid(world, change, path):
    data = batch(world, change)
    body = refused(world, lambda: post(world, "/api/v1/reports", json.dumps(data).encode()), 400, "invalid")
    assert path in [d["path"] for d in body["details"]]
    assert body["message"].startswith(body["details"][0]["path"])


def test_one_bad_report_refuses_the_whole_batch_naming_it(world):
    _, agent, _ = world
    bad = agent.report()
    bad["body"]["resources"]["memory_percent"] = -5
    data = {"sent_at": "2026-11-29T06:00:05Z", "reports": [agent.report(), bad]}
    body = refused(world, lambda: post(world, "/api/v1/reports", json.dumps(data).encode()), 400, "invalid")
    assert [d["path"] for d in body["details"]] == ["reports.1.body.resources.memory_percent"]


def test_a_json_value_that_is_not_an_object_is_invalid(world):
    body = refused(world, lambda: post(world, "/api/v1/reports", b"[1, 2]"), 400, "invalid")
    assert body["details"][0]["path"] == "(body)"


@pytest.mark.parametrize("key", [None, "Basic dXNlcjpwYXNz", "Bearer ", "Bearer ak_not-a-key"])
def test_a_missing_or_unknown_key_is_401_with_reenroll(world, key):
    body = refused(world, lambda: post(world, "/api/v1/reports", json.dumps(batch(world)).encode(), key=key),
                   401, "unauthorized")
    assert body["reenroll"] is True


def test_too_many_reports_in_a_batch_is_413(world):
    _, agent, _ = world
    data = {"sent_at": "2026-11-29T06:00:05Z", "reports": [agent.report() for _ in range(4)]}
    body = refused(world, lambda: post(world, "/api/v1/reports", json.dumps(data).encode()), 413, "too_large")
    assert "at most 3" in body["message"]


def test_a_body_over_the_limit_is_413(world):
    _, agent, _ = world
    data = {"sent_at": "2026-11-29T06:00:05Z", "reports": [agent.report()]}
    data["reports"][0]["body"]["software"] = [{"name": "x" * 200, "running": True}] * 64 * 2
    body = refused(world, lambda: post(world, "/api/v1/reports", json.dumps(data).encode()), 413, "too_large")
    assert "20000" in body["message"]


def test_another_schools_room_is_403_and_an_unknown_room_400(world):
    refused(world, lambda: post(world, "/api/v1/reports", json.dumps(batch(world, setter("room", "S2-R1"))).encode()),
            403, "forbidden")
    refused(world, lambda: post(world, "/api/v1/reports", json.dumps(batch(world, setter("room", "S9-R9"))).encode()),
            400, "unknown_room")


def enroll_body(**changes) -> dict:
    body = {"token": "et_x", "instance_id": "i-1", "room": "S1-R1", "hardware": {"hostname": "pc"}}
    body.update(changes)
    return body


@pytest.mark.parametrize("body, status, error", [
    (b"{", 400, "bad_json"),
    (enroll_body(hardware=None), 400, "invalid"),
    (enroll_body(room=""), 400, "invalid"),
    (enroll_body(instance_id="x" * 101), 400, "invalid"),
    (enroll_body(hardware={"hostname": "pc", "macs": "aa:bb"}), 400, "invalid"),
    ({k: v for k, v in enroll_body().items() if k != "token"}, 400, "invalid"),
    (enroll_body(), 401, "token_unknown"),
])
def test_bad_enrollments_are_refused(world, body, status, error):
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    refused(world, lambda: post(world, "/api/v1/enroll", data, key=None), status, error)


@pytest.mark.parametrize("data, key, status, error", [
    (b'{"status": "maybe"}', "agent", 400, "invalid"),
    (b'{"status": "done", "detail": 5}', "agent", 400, "invalid"),
    (b"done", "agent", 400, "bad_json"),
    (b'{"status": "done"}', None, 401, "unauthorized"),
    (b'{"status": "done"}', "agent", 404, "not_found"),
])
def test_bad_acknowledgements_are_refused(world, data, key, status, error):
    refused(world, lambda: post(world, "/api/v1/commands/cmd_unknown/ack", data, key=key), status, error)


def test_a_wrong_method_is_405_json(world):
    hub, _, _ = world
    answer = requests.get(hub.url + "/api/v1/reports", timeout=10)
    assert answer.status_code == 405 and answer.json()["error"] == "method_not_allowed"


def test_rejections_are_counted_by_reason(world):
    # Rejections are written with the writer's next transaction; a good report makes one at once.
    _, agent, db_path = world
    assert agent.send().status_code == 200
    counts = dict(query(db_path, "SELECT outcome, count FROM ingest_counts"))
    post(world, "/api/v1/reports", b"{bad")
    post(world, "/api/v1/reports", b"{}", key=None)
    assert agent.send().status_code == 200
    after = dict(query(db_path, "SELECT outcome, count FROM ingest_counts"))
    assert after["accepted"] == counts["accepted"] + 1
    assert after["rejected:bad_json"] == counts.get("rejected:bad_json", 0) + 1
    assert after["rejected:unauthorized"] == counts.get("rejected:unauthorized", 0) + 1


def test_a_key_revoked_by_another_process_stops_at_once_though_the_hub_cached_it(world):
    hub, _, db_path = world
    retiring = Agent(hub.url, hostname="old-pc")
    assert retiring.enroll(create_token(db_path)).status_code == 201
    assert retiring.send().status_code == 200          # the hub now knows the key
    assert eduops("terminals", "retire", retiring.agent_id, "--db", str(db_path)).returncode == 0
    answer = retiring.send()
    assert answer.status_code == 401 and answer.json()["reenroll"] is True
    assert query(db_path, "SELECT COUNT(*) FROM reports WHERE agent_id = ?", [retiring.agent_id]) == [(1,)]
