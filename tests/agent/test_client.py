"""The hub client against a real HTTP server on 127.0.0.1 serving canned protocol answers."""
from __future__ import annotations

import json
import threading
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import pytest
import requests

from agents.client import HubClient, Outcome, classify, parse_retry_after
from tests.support.cannedhub import CUT, Canned, CannedHub

NOW = datetime(2026, 11, 29, 6, 0, tzinfo=timezone.utc)
REPORT = json.dumps({"id": "3f1c8a52-7d4b-4c1e-9a0b-2d6e8f1a3b5c", "seq": 1,
                     "agent_time": "2026-11-29T06:00:00.000Z", "body": {"host": {"hostname": "教室-101"}}},
                    ensure_ascii=False)


@pytest.fixture
def client():
    with requests.Session() as session:
        yield HubClient(session, timeout_s=5)


def send(client: HubClient, hub: CannedHub):
    return client.send_reports(hub.url, "ak_secret", [REPORT], "2026-11-29T06:00:05.000Z")


def test_a_batch_goes_as_the_protocol_says_and_is_acknowledged(client, canned_hub):
    answer = send(client, canned_hub)
    assert answer.outcome is Outcome.OK
    assert answer.data["results"] == [{"id": "3f1c8a52-7d4b-4c1e-9a0b-2d6e8f1a3b5c", "status": "accepted"}]
    seen = canned_hub.seen[0]
    assert seen.path == "/api/v1/reports"
    assert seen.headers["Authorization"] == "Bearer ak_secret"
    assert seen.headers["Content-Type"] == "application/json"
    assert seen.headers["User-Agent"].startswith("eduops-agent/")
    assert seen.body == {"sent_at": "2026-11-29T06:00:05.000Z", "reports": [json.loads(REPORT)]}


def test_enroll_and_command_ack(client, canned_hub):
    answer = client.enroll(canned_hub.url, {"token": "et_x", "room": "R-1"})
    assert (answer.outcome, answer.status, answer.data["agent_key"]) == (Outcome.OK, 201, "ak_secret")
    assert client.ack_command(canned_hub.url, "ak_secret", "cmd_7", "done", "").outcome is Outcome.OK
    assert canned_hub.seen[1].path == "/api/v1/commands/cmd_7/ack"
    assert canned_hub.seen[1].body == {"status": "done", "detail": ""}


@pytest.mark.parametrize("canned, outcome, retry_after", [
    (Canned(503, {"error": "busy", "message": "starting"}, {"Retry-After": "30"}), Outcome.RETRY, 30.0),
    (Canned(429, {"error": "busy", "message": "slow down"}, {"Retry-After": "5"}), Outcome.RETRY, 5.0),
    (Canned(500, {"error": "internal", "message": "bug"}), Outcome.RETRY, None),
    (Canned(502, raw=b"<html>Bad Gateway</html>", headers={"Content-Type": "text/html"}), Outcome.RETRY, None),
    (Canned(401, {"error": "unauthorized", "message": "key revoked", "reenroll": True}), Outcome.REENROLL, None),
    (Canned(401, {"error": "unauthorized", "message": "who are you"}), Outcome.REFUSED, None),
    (Canned(400, {"error": "invalid", "message": "body.resources.cpu_percent: not a number"}),
     Outcome.REFUSED, None),
    (Canned(403, {"error": "forbidden", "message": "room of another school"}), Outcome.REFUSED, None),
    (Canned(413, {"error": "too_large", "message": "over 1 MiB"}), Outcome.REFUSED, None),
    # A captive portal or proxy answering in the hub's place: never taken as an acknowledgement.
    (Canned(200, raw=b"<html>Welcome to school Wi-Fi</html>", headers={"Content-Type": "text/html"}),
     Outcome.RETRY, None),
    (Canned(200, {"hello": "world"}), Outcome.RETRY, None),
    (Canned(302, raw=b"", headers={"Location": "http://portal.example/login"}), Outcome.RETRY, None),
])
def test_answers_are_classified(client, canned_hub, canned, outcome, retry_after):
    canned_hub.then(canned)
    answer = send(client, canned_hub)
    assert (answer.outcome, answer.status, answer.retry_after_s) == (outcome, canned.status, retry_after)
    if isinstance(canned.body, dict) and "message" in canned.body:
        assert canned.body["message"] in answer.message and canned.body["error"] == answer.error
    assert len(canned_hub.seen) == 1  # no redirect followed, no hidden retry


def test_a_connection_cut_after_sending_is_a_retry(client, canned_hub):
    canned_hub.then(CUT)
    answer = send(client, canned_hub)
    assert (answer.outcome, answer.status, answer.error) == (Outcome.RETRY, None, "network")
    assert canned_hub.held == ["3f1c8a52-7d4b-4c1e-9a0b-2d6e8f1a3b5c"]  # the hub kept it all the same


def test_an_unreachable_hub_is_a_retry_with_a_short_reason(client):
    hub = CannedHub()
    url = hub.url
    hub.close()  # nothing listens there any more
    answer = client.send_reports(url, "ak", [REPORT], "2026-11-29T06:00:05.000Z")
    assert (answer.outcome, answer.error) == (Outcome.RETRY, "network")
    assert answer.message == f"cannot reach the hub at {url}: Connection refused"


def test_a_hub_that_does_not_answer_in_time_is_a_retry(canned_hub):
    release = threading.Event()

    def slow(request):
        release.wait(10)
        return None
    canned_hub.then(slow)
    with requests.Session() as session:
        answer = send(HubClient(session, timeout_s=0.3), canned_hub)
    release.set()
    assert (answer.outcome, answer.message) == (
        Outcome.RETRY, f"cannot reach the hub at {canned_hub.url}: no answer within 0.3 s")


def test_retry_after_as_seconds_or_date_against_the_hubs_clock():
    assert parse_retry_after("120", NOW) == 120.0
    assert parse_retry_after(format_datetime(NOW + timedelta(seconds=90), usegmt=True), NOW) == 90.0
    assert parse_retry_after(format_datetime(NOW - timedelta(seconds=90), usegmt=True), NOW) == 0.0
    assert parse_retry_after("soon", NOW) is None
    assert parse_retry_after(None, NOW) is None


def test_a_retry_after_date_is_measured_from_the_hubs_date_header_not_the_agents_clock():
    hub_now = NOW + timedelta(hours=2)  # the agent's clock is two hours slow
    headers = {"Date": format_datetime(hub_now, usegmt=True),
               "Retry-After": format_datetime(hub_now + timedelta(seconds=45), usegmt=True)}
    assert classify(503, headers, b"{}", NOW).retry_after_s == 45.0
