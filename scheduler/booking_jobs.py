"""The booking jobs as plain functions of (db, now, parameters, store), like the fleet's.

The store (eduops/bookings/store.py) holds their SQL; ``scheduler/runner.py`` runs them.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Protocol


class BookingStore(Protocol):
    """What the booking jobs need from storage (eduops.bookings.store provides it)."""

    def expire_pending(self, db: Any, now: datetime, deadline: timedelta) -> int: ...
    def finish_ended(self, db: Any, now: datetime) -> int: ...


def expire_pending(db: Any, now: datetime, deadline: timedelta, store: BookingStore) -> dict[str, int]:
    """Pending sessions whose approval did not come ``deadline`` before their start expire and free their slots."""
    return {"expired": store.expire_pending(db, now, deadline)}


def finish_sessions(db: Any, now: datetime, store: BookingStore) -> dict[str, int]:
    """Booked sessions whose end has passed are finished (delivery records whether they were held)."""
    return {"finished": store.finish_ended(db, now)}
