"""Recording rooms: the schedule a broadcast room's agent fetches, and the recording states it reports.

Sessions are the booking area's tables (docs/bookings.md), read here, never written; the
agent side is agents/schedule.py and agents/recorder.py.
"""
from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta
from typing import Any, Collection, Iterable, Sequence

import sqlite_utils

from eduops.clock import to_iso
from eduops.fleet import commands

REFRESH_TTL = timedelta(hours=1)   # after that the recorder has polled its schedule anyway



def room_schedule(db: sqlite_utils.Database, room_code: str, now: datetime,
                  until: datetime) -> tuple[str, list[dict[str, Any]], str]:
    """(room kind, the booked sessions the room records that end after now and start before
    ``until``, an ETag of both). Only a broadcast room records."""
    kind = db.execute("SELECT kind FROM rooms WHERE code = ?", [room_code]).fetchone()
    kind = kind[0] if kind else "unknown"
    sessions = [] if kind != "broadcast" else [
        {"id": r[0], "title": r[1], "kind": r[2], "start": r[3], "end": r[4]} for r in db.execute(
            "SELECT id, title, kind, starts_at, ends_at FROM sky_sessions WHERE source_room_code = ? "
            "AND state = 'booked' AND (recorded = 1 OR kind = 'recording') AND starts_at < ? AND ends_at > ? "
            "ORDER BY starts_at", [room_code, to_iso(until), to_iso(now)])]
    tag = hashlib.sha256(json.dumps([kind, sessions], ensure_ascii=False).encode()).hexdigest()[:32]
    return kind, sessions, f'"{tag}"'


def sessions_recorded_in(db: sqlite_utils.Database, room_codes: Collection[str], since: datetime,
                         until: datetime) -> list[dict[str, Any]]:
    """Sessions to be recorded in ``room_codes`` that ended within [since, until), oldest first
    (the demo's made-up past of its recorders)."""
    return list(db.query(
        f"SELECT id, source_room_code AS room_code, starts_at, ends_at FROM sky_sessions "
        f"WHERE source_room_code IN ({','.join('?' * len(room_codes)) or 'NULL'}) "
        "AND state IN ('booked', 'finished') AND (recorded = 1 OR kind = 'recording') AND ends_at >= ? AND ends_at < ? "
        "ORDER BY ends_at", [*sorted(room_codes), to_iso(since), to_iso(until)]))


def record_recordings(db: sqlite_utils.Database, agent_id: str, reported_at: str,
                      recordings: Sequence[tuple[str, str, str, str | None]]) -> None:
    """Keep each recording's newest state (inside the ingest transaction). Ids that are not a
    session of the agent's room are ignored: an agent cannot speak for another room."""
    db.conn.executemany(
        "INSERT INTO recordings (session_id, agent_id, state, reason, at, reported_at) "
        "SELECT s.id, a.id, ?3, ?4, ?5, ?6 FROM sky_sessions s JOIN agents a ON a.room_code = s.source_room_code "
        "WHERE s.id = ?1 AND a.id = ?2 "
        "ON CONFLICT (session_id, agent_id) DO UPDATE SET state = excluded.state, reason = excluded.reason, "
        "at = excluded.at, reported_at = excluded.reported_at WHERE excluded.reported_at >= reported_at",
        [(int(sid), agent_id, state, reason or "", at, reported_at)
         for sid, state, reason, at in recordings if sid.isdigit()])


def recorder_rooms(audit_rows: Iterable[dict[str, Any]]) -> set[str]:
    """Source rooms of recorded sessions that booking decisions in the audit log changed."""
    rooms = set()
    for row in audit_rows:
        if not row["event"].startswith("session_"):
            continue
        try:
            detail = json.loads(row["detail"] or "{}")
        except ValueError:
            continue
        for side in (detail.get("before") or {}, detail.get("after") or {}):
            if (side.get("recorded") or side.get("kind") == "recording") and side.get("source_room_code"):
                rooms.add(side["source_room_code"])
    return rooms


def ask_recorders_to_refresh(db: sqlite_utils.Database, rooms: Collection[str], now: datetime) -> int:
    """Queue refresh_schedule for the agents of ``rooms``, so a change reaches the recorder in
    seconds rather than at its next poll; the poll covers any that miss it."""
    agent_ids = [r[0] for r in db.execute(
        f"SELECT id FROM agents WHERE state != 'retired' AND room_code IN ({','.join('?' * len(rooms)) or 'NULL'})",
        sorted(rooms))]
    asked = 0
    for agent_id in agent_ids:
        try:
            commands.queue_command(db, agent_id, "refresh_schedule", now, REFRESH_TTL)
            asked += 1
        except LookupError:  # retired since the query: nothing to ask
            pass
    return asked


def recordings_of(db: sqlite_utils.Database, session_id: int) -> list[dict[str, Any]]:
    return list(db.query("SELECT r.agent_id, a.hostname, r.state, r.reason, r.at, r.reported_at "
                         "FROM recordings r JOIN agents a ON a.id = r.agent_id WHERE r.session_id = ? "
                         "ORDER BY r.reported_at DESC", [session_id]))


def recordings_by_state(db: sqlite_utils.Database, now: datetime, window: timedelta) -> dict[str, int]:
    """Recordings of sessions ending from ``window`` ago onward, by their newest state."""
    return dict(db.execute("SELECT r.state, COUNT(*) FROM recordings r JOIN sky_sessions s ON s.id = r.session_id "
                           "WHERE s.ends_at >= ? GROUP BY r.state", [to_iso(now - window)]).fetchall())
