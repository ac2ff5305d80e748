"""The room's recording schedule: fetched from the hub with an ETag, kept on disk for when it is not.

`GET /api/v1/schedule` (docs/protocol.md) lists the sessions this agent's room must
record over the coming days. The answer is cached in the state directory, written
atomically, so a recorder whose hub is unreachable (or that starts while it is)
still starts every session on time from the last schedule it saw.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import List, Optional

import requests

from agents import __version__
from agents.client import Answer, HubClient, Outcome, classify, describe_failure
from agents.clock import from_iso
from agents.state import State

log = logging.getLogger(__name__)

SCHEDULE_FILE = "schedule.json"


@dataclass(frozen=True)
class Slot:
    """One session to record in this room."""
    id: str
    title: str
    start: datetime
    end: datetime


@dataclass(frozen=True)
class Schedule:
    etag: Optional[str]
    room_kind: Optional[str]
    slots: List[Slot]


EMPTY = Schedule(None, None, [])


def parse(data: dict) -> List[Slot]:
    """The slots of a schedule answer; an entry the agent cannot read is skipped, not fatal."""
    slots = []
    for entry in data.get("sessions") or []:
        try:
            slot = Slot(str(entry["id"]), str(entry.get("title") or ""), from_iso(entry["start"]),
                        from_iso(entry["end"]))
        except (KeyError, TypeError, ValueError, AttributeError):
            log.warning("schedule entry skipped, it cannot be read: %.200r", entry)
            continue
        if slot.end > slot.start:
            slots.append(slot)
    return sorted(slots, key=lambda s: s.start)


def fetch(client: HubClient, hub_url: str, key: str, etag: Optional[str]) -> Answer:
    """Ask the hub for this room's schedule; a 304 (unchanged since ``etag``) is an OK with no data."""
    headers = {"Authorization": f"Bearer {key}", "User-Agent": f"eduops-agent/{__version__}"}
    if etag:
        headers["If-None-Match"] = etag
    try:
        response = client.session.get(hub_url.rstrip("/") + "/api/v1/schedule", headers=headers,
                                      timeout=client.timeout_s, verify=client.verify, allow_redirects=False)
    except requests.RequestException as exc:
        return Answer(Outcome.RETRY, None, f"cannot reach the hub at {hub_url}: "
                      f"{describe_failure(exc, client.timeout_s)}", "network")
    if response.status_code == 304:
        return Answer(Outcome.OK, 304, "unchanged")
    answer = classify(response.status_code, response.headers, response.content, client.clock(), "sessions")
    if answer.outcome is Outcome.OK:
        answer.data["etag"] = response.headers.get("ETag")
    return answer


class ScheduleCache:
    """The last schedule the hub gave, in the state directory."""

    def __init__(self, state: State):
        self.state = state

    def load(self) -> Schedule:
        text = self.state.read_file(SCHEDULE_FILE)
        if not text:
            return EMPTY
        try:
            data = json.loads(text)
            return Schedule(data.get("etag"), data.get("room_kind"), parse(data))
        except (ValueError, AttributeError):
            log.warning("%s is damaged; it is fetched again", self.state.dir / SCHEDULE_FILE)
            return EMPTY

    def save(self, data: dict) -> Schedule:
        """Keep a fresh answer (with its ETag) for good, atomically, and return it parsed."""
        self.state.write_file(SCHEDULE_FILE, json.dumps(data, ensure_ascii=False, indent=1) + "\n")
        return Schedule(data.get("etag"), data.get("room_kind"), parse(data))
