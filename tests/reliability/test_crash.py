"""Crash: a real hub SIGKILLed at random moments while 20 agents stream reports. Every report the hub
acknowledged is stored exactly once (and counted once in its day's rollup), and the database is intact.

The agents behave like the real one: a report stays in their spool until an answer acknowledges it,
and is sent again (same id) after a failure, so replays across a crash must come back "duplicate".
bench/crash.py runs the same with more kills and agents (docs/reliability.md).
"""
from __future__ import annotations

import pytest

import random
import signal
import sqlite3
import threading
import time
from pathlib import Path

import requests

from tests.support.fleet_kit import Agent, build_county, create_token, iso
from tests.support.hubprocess import HubProcess
from tests.reliability.faultproxy import free_port

pytestmark = pytest.mark.e2e  # starts real hub processes

KILLS = 10
AGENTS = 20


class StreamingAgent(threading.Thread):
    """Sends batches of up to 3 reports, keeping unacknowledged ones to send again."""

    def __init__(self, agent: Agent, stop: threading.Event):
        super().__init__(daemon=True)
        self.agent, self.stop = agent, stop
        self.spool: list[dict] = []
        self.acknowledged: dict[str, str] = {}   # report id -> status the hub answered
        self.http = requests.Session()

    def run(self) -> None:
        while not self.stop.is_set():
            self.spool.append(self.agent.report())
            self.send_spool()
            time.sleep(random.uniform(0, 0.05))

    def send_spool(self) -> bool:
        batch = self.spool[:3]
        try:
            answer = self.http.post(self.agent.url + "/api/v1/reports", timeout=10, json={
                "sent_at": iso(self.agent.clock()), "reports": batch},
                headers={"Authorization": f"Bearer {self.agent.key}"})
        except requests.RequestException:
            time.sleep(0.1)  # the hub is down or restarting
            return False
        if answer.status_code != 200:
            assert answer.status_code == 503, answer.text
            return False
        for result in answer.json()["results"]:
            self.acknowledged.setdefault(result["id"], result["status"])
        del self.spool[:len(batch)]
        return True


def run_crash(db_path: Path, kills: int = KILLS, agents: int = AGENTS, seed: int | None = None) -> dict[str, int]:
    """Stream reports from ``agents`` agents while the hub is SIGKILLed ``kills`` times; check the
    database against what was acknowledged; return the figures."""
    build_county(db_path)
    port = str(free_port())
    hub = HubProcess(db_path, extra_args=("--port", port))
    token = create_token(db_path)
    simulated = [Agent(hub.url, room=("S1-R1", "S1-R2")[n % 2], hostname=f"pc-{n}") for n in range(agents)]
    for agent in simulated:
        assert agent.enroll(token).status_code == 201
    stop = threading.Event()
    streams = [StreamingAgent(agent, stop) for agent in simulated]
    for stream in streams:
        stream.start()
    rng = random.Random(seed)
    started = time.monotonic()
    try:
        for _ in range(kills):
            time.sleep(rng.uniform(0.1, 0.6))
            hub.stop(signal.SIGKILL)
            hub = HubProcess(db_path, extra_args=("--port", port))
        time.sleep(0.3)
    finally:
        stop.set()
        for stream in streams:
            stream.join(30)
    try:
        for stream in streams:  # what is still spooled goes out now that the hub stays up
            while stream.spool:
                assert stream.send_spool()
    finally:
        hub.stop()
    conn = sqlite3.connect(db_path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        stored = dict(conn.execute("SELECT uuid, agent_id FROM reports").fetchall())
        per_agent = dict(conn.execute("SELECT agent_id, COUNT(*) FROM reports GROUP BY agent_id").fetchall())
        rolled_up = dict(conn.execute("SELECT agent_id, SUM(reports) FROM agent_days GROUP BY agent_id").fetchall())
    finally:
        conn.close()
    acknowledged = {uid for s in streams for uid in s.acknowledged}
    sent = sum(s.agent.seq for s in streams)
    assert acknowledged == set(stored), "every acknowledged report is stored, and nothing else"
    assert len(stored) == sent, "every report made was finally acknowledged exactly once"
    assert per_agent == rolled_up, "each report is counted once in its day's rollup"
    return {"reports": sent, "kills": kills, "agents": agents, "seconds": round(time.monotonic() - started),
            "replays": sum(status == "duplicate" for s in streams for status in s.acknowledged.values())}


def test_acknowledged_reports_survive_ten_sigkills_exactly_once(tmp_path: Path):
    figures = run_crash(tmp_path / "hub.db")
    assert figures["reports"] > 100
    print(figures)
