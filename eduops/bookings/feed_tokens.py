"""Storage of calendar feed tokens: one feed each, hashed at rest, revocable by their owner.

A calendar app fetches a feed by URL and cannot sign in, so the URL carries a secret.
The secret is shown once; the hub keeps its SHA-256 (32 random bytes need no slow hash).
A token names its feed (a teacher's own sessions, a room or a school) and nothing else;
the owner's current role and schools are checked again on every fetch, by the caller.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlite_utils
from flask_babel import gettext as _

from eduops import audit
from eduops import db as dbmod
from eduops.accounts.passwords import secret_hash
from eduops.audit import Actor
from eduops.clock import from_iso, to_iso
from eduops.errors import NotFound

PREFIX = "feed_"
SCOPES = ("teacher", "room", "school")
TOUCH_EVERY = timedelta(hours=1)  # calendar apps poll often; one write an hour says "still in use"


@dataclass(frozen=True)
class FeedToken:
    id: int
    user_id: int
    scope: str
    target: str


def create(db: sqlite_utils.Database, user_id: int, username: str, scope: str, target: str,
           actor: Actor, now: datetime) -> tuple[int, str]:
    """A new feed token; returns (id, secret), the only time the secret is seen."""
    if scope not in SCOPES:
        raise ValueError(f"unknown feed scope {scope!r}")
    raw = PREFIX + secrets.token_urlsafe(32)
    with dbmod.write(db):
        token_id = db.execute(
            "INSERT INTO feed_tokens (user_id, scope, target, token_hash, hint, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [user_id, scope, target, secret_hash(raw), raw[:len(PREFIX) + 4], to_iso(now)]).lastrowid
        audit.add_event(db, now, "feed_token_created", actor, username, f"feed {token_id} {scope} {target}")
    return token_id, raw


def find(db: sqlite_utils.Database, raw: str, now: datetime) -> FeedToken | None:
    """The unrevoked token with this secret, or None; notes when it was last used."""
    row = db.execute("SELECT id, user_id, scope, target, last_used_at FROM feed_tokens "
                     "WHERE token_hash = ? AND revoked_at IS NULL", [secret_hash(raw)]).fetchone()
    if row is None:
        return None
    if row[4] is None or now - from_iso(row[4]) >= TOUCH_EVERY:
        with dbmod.write(db):
            db.execute("UPDATE feed_tokens SET last_used_at = ? WHERE id = ?", [to_iso(now), row[0]])
    return FeedToken(*row[:4])


def of_user(db: sqlite_utils.Database, user_id: int) -> list[dict[str, Any]]:
    """One user's feed tokens, newest first (never the secret, which is not stored)."""
    cursor = db.execute("SELECT id, scope, target, hint, created_at, last_used_at, revoked_at "
                        "FROM feed_tokens WHERE user_id = ? ORDER BY id DESC", [user_id])
    names = [c[0] for c in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def revoke(db: sqlite_utils.Database, token_id: int, user_id: int, username: str, actor: Actor,
           now: datetime) -> None:
    """Revoke one of the user's own tokens; the feed's URL stops working at once."""
    with dbmod.write(db):
        row = db.execute("SELECT scope, target FROM feed_tokens WHERE id = ? AND user_id = ? "
                         "AND revoked_at IS NULL", [token_id, user_id]).fetchone()
        if row is None:
            raise NotFound(_("You have no active calendar feed number %(id)d.", id=token_id), code="no_feed")
        db.execute("UPDATE feed_tokens SET revoked_at = ? WHERE id = ?", [to_iso(now), token_id])
        audit.add_event(db, now, "feed_token_revoked", actor, username, f"feed {token_id} {row[0]} {row[1]}")
