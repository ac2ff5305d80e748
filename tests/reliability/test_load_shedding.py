"""When waitress's queue is long the hub sheds agent requests at once with 503 + Retry-After (JSON),
instead of letting every answer's latency grow; what it sheds is not stored, what it answers 200 is."""
from __future__ import annotations

import pytest

import threading

import requests

from tests.support.fleet_kit import Agent, build_county, create_token, iso, query
from tests.support.hubprocess import HubProcess

pytestmark = pytest.mark.e2e  # starts real hub processes

CLIENTS = 80


def test_a_flood_beyond_the_queue_is_shed_with_503_and_retry_after(tmp_path):
    db_path = tmp_path / "hub.db"
    build_county(db_path)
    hub = HubProcess(db_path, env={"EDUOPS_THREADS": "2"})  # a queue of 4 per thread: 8
    try:
        agent = Agent(hub.url)
        assert agent.enroll(create_token(db_path)).status_code == 201
        batches = [[agent.report() for _ in range(20)] for _ in range(CLIENTS)]
        start = threading.Barrier(CLIENTS)
        answers: list[requests.Response | None] = [None] * CLIENTS

        def send(n: int) -> None:
            start.wait()
            answers[n] = requests.post(hub.url + "/api/v1/reports", timeout=60,
                                       json={"sent_at": iso(agent.clock()), "reports": batches[n]},
                                       headers={"Authorization": f"Bearer {agent.key}"})

        threads = [threading.Thread(target=send, args=(n,)) for n in range(CLIENTS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(90)
    finally:
        hub.stop()
    # waitress's "Task queue depth" warning, a line per queued request, is not written
    assert "queue depth" not in hub.output
    codes = [a.status_code for a in answers]
    assert set(codes) == {200, 503}, codes
    shed = [a for a in answers if a.status_code == 503]
    assert all(int(a.headers["Retry-After"]) > 0 and a.json()["error"] == "busy" for a in shed)
    stored = {u for (u,) in query(db_path, "SELECT uuid FROM reports")}
    for batch, answer in zip(batches, answers):
        ids = {r["id"] for r in batch}
        assert (ids <= stored) if answer.status_code == 200 else not (ids & stored)
