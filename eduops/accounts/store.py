"""Accounts storage: users and their schools, sessions and API tokens; every SQL statement about them.

Each change records its audit event in the same transaction (see audit.py).
Session ids and tokens are looked up by their SHA-256 hash; the raw values
exist only in the cookie or the script that holds them.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Iterable

import sqlite_utils
from flask_babel import gettext as _

from eduops import audit
from eduops import db as dbmod
from eduops.accounts import passwords
from eduops.audit import Actor
from eduops.clock import from_iso, to_iso
from eduops.errors import Invalid

ROLES = ("admin", "it_staff", "teacher", "viewer")
SCHOOL_ROLES = ("it_staff", "teacher")  # the roles bound to schools; admin and viewer see all
USERNAME = re.compile(r"^\w[\w.-]{1,63}$")
TOUCH_EVERY = timedelta(seconds=60)  # last-seen times are this coarse, so reads rarely write


@dataclass(frozen=True)
class User:
    id: int
    username: str
    role: str
    school_codes: frozenset[str]  # empty for admin and viewer


class AccountError(Invalid):
    """A change to an account that cannot be made; the message tells the person why."""


def check_access(db: sqlite_utils.Database, role: str, schools: Iterable[str]) -> frozenset[str]:
    """The schools for a role, once role and schools are known to fit together."""
    codes = frozenset(s.strip() for s in schools if s.strip())
    if role not in ROLES:
        raise AccountError(_("Unknown role %(role)s; choose one of %(roles)s.", role=role, roles=", ".join(ROLES)))
    if role in SCHOOL_ROLES and not codes:
        raise AccountError(_("IT staff and teachers work for a school: give at least one school code."))
    if role not in SCHOOL_ROLES and codes:
        raise AccountError(_("Admins and viewers see every school: give them no school code."))
    known = {row[0] for row in db.execute(
        f"SELECT code FROM schools WHERE code IN ({', '.join('?' for _c in codes)})", list(codes))}
    if codes - known:
        raise AccountError(_("Unknown school code(s): %(codes)s.", codes=", ".join(sorted(codes - known))))
    return codes


def _check_password(password: str) -> str:
    problem = passwords.password_problem(password)
    if problem:
        raise AccountError(problem)
    return passwords.hash_password(password)


def add_user(db: sqlite_utils.Database, username: str, role: str, schools: Iterable[str],
             password: str, actor: Actor, now: datetime) -> User:
    if not USERNAME.match(username):
        raise AccountError(_("A username has 2 to 64 letters, digits, dots, dashes or underscores."))
    codes = check_access(db, role, schools)
    password_hash = _check_password(password)  # slow on purpose: hash before taking the write lock
    with dbmod.write(db):
        if db.execute("SELECT 1 FROM users WHERE username = ?", [username]).fetchone():
            raise AccountError(_("The username %(name)s is taken.", name=username))
        user_id = db.execute(
            "INSERT INTO users (username, role, password_hash, created_at, password_changed_at) "
            "VALUES (?, ?, ?, ?, ?)", [username, role, password_hash, to_iso(now), to_iso(now)]).lastrowid
        db.conn.executemany("INSERT INTO user_schools (user_id, school_code) VALUES (?, ?)",
                            [(user_id, code) for code in sorted(codes)])
        audit.add_event(db, now, "user_added", actor, username, f"role {role}; schools {_codes(codes)}")
    return User(user_id, username, role, codes)


def _codes(codes: Iterable[str]) -> str:
    return ", ".join(sorted(codes)) or "-"


def _user(db: sqlite_utils.Database, where: str, params: list[Any]) -> User | None:
    row = db.execute(f"SELECT id, username, role FROM users WHERE {where}", params).fetchone()
    if row is None:
        return None
    schools = frozenset(r[0] for r in db.execute("SELECT school_code FROM user_schools WHERE user_id = ?",
                                                 [row[0]]))
    return User(row[0], row[1], row[2], schools)


def active_user(db: sqlite_utils.Database, user_id: int) -> User | None:
    return _user(db, "id = ? AND disabled_at IS NULL", [user_id])


def user_named(db: sqlite_utils.Database, username: str) -> User | None:
    """The account with this name, disabled or not."""
    return _user(db, "username = ?", [username])


def credentials(db: sqlite_utils.Database, username: str) -> tuple[User, str, str | None] | None:
    """(user, password hash, last sign-in) of an active account, for signing in."""
    row = db.execute("SELECT id, password_hash, last_login_at FROM users "
                     "WHERE username = ? AND disabled_at IS NULL", [username]).fetchone()
    if row is None:
        return None
    user = active_user(db, row[0])
    return (user, row[1], row[2]) if user else None


def user_rows(db: sqlite_utils.Database, user_id: int | None = None) -> list[dict[str, Any]]:
    """Every account (or one) with its schools and dates, for the people who manage them."""
    cursor = db.execute(
        "SELECT u.id, u.username, u.role, u.created_at, u.password_changed_at, u.last_login_at, u.disabled_at, "
        "(SELECT group_concat(school_code, ', ') FROM (SELECT school_code FROM user_schools "
        " WHERE user_id = u.id ORDER BY school_code)) AS schools "
        "FROM users u WHERE ? IS NULL OR u.id = ? ORDER BY u.username", [user_id, user_id])
    names = [c[0] for c in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def _keep_an_admin(db: sqlite_utils.Database, user_id: int) -> None:
    others = db.execute("SELECT COUNT(*) FROM users WHERE role = 'admin' AND disabled_at IS NULL "
                        "AND id != ?", [user_id]).fetchone()[0]
    if not others:
        raise AccountError(_("This is the last active admin; make another admin first."))


def set_access(db: sqlite_utils.Database, user: User, role: str, schools: Iterable[str],
               actor: Actor, now: datetime) -> None:
    """Change a user's role and schools; takes effect on their next request, sessions and tokens alike."""
    codes = check_access(db, role, schools)
    with dbmod.write(db):
        if user.role == "admin" and role != "admin":
            _keep_an_admin(db, user.id)
        db.execute("UPDATE users SET role = ? WHERE id = ?", [role, user.id])
        db.execute("DELETE FROM user_schools WHERE user_id = ?", [user.id])
        db.conn.executemany("INSERT INTO user_schools (user_id, school_code) VALUES (?, ?)",
                            [(user.id, code) for code in sorted(codes)])
        audit.add_event(db, now, "access_changed", actor, user.username,
                        f"role {user.role} → {role}; schools {_codes(user.school_codes)} → {_codes(codes)}")


