"""The one fake of the hub's clock: pass it to ``create_app(config, clock)`` and move it from the test."""
from __future__ import annotations

from datetime import datetime, timedelta


class Clock:
    """A clock that says ``now`` until the test sets ``now`` or calls ``advance``."""

    def __init__(self, now: datetime):
        if now.tzinfo is None:
            raise ValueError("the hub's clock is aware: give the fake a time zone")
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, by: timedelta) -> datetime:
        self.now += by
        return self.now
