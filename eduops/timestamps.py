"""UTC timestamps as stored: ISO-8601 text `YYYY-MM-DDTHH:MM:SS.ffffffZ`, lexically sortable.

Same names and format as the contract's eduops/clock.py (branch fleet); once
that lands, this module gives way to it.
"""
from __future__ import annotations

from datetime import datetime, timezone


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def to_iso(dt: datetime) -> str:
    if dt.tzinfo is None:
        raise ValueError("naive datetime: times must carry their zone")
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def from_iso(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)