def set_password(db: sqlite_utils.Database, user: User, password: str, actor: Actor, now: datetime,
                 keep_session: str | None = None) -> None:
    """Set a new password and end the user's sessions (but ``keep_session``, the one changing it).

    Changing one's own password is 'password_changed'; anyone else's is a 'password_reset'.
    """
    password_hash = _check_password(password)
    with dbmod.write(db):
        db.execute("UPDATE users SET password_hash = ?, password_changed_at = ? WHERE id = ?",
                   [password_hash, to_iso(now), user.id])
        db.execute("DELETE FROM sessions WHERE user_id = ? AND id_hash != ?",
                   [user.id, passwords.secret_hash(keep_session) if keep_session else ""])
        event = "password_changed" if actor.username == user.username else "password_reset"
        audit.add_event(db, now, event, actor, user.username)


def rehash_password(db: sqlite_utils.Database, user: User, password: str) -> None:
    """Store the same password under today's hash parameters (at sign-in, when they have grown)."""
    password_hash = passwords.hash_password(password)
    with dbmod.write(db):
        db.execute("UPDATE users SET password_hash = ? WHERE id = ?", [password_hash, user.id])


def set_disabled(db: sqlite_utils.Database, username: str, disabled: bool, actor: Actor, now: datetime) -> None:
    """Disable an account (its sessions end, its tokens stop working) or enable it again."""
    with dbmod.write(db):
        row = db.execute("SELECT id, role FROM users WHERE username = ?", [username]).fetchone()
        if row is None:
            raise AccountError(_("No user is named %(name)s.", name=username))
        if disabled and row[1] == "admin":
            _keep_an_admin(db, row[0])
        db.execute("UPDATE users SET disabled_at = ? WHERE id = ?", [to_iso(now) if disabled else None, row[0]])
        if disabled:
            db.execute("DELETE FROM sessions WHERE user_id = ?", [row[0]])
        audit.add_event(db, now, "user_disabled" if disabled else "user_enabled", actor, username)


def start_session(db: sqlite_utils.Database, user: User, address: str, now: datetime,
                  idle: timedelta, lifetime: timedelta) -> str:
    """A new session for a successful sign-in; returns the raw id for the cookie."""
    raw = passwords.new_session_id()
    with dbmod.write(db):
        db.execute("DELETE FROM sessions WHERE last_seen_at <= ? OR created_at <= ?",
                   [to_iso(now - idle), to_iso(now - lifetime)])
        db.execute("INSERT INTO sessions (id_hash, user_id, created_at, last_seen_at, address) "
                   "VALUES (?, ?, ?, ?, ?)", [passwords.secret_hash(raw), user.id, to_iso(now), to_iso(now), address])
        db.execute("UPDATE users SET last_login_at = ? WHERE id = ?", [to_iso(now), user.id])
        audit.add_event(db, now, "login", Actor(user.username, address), user.username)
    return raw


