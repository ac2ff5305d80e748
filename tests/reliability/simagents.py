"""The real agent code (agents/), several in one test process with an injected clock, as the demo swarm runs them."""
from __future__ import annotations

import random
from datetime import datetime
from pathlib import Path
from datetime import timedelta, timezone
from typing import Callable

import requests

from agents import config as agent_config
from agents.client import HubClient, Outcome
from agents.enrollment import enroll
from agents.loop import Agent
from agents.spool import Spool
from agents.state import State
from eduops.demo.swarm import Classroom, ClassroomLife


def real_agent(state_dir: Path, hub_url: str, token: str, room: str, school: str, name: str,
               clock: Callable[[], datetime], session: requests.Session, **settings) -> Agent:
    """An enrolled agents.loop.Agent with its own state and spool, reporting a simulated classroom."""
    state = State(state_dir)
    state.create()
    config = agent_config.load(overrides={"state_dir": str(state_dir), **settings})
    client = HubClient(session, config.http_timeout_s, clock=clock)
    answer = enroll(client, state, hub_url=hub_url, token=token, room=room,
                    hardware={"hostname": name, "machine_id": name, "macs": [], "display_serials": []},
                    os_name="Windows 10 22H2", now=clock())
    assert answer.outcome is Outcome.OK, answer.message
    classroom = Classroom(terminal=name, school=school, room=room, kind="all_in_one", wifi_ssid="", wired=True,
                          flaky_wifi=False, left_on=True, silent=False, clock_offset_s=0.0, machine_id=name)
    spool = Spool(state.spool_path, config.spool_max_reports, config.spool_max_bytes)
    return Agent(config, state, spool, client, ClassroomLife(classroom, random.Random(name), clock()),
                 clock=clock, rng=random.Random(name))


class Clock:
    """Injected time: agents see it move only when the test says so, so no test sleeps through a backoff."""

    def __init__(self):
        self.now = datetime.now(timezone.utc)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)
