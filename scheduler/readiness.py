"""Is a room ready for a sky classroom session? Plain rules over plain data, so every case is tested.

A room (the source or a receiver) is ready when one of its terminals is ready:
- the terminal's agent is online now (fleet state);
- its display is on, where the agent reports displays (an agent that cannot tell says nothing);
- in its last report, a wired link is up or the school's own Wi-Fi is seen at a usable signal;
and, for the session as a whole, the room's live stream is booked (bandwidth): a receiver whose
school has no uplink on record only gets the recording, so it is not ready for a live lesson.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Iterable, Sequence

# Reason codes, in the order people fix them; pages and robots translate them.
NO_TERMINAL = "no_terminal_online"
DISPLAY_OFF = "display_off"
NO_NETWORK = "no_network"
NO_BANDWIDTH = "no_bandwidth"
REASONS = (NO_TERMINAL, DISPLAY_OFF, NO_NETWORK, NO_BANDWIDTH)


@dataclass(frozen=True)
class Terminal:
    """An online agent of the room and what its last report said."""
    screens_on: Sequence[bool | None]      # screen_on of each display reported (empty: none reported)
    wired_up: bool
    wifi_ssid: str | None
    wifi_dbm: float | None


@dataclass(frozen=True)
class RoomFacts:
    room_code: str
    school_code: str
    role: str                               # "source" | "receiver"
    school_ssids: Sequence[str]             # the school's own Wi-Fi names
    online: Sequence[Terminal]              # the room's agents that are online now
    needs_stream: bool                      # a live session: the room must send or receive a stream
    stream_booked: bool                     # bandwidth is booked for this room's stream


@dataclass(frozen=True)
class Verdict:
    room_code: str
    school_code: str
    role: str
    reasons: tuple[str, ...]

    @property
    def ready(self) -> bool:
        return not self.reasons


def terminal_problems(terminal: Terminal, school_ssids: Sequence[str], wifi_min_dbm: float) -> list[str]:
    problems = []
    known = [on for on in terminal.screens_on if on is not None]
    if known and not any(known):
        problems.append(DISPLAY_OFF)
    wifi_usable = (terminal.wifi_ssid is not None and terminal.wifi_ssid in school_ssids
                   and terminal.wifi_dbm is not None and terminal.wifi_dbm >= wifi_min_dbm)
    if not terminal.wired_up and not wifi_usable:
        problems.append(NO_NETWORK)
    return problems


def judge_room(room: RoomFacts, wifi_min_dbm: float) -> Verdict:
    """The room's verdict: the problems of its best terminal (none at all: ready)."""
    if room.online:
        problems = min((terminal_problems(t, room.school_ssids, wifi_min_dbm) for t in room.online), key=len)
    else:
        problems = [NO_TERMINAL]
    if room.needs_stream and not room.stream_booked:
        problems.append(NO_BANDWIDTH)
    return Verdict(room.room_code, room.school_code, room.role, tuple(problems))


def due_leads(starts_at: datetime, now: datetime, leads_minutes: Iterable[int], done: Iterable[int]) -> list[int]:
    """The checks (minutes before the start) due at ``now`` and not yet done. After the start
    nothing is due: a check that late would only tell people what they already see. A hub that
    was down at T-30 and is back at T-12 does the T-30 check then; back at T-5, both at once."""
    if now >= starts_at:
        return []
    finished = set(done)
    return sorted((lead for lead in set(leads_minutes)
                   if lead not in finished and now >= starts_at - timedelta(minutes=lead)), reverse=True)
