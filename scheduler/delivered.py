"""What a session delivered, from which rooms had an agent reporting during it. Plain rules.

A room was reached when an agent of the room reported at least once inside the session's
window (reports come every minute or so, so a terminal switched on for the lesson shows).
A session was held when its source room reported during it and, for a live session, at least
one receiver was reached; a recording alone is held when its source room reported. Hours
delivered are the session's length when it was held, else none.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Mapping


@dataclass(frozen=True)
class Delivered:
    held: bool
    hours: float
    receivers: int
    receivers_reached: int


def judge_session(starts_at: datetime, ends_at: datetime, source_reports: int,
                  receiver_reports: Mapping[str, int]) -> Delivered:
    reached = sum(1 for n in receiver_reports.values() if n > 0)
    held = source_reports > 0 and (not receiver_reports or reached > 0)
    hours = (ends_at - starts_at).total_seconds() / 3600 if held else 0.0
    return Delivered(held, round(hours, 4), len(receiver_reports), reached)


def rural(township_name: str) -> bool:
    """A school is rural when its township is a town (镇) or township (乡), not an urban
    subdistrict (街道): China's own administrative split between town and country."""
    return not township_name.endswith("街道")