def session_user(db: sqlite_utils.Database, raw: str, now: datetime, idle: timedelta,
                 lifetime: timedelta) -> User | None:
    """The active user of a live session; an expired session is deleted."""
    id_hash = passwords.secret_hash(raw)
    row = db.execute("SELECT user_id, created_at, last_seen_at FROM sessions WHERE id_hash = ?",
                     [id_hash]).fetchone()
    if row is None:
        return None
    last_seen = from_iso(row[2])
    if last_seen <= now - idle or from_iso(row[1]) <= now - lifetime:
        with dbmod.write(db):
            db.execute("DELETE FROM sessions WHERE id_hash = ?", [id_hash])
        return None
    if now - last_seen >= TOUCH_EVERY:
        with dbmod.write(db):
            db.execute("UPDATE sessions SET last_seen_at = ? WHERE id_hash = ?", [to_iso(now), id_hash])
    return active_user(db, row[0])


def end_session(db: sqlite_utils.Database, raw: str, actor: Actor, now: datetime) -> None:
    """Sign out: the session id is forgotten, so the cookie never works again."""
    with dbmod.write(db):
        db.execute("DELETE FROM sessions WHERE id_hash = ?", [passwords.secret_hash(raw)])
        audit.add_event(db, now, "logout", actor, actor.username)


def create_token(db: sqlite_utils.Database, user: User, name: str, actor: Actor, now: datetime) -> tuple[int, str]:
    """A new API token for ``user``; returns (id, the token), the only time the token is seen."""
    name = name.strip()
    if not 1 <= len(name) <= 100:
        raise AccountError(_("Give the token a name of 1 to 100 characters, such as what script uses it."))
    raw = passwords.new_api_token()
    hint = raw[:len(passwords.TOKEN_PREFIX) + 4]
    with dbmod.write(db):
        token_id = db.execute(
            "INSERT INTO api_tokens (user_id, name, token_hash, hint, created_at) VALUES (?, ?, ?, ?, ?)",
            [user.id, name, passwords.secret_hash(raw), hint, to_iso(now)]).lastrowid
        audit.add_event(db, now, "token_created", actor, user.username, f"token {token_id} {name!r} ({hint}…)")
    return token_id, raw


def token_user(db: sqlite_utils.Database, raw: str, now: datetime) -> User | None:
    """The active user of an unrevoked token."""
    row = db.execute("SELECT id, user_id, last_used_at FROM api_tokens WHERE token_hash = ? AND revoked_at IS NULL",
                     [passwords.secret_hash(raw)]).fetchone()
    if row is None:
        return None
    if row[2] is None or now - from_iso(row[2]) >= TOUCH_EVERY:
        with dbmod.write(db):
            db.execute("UPDATE api_tokens SET last_used_at = ? WHERE id = ?", [to_iso(now), row[0]])
    return active_user(db, row[1])


def user_tokens(db: sqlite_utils.Database, user_id: int | None = None) -> list[dict[str, Any]]:
    """Tokens (of one user, or all), newest first; never the token itself, which is not stored."""
    cursor = db.execute(
        "SELECT t.id, u.username, t.name, t.hint, t.created_at, t.last_used_at, t.revoked_at "
        "FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE ? IS NULL OR t.user_id = ? "
        "ORDER BY t.id DESC", [user_id, user_id])
    names = [c[0] for c in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def revoke_token(db: sqlite_utils.Database, token_id: int, actor: Actor, now: datetime,
                 owner: User | None = None) -> None:
    """Revoke a token (only one of ``owner``'s, when given); it stops working at once."""
    with dbmod.write(db):
        row = db.execute("SELECT t.user_id, u.username, t.name, t.hint FROM api_tokens t "
                         "JOIN users u ON u.id = t.user_id WHERE t.id = ? AND t.revoked_at IS NULL",
                         [token_id]).fetchone()
        if row is None or (owner is not None and row[0] != owner.id):
            raise AccountError(_("No active token has the number %(id)s.", id=token_id))
        db.execute("UPDATE api_tokens SET revoked_at = ? WHERE id = ?", [to_iso(now), token_id])
        audit.add_event(db, now, "token_revoked", actor, row[1], f"token {token_id} {row[2]!r} ({row[3]}…)")
