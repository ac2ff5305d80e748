"""Reports against a real hub: exactly-once, backlog, clock skew, rollup, commands, moves, OpenAPI."""
import json
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import requests

from eduops.clock import from_iso, utcnow
from eduops.fleet.protocol import CommandAckAnswer, EnrollAnswer, ReportAnswer
from tests.support.fleet_kit import Agent, create_token, eduops, query



@pytest.fixture
def agent(county_hub, db_path) -> Agent:
    enrolled = Agent(county_hub.url, room="S1-R2")
    assert enrolled.enroll(create_token(db_path)).status_code == 201
    return enrolled


def stored(db_path) -> int:
    return query(db_path, "SELECT COUNT(*) FROM reports")[0][0]


def test_a_report_is_accepted_stored_and_rolled_up(agent, db_path):
    report = agent.report()
    answer = agent.send(report)
    assert answer.status_code == 200
    assert ReportAnswer.model_validate_json(answer.content).results[0].status == "accepted"
    assert answer.json()["results"] == [{"id": report["id"], "status": "accepted"}]
    assert 54 <= answer.json()["next_report_in_s"] <= 66
    assert answer.headers["Content-Type"] == "application/json"
    assert answer.headers["X-Content-Type-Options"] == "nosniff" and answer.headers["Cache-Control"] == "no-store"
    [(agent_id, seq, body)] = query(db_path, "SELECT agent_id, seq, body FROM reports")
    assert (agent_id, seq) == (agent.agent_id, 1)
    assert json.loads(body)["resources"]["cpu_percent"] == 12.5
    [(reports, wired_up, ssid, dbm)] = query(db_path, "SELECT reports, wired_up_reports, wifi_ssid, wifi_best_dbm "
                                                      "FROM agent_days")
    assert (reports, wired_up, ssid, dbm) == (1, 1, "HZJY-S1", -60)


def test_a_replayed_report_is_a_duplicate_and_stored_once(agent, db_path):
    report = agent.report()
    assert agent.send(report).json()["results"][0]["status"] == "accepted"
    again = agent.send(report)
    assert again.status_code == 200 and again.json()["results"] == [{"id": report["id"], "status": "duplicate"}]
    assert stored(db_path) == 1
    assert query(db_path, "SELECT reports FROM agent_days") == [(1,)]
    counts = dict(query(db_path, "SELECT outcome, count FROM ingest_counts"))
    assert (counts["accepted"], counts["duplicate"]) == (1, 1)


def test_concurrent_replays_of_one_report_store_it_once(agent, db_path):
    report = agent.report()
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: agent.send(report), range(16)))
    statuses = sorted(a.json()["results"][0]["status"] for a in answers)
    assert statuses == ["accepted"] + ["duplicate"] * 15
    assert stored(db_path) == 1


@pytest.mark.e2e
def test_many_agents_at_once_are_all_committed_before_acknowledgement(county_hub, db_path):
    token = create_token(db_path)
    agents = [Agent(county_hub.url, hostname=f"pc-{n}") for n in range(20)]
    for a in agents:
        assert a.enroll(token).status_code == 201
    with ThreadPoolExecutor(20) as pool:
        answers = list(pool.map(lambda a: a.send(a.report(), a.report()), agents * 3))
    assert all(a.status_code == 200 for a in answers)
    accepted = {r["id"] for a in answers for r in a.json()["results"] if r["status"] == "accepted"}
    assert len(accepted) == 120
    in_db = {u for (u,) in query(db_path, "SELECT uuid FROM reports")}
    assert accepted == in_db
    assert query(db_path, "SELECT SUM(reports) FROM agent_days") == [(120,)]


def test_a_backlog_batch_keeps_the_original_times_in_order(agent, db_path):
    start = utcnow() - timedelta(days=2)
    backlog = [agent.report(made_at=start + timedelta(minutes=n)) for n in range(30)]
    answer = agent.send(*backlog)
    assert [r["id"] for r in answer.json()["results"]] == [r["id"] for r in backlog]
    assert {r["status"] for r in answer.json()["results"]} == {"accepted"}
    times = [from_iso(t) for (t,) in query(db_path, "SELECT report_at FROM reports ORDER BY seq")]
    assert all(abs(t - (start + timedelta(minutes=n))) < timedelta(seconds=5) for n, t in enumerate(times))
    assert from_iso(query(db_path, "SELECT last_report_at FROM agents")[0][0]) == max(times)
    # Sent again after a lost answer: all duplicates, nothing added.
    assert {r["status"] for r in agent.send(*backlog).json()["results"]} == {"duplicate"}
    assert stored(db_path) == 30


