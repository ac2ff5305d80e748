"""A made-up past of the demo term's sessions: readiness before each, what each delivered, attendance.

Demo data only (`eduops demo` calls it on a new demo database, after the term is booked). The
raw reports that would tell were never made, so the outcomes are drawn: most rooms ready and
reached, village schools less often, a room not ready at T-10 seldom reached, and a school without
uplink never ready for live. Everything is written through the store's own functions, so the
pages, figures and metrics read the demo exactly as they read a real county. Sessions still to
come are left to the real readiness job and the simulated agents.
"""
from __future__ import annotations

import random
from datetime import datetime, timedelta

import sqlite_utils

from eduops.clock import from_iso
from eduops.delivery import store
from scheduler.delivered import Delivered
from scheduler.readiness import DISPLAY_OFF, NO_BANDWIDTH, NO_NETWORK, NO_TERMINAL, Verdict

PROBLEMS = (NO_TERMINAL, NO_TERMINAL, DISPLAY_OFF, NO_NETWORK)   # a silent terminal is the usual one


def _verdict(room: dict, live: bool, rng: random.Random, village: bool) -> Verdict:
    reasons = []
    if rng.random() < (0.25 if village else 0.08):
        reasons.append(rng.choice(PROBLEMS))
    if live and not room["live"]:
        reasons.append(NO_BANDWIDTH)
    return Verdict(room["room_code"], room["school_code"], room["role"], tuple(reasons))


def seed_demo_delivery(db: sqlite_utils.Database, now: datetime, rng: random.Random) -> int:
    """Readiness, delivery and training attendance of the demo's sessions that have ended; returns how many."""
    ended = store.sessions_to_deliver(db, now, now - timedelta(days=366))
    rural = {code for code, name in db.execute(
        "SELECT s.code, t.name FROM schools s JOIN townships t ON t.code = s.township_code") if not name.endswith("街道")}
    for session in ended:
        brief = store.session_brief(db, session["id"])
        rooms = store.session_rooms(db, session["id"])
        live = brief["kind"] != "recording" and len(rooms) > 1
        verdicts = {}
        for lead in (30, 10):
            checked = [_verdict(r, live, rng, r["school_code"] in rural) for r in rooms]
            store.record_readiness(db, session["id"], [lead], checked, session["starts_at"] - timedelta(minutes=lead))
            verdicts = {v.room_code: v for v in checked}
        for room in rooms:
            ready = verdicts[room["room_code"]].ready
            reached = rng.random() < (0.97 if room["role"] == "source" else (0.9 if ready else 0.2))
            room["reports"] = rng.randint(30, 45) if reached else 0
        source = sum(r["reports"] for r in rooms if r["role"] == "source")
        receivers = {r["room_code"]: r["reports"] for r in rooms if r["role"] == "receiver"}
        reached_count = sum(1 for n in receivers.values() if n)
        held = source > 0 and (not receivers or reached_count > 0)
        hours = (session["ends_at"] - session["starts_at"]).total_seconds() / 3600 if held else 0.0
        store.record_delivery(db, session["id"], Delivered(held, round(hours, 4), len(receivers), reached_count),
                              rooms, session["ends_at"] + timedelta(minutes=5))
        if brief["kind"] == "teacher_training" and held:
            for school in sorted({r["school_code"] for r in rooms if r["reports"]}):
                store.set_attendance(db, session["id"], school, rng.randint(4, 25), [], None,
                                     from_iso(brief["ends_at"]))
    return len(ended)
