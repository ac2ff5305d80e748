"""The delivery jobs as plain functions of (db, now, parameters, store), like scheduler/jobs.py.

Each derives what is due from the database at every run, so a restart loses nothing and a
run that is repeated (or two at once) does nothing twice: a check, a delivery and a queued
message are each stored once, under a key the database keeps unique.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any, Sequence

from scheduler.delivered import judge_session
from scheduler.readiness import due_leads, judge_room

log = logging.getLogger(__name__)


def check_readiness(db: Any, now: datetime, leads_minutes: Sequence[int], wifi_min_dbm: float,
                    store: Any) -> dict[str, int]:
    """Check every booked session whose T-30 / T-10 (the leads) has come and is not yet checked."""
    checked = not_ready = 0
    for session in store.sessions_to_check(db, now, timedelta(minutes=max(leads_minutes))):
        leads = due_leads(session["starts_at"], now, leads_minutes, session["done"])
        if not leads:
            continue
        verdicts = [judge_room(room, wifi_min_dbm) for room in store.room_facts(db, session["id"])]
        not_ready += store.record_readiness(db, session["id"], leads, verdicts, now)
        checked += 1
    return {"checked": checked, "rooms_not_ready": not_ready}


def record_deliveries(db: Any, now: datetime, reports_kept: timedelta, store: Any) -> dict[str, int]:
    """Record, once per session after its end, which rooms were reached and whether it was held."""
    recorded = held = 0
    for session in store.sessions_to_deliver(db, now, now - reports_kept):
        rooms = store.room_reports(db, session["id"], session["starts_at"], session["ends_at"])
        source = sum(r["reports"] for r in rooms if r["role"] == "source")
        delivered = judge_session(session["starts_at"], session["ends_at"], source,
                                  {r["room_code"]: r["reports"] for r in rooms if r["role"] == "receiver"})
        if store.record_delivery(db, session["id"], delivered, rooms, now):
            recorded += 1
            held += delivered.held
    return {"recorded": recorded, "held": held}


def queue_notifications(db: Any, now: datetime, notify: Any, recordings: Any, batch: int = 500) -> dict[str, int]:
    """Turn the booking decisions logged since the last run into notifications, and ask the recorders
    of the broadcast rooms whose recordings changed to fetch their schedule now."""
    rows, upto = notify.audit_events(db, batch)
    if not rows:
        return {"queued": 0, "recorders_asked": 0}
    queued = notify.queue_audit_events(db, rows, upto, now)
    return {"queued": queued, "recorders_asked": recordings.ask_recorders_to_refresh(
        db, recordings.recorder_rooms(rows), now)}


def send_notifications(db: Any, now: datetime, retry_base: timedelta, max_attempts: int, tz: str, store: Any,
                       batch: int = 50) -> dict[str, int]:
    """Send what the outbox holds that is due; a failure is logged, counted and retried later."""
    outcomes = {"sent": 0, "retry": 0, "gave_up": 0}
    for message in store.claim_due(db, now, batch, lease=timedelta(minutes=10)):
        title, body = store.robot_text(message, tz)
        error = store.send(message["url"], title, body)
        outcome = store.record_attempt(db, message["id"], error, now, retry_base, max_attempts)
        outcomes[outcome] += 1
        if error:  # the target by id: its URL holds a secret
            log.warning("notification %d to robot %d failed (attempt %d): %s%s", message["id"], message["target_id"],
                        message["attempts"] + 1, error, "; giving up" if outcome == "gave_up" else "; will retry")
    return outcomes