@pytest.mark.e2e
def test_clock_skew_is_recorded_and_corrected_and_shown(county_hub, db_path):
    fast = Agent(county_hub.url, room="S1-R2", skew=timedelta(hours=1))
    assert fast.enroll(create_token(db_path)).status_code == 201
    assert fast.send().status_code == 200
    [(skew, agent_time, report_at)] = query(db_path, "SELECT clock_skew_s, r.agent_time, r.report_at "
                                                     "FROM agents JOIN reports r ON r.agent_id = agents.id")
    assert -3610 < skew < -3590
    assert abs(from_iso(report_at) - utcnow()) < timedelta(seconds=10)
    assert from_iso(agent_time) - from_iso(report_at) > timedelta(minutes=59)
    assert "WRONG" in eduops("terminals", "list", "--db", str(db_path)).stdout


def test_the_rollup_keeps_the_strongest_wifi_and_counts_wired_links(agent, db_path):
    agent.send(agent.report(ssid="HZJY-S1", dbm=-70), agent.report(ssid="neighbour", dbm=-50),
               agent.report(ssid="HZJY-S1", dbm=-80, wired_up=False), agent.report(ssid=None, dbm=None))
    assert query(db_path, "SELECT reports, wired_up_reports, wifi_ssid, wifi_best_dbm FROM agent_days") == \
        [(4, 3, "neighbour", -50)]


def test_commands_ride_on_answers_until_acknowledged(agent, db_path):
    queued = eduops("terminals", "command", agent.agent_id, "send_inventory", "--db", str(db_path))
    assert queued.returncode == 0, queued.stderr
    command_id = queued.stdout.split()[0]
    first, second = agent.send(), agent.send()
    for answer in (first, second):
        [command] = answer.json()["commands"]
        assert (command["id"], command["kind"], command["args"]) == (command_id, "send_inventory", {})
    acked = agent.ack(command_id, "done", "sent")
    assert acked.status_code == 200 and CommandAckAnswer.model_validate_json(acked.content).status == "done"
    assert agent.ack(command_id, "done").status_code == 200          # a retried ack is harmless
    conflict = agent.ack(command_id, "failed")
    assert (conflict.status_code, conflict.json()["error"]) == (409, "conflict")
    assert agent.send().json()["commands"] == []
    assert query(db_path, "SELECT status, detail FROM commands") == [("done", "sent")]


def test_an_expired_command_is_not_delivered_and_its_ack_is_refused(agent, db_path):
    command_id = eduops("terminals", "command", agent.agent_id, "refresh_schedule", "--db", str(db_path)
                        ).stdout.split()[0]
    later = (utcnow() + timedelta(days=2)).isoformat()
    ran = eduops("jobs", "run", "expire_commands", "--now", later, "--write", "--db", str(db_path))
    assert ran.returncode == 0 and "expired 1" in ran.stdout
    assert agent.send().json()["commands"] == []
    refused = agent.ack(command_id)
    assert (refused.status_code, refused.json()["error"]) == (409, "command_expired")


@pytest.mark.e2e
def test_another_agents_command_cannot_be_acknowledged(agent, county_hub, db_path):
    other = Agent(county_hub.url, hostname="pc-2")
    other.enroll(create_token(db_path))
    command_id = eduops("terminals", "command", other.agent_id, "send_inventory", "--db", str(db_path)
                        ).stdout.split()[0]
    answer = agent.ack(command_id)
    assert (answer.status_code, answer.json()["error"]) == (404, "not_found")
    assert query(db_path, "SELECT status FROM commands") == [("pending",)]


def test_naming_another_room_of_its_school_moves_the_agent(agent, db_path):
    assert agent.send(room="S1-R1").status_code == 200
    assert query(db_path, "SELECT room_code, terminal_code FROM agents") == [("S1-R1", None)]  # two free there
    assert agent.send(room="S1-R1").status_code == 200


@pytest.mark.e2e
def test_the_openapi_document_describes_the_agent_api_from_the_models(county_hub):
    answer = county_hub.get("/api/openapi.json")
    assert answer.status_code == 200
    doc = answer.json()
    assert doc["openapi"].startswith("3.1")
    reports = doc["paths"]["/api/v1/reports"]["post"]
    assert reports["requestBody"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ReportBatch"}
    assert set(reports["responses"]) == {"200", "400", "401", "403", "413", "503"}
    assert reports["security"] == [{"agentKey": []}]
    schemas = doc["components"]["schemas"]
    assert schemas["Interface"]["properties"]["kind"]["enum"] == ["wired", "wireless", "other"]
    assert schemas["EnrollAnswer"]["required"] == list(EnrollAnswer.model_json_schema()["required"])
    refs = set()

    def collect(node):
        if isinstance(node, dict):
            refs.update(v for k, v in node.items() if k == "$ref")
            for v in node.values():
                collect(v)
        elif isinstance(node, list):
            for v in node:
                collect(v)
    collect(doc)
    assert {r.rsplit("/", 1)[1] for r in refs} <= set(schemas)
    assert doc["paths"]["/api/v1/commands/{command_id}/ack"]["post"]["parameters"][0]["name"] == "command_id"
    assert requests.get(county_hub.url + "/api/openapi.json", timeout=10).json() == doc
