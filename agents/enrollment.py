"""Enrollment: exchange a school's enrollment token for this machine's own agent key (protocol v1)."""
from __future__ import annotations

from datetime import datetime

from agents import __version__
from agents.client import Answer, HubClient, Outcome
from agents.clock import to_iso
from agents.state import Enrollment, State


def enroll(client: HubClient, state: State, *, hub_url: str, token: str, room: str, hardware: dict,
           os_name: str | None, now: datetime) -> Answer:
    """Ask the hub for a key; keep it (and clear any revocation) when the hub says yes.

    The machine's instance id is made once and kept, so enrolling again (new room, revoked
    key) is the same machine to the hub. ``hardware`` is SystemProbes.hardware() on a real
    terminal, or made up by the demo's simulated agents.
    """
    hub_url = hub_url.rstrip("/")
    answer = client.enroll(hub_url, {"token": token, "instance_id": state.instance_id(), "room": room,
                                     "hardware": hardware, "agent_version": __version__, "os": os_name})
    if answer.outcome is Outcome.OK:
        data = answer.data
        state.save_enrollment(Enrollment(
            hub_url=hub_url, agent_id=str(data.get("agent_id")), school=str(data.get("school")),
            room=str(data.get("room") or room), terminal=data.get("terminal"), enrolled_at=to_iso(now),
            key=str(data["agent_key"])))
    return answer
