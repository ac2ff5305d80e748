"""Enrollment tokens: one school each, hashed at rest, with expiry, a use limit, revocation and rotation.

A token's secret is printed once when it is made; the hub keeps its SHA-256 (the
secret is 32 random bytes, so a plain hash is enough). People refer to a token by
its number. Rotating makes a new token for the same school; the old one keeps
working until it expires, so agents being installed meanwhile are not turned away.
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Collection

import sqlite_utils

from eduops import audit
from eduops import db as dbmod
from eduops.audit import Actor
from eduops.clock import to_iso
from eduops.errors import ApiError, Invalid


def new_secret(prefix: str) -> str:
    return prefix + secrets.token_urlsafe(32)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class TokenError(Invalid):
    """A token command cannot be done; the message says why."""


@dataclass(frozen=True)
class NewToken:
    id: int
    school_code: str
    expires_at: str
    max_uses: int | None
    secret: str


def _insert(db: sqlite_utils.Database, school_code: str, now: datetime, expires_in: timedelta,
            max_uses: int | None) -> NewToken:
    secret = new_secret("et_")
    expires_at = to_iso(now + expires_in)
    cursor = db.execute(
        "INSERT INTO enrollment_tokens (token_hash, school_code, created_at, expires_at, max_uses) "
        "VALUES (?, ?, ?, ?, ?)", [hash_secret(secret), school_code, to_iso(now), expires_at, max_uses])
    return NewToken(cursor.lastrowid, school_code, expires_at, max_uses, secret)


def create_token(db: sqlite_utils.Database, school_code: str, now: datetime, expires_in: timedelta,
                 max_uses: int | None, actor: Actor) -> NewToken:
    """A new token for one school; its secret is in the result and nowhere else."""
    with dbmod.write(db):
        if not db.execute("SELECT 1 FROM schools WHERE code = ?", [school_code]).fetchone():
            raise TokenError(f"unknown school {school_code!r}; use a school code from the inventory")
        new = _insert(db, school_code, now, expires_in, max_uses)
        audit.add_event(db, now, "enroll_token_created", actor, school_code, f"token {new.id}")
        return new


def rotate_token(db: sqlite_utils.Database, token_id: int, now: datetime, expires_in: timedelta,
                 actor: Actor) -> NewToken:
    """A new token replacing ``token_id`` (same school and use limit); the old one lasts until it expires."""
    with dbmod.write(db):
        old = db.execute("SELECT school_code, expires_at, max_uses, revoked_at FROM enrollment_tokens "
                         "WHERE id = ?", [token_id]).fetchone()
        if old is None:
            raise TokenError(f"no enrollment token number {token_id}")
        if old[3] is not None or old[1] <= to_iso(now):
            raise TokenError(f"token {token_id} is revoked or expired; create a new one instead")
        new = _insert(db, old[0], now, expires_in, old[2])
        db.execute("UPDATE enrollment_tokens SET replaced_by = ? WHERE id = ?", [new.id, token_id])
        audit.add_event(db, now, "enroll_token_rotated", actor, old[0], f"token {token_id} replaced by {new.id}")
        return new


def revoke_token(db: sqlite_utils.Database, token_id: int, now: datetime, actor: Actor) -> None:
    """Stop a token at once (agents enrolled with it keep their keys)."""
    with dbmod.write(db):
        found = db.execute("SELECT revoked_at, school_code FROM enrollment_tokens WHERE id = ?",
                           [token_id]).fetchone()
        if found is None:
            raise TokenError(f"no enrollment token number {token_id}")
        if found[0] is None:
            db.execute("UPDATE enrollment_tokens SET revoked_at = ? WHERE id = ?", [to_iso(now), token_id])
            audit.add_event(db, now, "enroll_token_revoked", actor, found[1], f"token {token_id}")


def list_tokens(db: sqlite_utils.Database, schools: Collection[str] | None = None) -> list[dict[str, Any]]:
    """Every token (of ``schools``; None: every school), newest first; never the secrets."""
    where = f"WHERE school_code IN ({', '.join('?' * len(schools))})" if schools is not None else ""
    return list(db.query(
        "SELECT id, school_code, created_at, expires_at, max_uses, uses, revoked_at, replaced_by, "
        f"last_used_at, last_used_by FROM enrollment_tokens {where} ORDER BY id DESC", sorted(schools or [])))


def token_school(db: sqlite_utils.Database, token_id: int) -> str | None:
    """The school a token is for, or None if there is no such token."""
    row = db.execute("SELECT school_code FROM enrollment_tokens WHERE id = ?", [token_id]).fetchone()
    return row[0] if row else None


def token_status(token: dict[str, Any], now: datetime) -> str:
    if token["revoked_at"]:
        return "revoked"
    if token["expires_at"] <= to_iso(now):
        return "expired"
    if token["max_uses"] is not None and token["uses"] >= token["max_uses"]:
        return "used up"
    return "active"


def take_token(db: sqlite_utils.Database, secret: str, now: datetime, used_by: str) -> tuple[int, str]:
    """Spend one use of a token inside the caller's transaction; return (token id, school code)."""
    row = db.execute("SELECT id, school_code, expires_at, max_uses, uses, revoked_at, replaced_by "
                     "FROM enrollment_tokens WHERE token_hash = ?", [hash_secret(secret)]).fetchone()
    if row is None:
        raise ApiError(401, "token_unknown", "This enrollment token is not known to the hub; "
                       "check it was copied whole, or ask the school's IT staff for a new one.")
    token_id, school, expires_at, max_uses, uses, revoked_at, replaced_by = row
    if revoked_at is not None:
        raise ApiError(401, "token_revoked", f"Enrollment token {token_id} was revoked; "
                       "ask the school's IT staff for a new one.")
    if expires_at <= to_iso(now):
        newer = f" (it was replaced by token {replaced_by})" if replaced_by else ""
        raise ApiError(401, "token_expired", f"Enrollment token {token_id} expired at {expires_at}{newer}; "
                       "ask the school's IT staff for a new one.")
    if max_uses is not None and uses >= max_uses:
        raise ApiError(401, "token_used_up", f"Enrollment token {token_id} has been used all {max_uses} "
                       "times it allows; ask the school's IT staff for another.")
    db.execute("UPDATE enrollment_tokens SET uses = uses + 1, last_used_at = ?, last_used_by = ? WHERE id = ?",
               [to_iso(now), used_by, token_id])
    return token_id, school
