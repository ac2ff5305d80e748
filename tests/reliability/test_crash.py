"""Crash: a real hub SIGKILLed at random moments while 20 agents stream reports and 5 people book
sessions. Every report the hub acknowledged is stored exactly once (and counted once in its day's
rollup), every acknowledged booking exists exactly once, and the database is intact.

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
from datetime import datetime, timedelta, timezone
from pathlib import Path

import requests

from eduops import db as dbmod
from eduops.clock import to_iso
from tests.support import bookings_county as county
from tests.support.bookings_county import at
from tests.support.fleet_kit import Agent, create_token, iso
from tests.support.hubprocess import HubProcess
from tests.reliability.faultproxy import free_port

pytestmark = pytest.mark.e2e  # starts real hub processes

KILLS = 10
AGENTS = 20
BOOKERS = 5
TODAY = datetime.now(timezone.utc).date()
MONDAY = county.next_school_monday(TODAY)


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


class Booker(threading.Thread):
    """Books one recording after another in its own room, week after week; a booking whose answer was
    lost is sent again, and then meets itself: 409, never a second copy."""

    def __init__(self, url: str, token: str, room: str, host: str, stop: threading.Event):
        super().__init__(daemon=True)
        self.url, self.room, self.host, self.stop = url, room, host, stop
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"Bearer {token}"
        self.acknowledged: dict[str, int] = {}   # starts_at -> session id
        self.unsure: set[str] = set()             # sent, answer lost, then 409: booked once, we trust the database

    def run(self) -> None:
        slot = 0
        while not self.stop.is_set() and slot < 8 * 20:
            starts = at(MONDAY + timedelta(days=7 * (slot // 8)), f"{8 + slot % 8:02d}:00")
            body = {"kind": "recording", "title": "录播", "source_room": self.room, "host": self.host,
                    "starts_at": starts.isoformat(), "ends_at": (starts + timedelta(minutes=40)).isoformat()}
            lost = False
            while not self.stop.is_set():
                try:
                    answer = self.http.post(self.url + "/api/v1/sessions", json=body, timeout=10)
                except requests.RequestException:
                    lost = True
                    time.sleep(0.1)
                    continue
                assert answer.status_code in (201, 409, 503), answer.text
                if answer.status_code == 201:
                    self.acknowledged[to_iso(starts)] = answer.json()["sessions"][0]["id"]
                elif answer.status_code == 409:
                    assert lost, answer.text  # only our own earlier, unanswered attempt can be in the way
                    self.unsure.add(to_iso(starts))
                else:
                    time.sleep(0.2)
                    continue
                break
            slot += 1


def run_crash(db_path: Path, kills: int = KILLS, agents: int = AGENTS, bookers: int = BOOKERS,
              seed: int | None = None) -> dict[str, int]:
    """Stream reports from ``agents`` agents and bookings from ``bookers`` people while the hub is
    SIGKILLed ``kills`` times; check the database against what was acknowledged; return the figures."""
    database = dbmod.connect(db_path)
    try:
        county.build(database)
        rooms = county.add_broadcast_rooms(database, "A", bookers)
        hosts = county.add_hosts(database, "A", bookers)
        admin_token = county.add_token(database, county.add_user(database, "crash-admin", "admin"))
    finally:
        database.conn.close()
    port = str(free_port())
    hub = HubProcess(db_path, extra_args=("--port", port), env=county.live_settings(TODAY))
    token = create_token(db_path, "A")
    simulated = [Agent(hub.url, room=rooms[n % bookers], hostname=f"pc-{n}") for n in range(agents)]
    for agent in simulated:
        assert agent.enroll(token).status_code == 201
    stop = threading.Event()
    streams = [StreamingAgent(agent, stop) for agent in simulated]
    booking = [Booker(hub.url, admin_token, room, host, stop) for room, host in zip(rooms, hosts)]
    for thread in [*streams, *booking]:
        thread.start()
    rng = random.Random(seed)
    started = time.monotonic()
    try:
        for _ in range(kills):
            time.sleep(rng.uniform(0.1, 0.6))
            hub.stop(signal.SIGKILL)
            hub = HubProcess(db_path, extra_args=("--port", port), env=county.live_settings(TODAY))
        time.sleep(0.3)
    finally:
        stop.set()
        for thread in [*streams, *booking]:
            thread.join(30)
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
        sessions = conn.execute("SELECT id, source_room_code, starts_at FROM sky_sessions").fetchall()
    finally:
        conn.close()
    acknowledged = {uid for s in streams for uid in s.acknowledged}
    sent = sum(s.agent.seq for s in streams)
    assert acknowledged == set(stored), "every acknowledged report is stored, and nothing else"
    assert len(stored) == sent, "every report made was finally acknowledged exactly once"
    assert per_agent == rolled_up, "each report is counted once in its day's rollup"
    booked = {(room, starts): sid for sid, room, starts in sessions}
    assert len(booked) == len(sessions), "no booking is stored twice"
    for b in booking:
        mine = {starts: sid for (room, starts), sid in booked.items() if room == b.room}
        assert all(mine.get(starts) == sid for starts, sid in b.acknowledged.items()), "acknowledged bookings kept"
        assert set(mine) <= set(b.acknowledged) | b.unsure, "nothing booked that was refused"
        assert b.unsure <= set(mine)
    return {"bookings": sum(len(b.acknowledged) + len(b.unsure) for b in booking),
            "bookings_answer_lost": sum(len(b.unsure) for b in booking),"reports": sent, "kills": kills, "agents": agents, "seconds": round(time.monotonic() - started),
            "replays": sum(status == "duplicate" for s in streams for status in s.acknowledged.values())}


def test_acknowledged_reports_survive_ten_sigkills_exactly_once(tmp_path: Path):
    figures = run_crash(tmp_path / "hub.db")
    assert figures["reports"] > 100
    print(figures)
