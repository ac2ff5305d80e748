"""Network faults: real agents (agents/ code, injected clock) talk to a real hub through a TCP proxy
that delays, drops connections, and resets connections after the hub has committed a batch but before
its answer reaches the agent. No report is lost or stored twice: the agent keeps what was not
acknowledged and sends it again with the same ids, which the hub answers as duplicates."""
from __future__ import annotations

import pytest

import sqlite3

import requests

from tests.support.fleet_kit import build_county, create_token
from tests.support.hubprocess import HubProcess
from tests.reliability.faultproxy import FaultProxy, Faults
from tests.reliability.simagents import Clock, real_agent

pytestmark = pytest.mark.e2e  # starts real hub processes


def test_no_report_is_lost_or_duplicated_through_latency_drops_and_resets_after_commit(tmp_path):
    db_path = tmp_path / "hub.db"
    build_county(db_path)
    hub = HubProcess(db_path)
    host, port = hub.url.removeprefix("http://").split(":")
    proxy = FaultProxy((host, int(port)), Faults())
    clock, session = Clock(), requests.Session()
    token = create_token(db_path)
    try:
        agents = [real_agent(tmp_path / f"agent{n}", proxy.url, token, "S1-R1", "S1", f"pc-{n}", clock, session,
                             batch_size=4, http_timeout_s=5)
                  for n in range(6)]
        proxy.faults = Faults(latency_s=0.002, drop=0.15, reset_answer=0.3)
        for _ in range(30):  # half an hour of reporting through the bad network
            clock.advance(60)
            for agent in agents:
                agent.cycle()
        proxy.faults = Faults()
        for _ in range(20):  # the network heals: every spool drains
            clock.advance(agents[0].settings.backoff_cap_s)
            for agent in agents:
                agent.cycle()
            if all(agent.spool.status().pending == 0 for agent in agents):
                break
    finally:
        proxy.close()
        hub.stop()
    made = {agent.state.enrollment().agent_id: agent.spool.status() for agent in agents}
    assert all(status.pending == 0 and status.dropped == 0 for status in made.values())
    conn = sqlite3.connect(db_path)
    try:
        stored = dict(conn.execute("SELECT agent_id, COUNT(*) FROM reports GROUP BY agent_id"))
        distinct = conn.execute("SELECT COUNT(DISTINCT uuid) = COUNT(*) FROM reports").fetchone()[0]
        duplicates = conn.execute("SELECT count FROM ingest_counts WHERE outcome = 'duplicate'").fetchone()
    finally:
        conn.close()
    assert stored == {agent_id: status.spooled for agent_id, status in made.items()}, "none lost, none twice"
    assert distinct == 1
    assert proxy.counts["dropped"] > 0 and proxy.counts["answers_reset"] > 0
    # Resets after commit happened, and their replays were answered as duplicates, not stored again.
    assert duplicates is not None and duplicates[0] > 0
    assert "Traceback" not in hub.output
