"""Security events: the audit log, and the failed sign-ins that rate limiting counts.

Every change to an account records its event in the same transaction as the
change (see accounts.py), so the log cannot miss one. No secret is ever stored here.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlite_utils

from eduops import db as dbmod
from eduops.clock import to_iso

EVENTS = ("login", "login_failed", "logout", "password_changed", "password_reset", "user_added",
          "access_changed", "user_disabled", "user_enabled", "token_created", "token_revoked",
          "enroll_token_created", "enroll_token_rotated", "enroll_token_revoked", "terminal_retired",
          "feed_token_created", "feed_token_revoked",
          "session_booked", "session_edited", "session_cancelled", "session_approved", "session_rejected",
          "session_expired")


@dataclass(frozen=True)
class Actor:
    """Who did something: a signed-in user from an address, or the command line (username None)."""
    username: str | None
    address: str


COMMAND_LINE = Actor(None, "command line")


def add_event(db: sqlite_utils.Database, now: datetime, event: str, actor: Actor,
              subject: str | None = None, detail: str = "") -> None:
    """Append an event; call inside the write transaction of the change it records."""
    if event not in EVENTS:
        raise ValueError(f"unknown audit event {event!r}")
    db.execute("INSERT INTO audit_log (at, event, actor, subject, address, detail) VALUES (?, ?, ?, ?, ?, ?)",
               [to_iso(now), event, actor.username, subject, actor.address, detail])


def search(db: sqlite_utils.Database, user: str | None = None, event: str | None = None,
           since: datetime | None = None, until: datetime | None = None,
           before_id: int | None = None, limit: int = 100) -> list[dict[str, Any]]:
    """Newest first: events by or about ``user``, of one kind, from ``since`` up to ``until``."""
    where, params = [], []
    if user:
        where.append("(actor = ? COLLATE NOCASE OR subject = ? COLLATE NOCASE)")
        params += [user, user]
    if event:
        where.append("event = ?")
        params.append(event)
    if since:
        where.append("at >= ?")
        params.append(to_iso(since))
    if until:
        where.append("at < ?")
        params.append(to_iso(until))
    if before_id:
        where.append("id < ?")
        params.append(before_id)
    sql = ("SELECT id, at, event, actor, subject, address, detail FROM audit_log"
           + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY id DESC LIMIT ?")
    cursor = db.execute(sql, [*params, limit])
    names = [c[0] for c in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def record_failed_login(db: sqlite_utils.Database, now: datetime, username: str, address: str,
                        window: timedelta) -> None:
    """Count a failed sign-in toward the limits and log it; forget failures older than the window."""
    with dbmod.write(db):
        db.execute("DELETE FROM login_failures WHERE at <= ?", [to_iso(now - window)])
        db.execute("INSERT INTO login_failures (at, username, address) VALUES (?, ?, ?)",
                   [to_iso(now), username, address])
        add_event(db, now, "login_failed", Actor(None, address), subject=username)


def nth_latest_failure(db: sqlite_utils.Database, column: str, value: str, since: datetime,
                       n: int) -> str | None:
    """The time of the ``n``-th latest failure after ``since`` for one username or address, if any."""
    if column not in ("username", "address"):
        raise ValueError(column)
    row = db.execute(f"SELECT at FROM login_failures WHERE {column} = ? AND at > ? "
                     "ORDER BY at DESC LIMIT 1 OFFSET ?", [value, to_iso(since), n - 1]).fetchone()
    return row[0] if row else None
