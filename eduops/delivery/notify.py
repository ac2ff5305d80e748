"""Notifications: a list per user in the hub, and messages to the group robots schools use.

Robots (DingTalk, WeCom, or any other Apprise knows) are sent through Apprise, a
well-kept library that speaks each service's webhook, rather than code of our own. A
message is first written to the ``notify_outbox`` table in the transaction of what
caused it; the ``notify_send`` job sends what is due, outside any request, with retry
and backoff, so a dead robot never blocks or loses a booking. A robot's URL holds its
access token: it is shown masked (Apprise's privacy form) and never logged.
"""
from __future__ import annotations

import gettext
import json
import logging
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Callable, Collection, Iterable

import apprise
import sqlite_utils

from eduops import db as dbmod
from eduops.clock import local_text, to_iso
from eduops.errors import Invalid, NotFound

log = logging.getLogger(__name__)
# Apprise's own log lines may quote a robot's URL, access token and all: they never reach the
# hub's log. What failed is captured per send (``send``), cleaned of secrets, and logged by robot id.
logging.getLogger("apprise").propagate = False

N_ = str  # marks a message for pybabel; translated when it is shown or sent
MESSAGES = {
    "not_ready": N_("Not ready %(lead)s minutes before 《%(title)s》 at %(start)s: %(rooms)s"),
    "approved": N_("《%(title)s》 at %(start)s was approved."),
    "rejected": N_("《%(title)s》 at %(start)s was rejected: %(reason)s"),
    "cancelled": N_("《%(title)s》 at %(start)s was cancelled: %(reason)s"),
    "changed": N_("《%(title)s》 was changed: it is now %(start)s to %(end)s."),
    "expired": N_("《%(title)s》 at %(start)s expired without approval."),
}
REASONS = {
    "no_terminal_online": N_("no terminal online"),
    "display_off": N_("display off"),
    "no_network": N_("no wired link or school Wi-Fi"),
    "no_bandwidth": N_("no live stream booked (no uplink on record)"),
}
TITLE = N_("EduOps sky classroom")
LIST = N_(", ")                                # between reasons; Chinese writes 、
ROOM = N_("%(room)s: %(reasons)s")             # one room and why it is not ready
ROOMS = N_("; ")                               # between rooms
# Robots post into Chinese school group chats, which have no reader's language to follow.
ROBOT_LANGUAGE = gettext.translation("messages", Path(__file__).parent.parent / "translations",
                                     languages=["zh_Hans_CN"], fallback=True)


def render(event: str, params: dict[str, Any], translate: Callable[[str], str], tz: str) -> str:
    """One notification as a sentence, in the language ``translate`` speaks."""
    values = {"title": params.get("title", ""), "start": local_text(params.get("start"), tz),
              "end": local_text(params.get("end"), tz), "lead": params.get("lead", ""),
              "reason": params.get("reason") or "-"}
    values["rooms"] = translate(ROOMS).join(
        translate(ROOM) % {"room": name, "reasons": reason_list(reasons, translate)}
        for name, reasons in params.get("rooms", []))
    return translate(MESSAGES[event]) % values


def reason_list(codes: Iterable[str], translate: Callable[[str], str]) -> str:
    """Why a room is not ready, as one phrase in the language ``translate`` speaks."""
    return translate(LIST).join(translate(REASONS[code]) for code in codes)


# Queueing (inside the caller's write transaction) --------------------------------------------------

def session_event(db: sqlite_utils.Database, now: datetime, event: str, session_id: int, params: dict[str, Any],
                  key: str, schools: Collection[str], host: bool) -> None:
    """Tell the host (if ``host``) and the IT staff of ``schools`` in the hub, and queue a message for
    the robots of those schools and the county-wide ones; ``key`` makes a repeat a no-op."""
    row = db.execute("SELECT title, starts_at, ends_at, host_user_id FROM sky_sessions WHERE id = ?",
                     [session_id]).fetchone()
    if row is None:
        return
    params = {**params, "title": row[0], "start": row[1], "end": row[2]}
    if "rooms" in params:  # room codes to names, as people know them
        names = dict(db.execute(f"SELECT code, name FROM rooms WHERE code IN ({','.join('?' * len(params['rooms']))})",
                                [code for code, _ in params["rooms"]]).fetchall())
        params["rooms"] = [[names.get(code, code), reasons] for code, reasons in params["rooms"]]
    text = json.dumps(params, ensure_ascii=False, sort_keys=True)
    marks = ",".join("?" * len(schools))
    users = {r[0] for r in db.execute(
        f"SELECT DISTINCT u.id FROM users u JOIN user_schools us ON us.user_id = u.id WHERE u.role = 'it_staff' "
        f"AND u.disabled_at IS NULL AND us.school_code IN ({marks})", list(schools))} if schools else set()
    if host:
        users.add(row[3])
    at = to_iso(now)
    db.conn.executemany("INSERT INTO notifications (user_id, session_id, event, params, created_at) "
                        "VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                        [(user, session_id, event, text, at) for user in sorted(users)])
    db.execute(f"INSERT INTO notify_outbox (target_id, event_key, session_id, event, params, created_at, "
               f"next_attempt_at) SELECT id, ?, ?, ?, ?, ?, ? FROM notify_targets WHERE school_code IS NULL "
               f"OR school_code IN ({marks or 'NULL'}) ON CONFLICT DO NOTHING",
               [key, session_id, event, text, at, at, *schools])


# The hub's list per user -----------------------------------------------------------------------------

def notifications_of(db: sqlite_utils.Database, user_id: int, limit: int = 100) -> list[dict[str, Any]]:
    rows = list(db.query("SELECT id, session_id, event, params, created_at, read_at FROM notifications "
                         "WHERE user_id = ? ORDER BY id DESC LIMIT ?", [user_id, limit]))
    for row in rows:
        row["params"] = json.loads(row["params"])
    return rows


def unread_count(db: sqlite_utils.Database, user_id: int) -> int:
    return db.execute("SELECT COUNT(*) FROM notifications WHERE user_id = ? AND read_at IS NULL",
                      [user_id]).fetchone()[0]


def mark_read(db: sqlite_utils.Database, user_id: int, now: datetime) -> int:
    with dbmod.write(db):
        return db.execute("UPDATE notifications SET read_at = ? WHERE user_id = ? AND read_at IS NULL",
                          [to_iso(now), user_id]).rowcount


# Robot targets -----------------------------------------------------------------------------------------

def masked(url: str) -> str:
    """A robot's URL as people may see it: Apprise's privacy form, the access token hidden."""
    found = apprise.Apprise.instantiate(url)
    return found.url(privacy=True) if found else url.split("://", 1)[0] + "://…"


def add_target(db: sqlite_utils.Database, school_code: str | None, label: str, url: str, actor: str | None,
               now: datetime) -> int:
    url, label = url.strip(), label.strip()
    if not label:
        raise Invalid("Give the robot a name people recognise, such as 者海镇中心小学信息群.", code="invalid")
    if apprise.Apprise.instantiate(url) is None:
        raise Invalid("This is not a robot address Apprise knows: use dingtalk://TOKEN/ (or "
                      "dingtalk://SECRET@TOKEN/ when the robot signs), wecombot://KEY, or another Apprise URL.",
                      code="bad_robot_url")
    with dbmod.write(db):
        if school_code and db.execute("SELECT 1 FROM schools WHERE code = ?", [school_code]).fetchone() is None:
            raise NotFound(f"There is no school {school_code}.", code="not_found")
        return db.execute("INSERT INTO notify_targets (school_code, label, url, created_by, created_at) "
                          "VALUES (?, ?, ?, ?, ?)", [school_code, label, url, actor, to_iso(now)]).lastrowid


def targets(db: sqlite_utils.Database, schools: Collection[str] | None) -> list[dict[str, Any]]:
    """Targets within ``schools`` (None: all, the county-wide ones included), their URLs masked."""
    where = "" if schools is None else f"WHERE school_code IN ({','.join('?' * len(schools)) or 'NULL'})"
    rows = list(db.query(f"SELECT t.id, t.school_code, t.label, t.url, t.created_by, t.created_at, "
                         f"(SELECT COUNT(*) FROM notify_outbox o WHERE o.target_id = t.id AND o.sent_at IS NOT NULL) "
                         f"AS sent, (SELECT MAX(last_error) FROM notify_outbox o WHERE o.target_id = t.id AND "
                         f"o.sent_at IS NULL) AS failing FROM notify_targets t {where} "
                         f"ORDER BY t.school_code IS NOT NULL, t.school_code, t.id", sorted(schools or [])))
    for row in rows:
        row["url"] = masked(row["url"])
    return rows


def remove_target(db: sqlite_utils.Database, target_id: int, schools: Collection[str] | None) -> None:
    """Remove a target (and what still waits for it); ``schools`` limits whose targets may go."""
    with dbmod.write(db):
        row = db.execute("SELECT school_code FROM notify_targets WHERE id = ?", [target_id]).fetchone()
        if row is None or (schools is not None and row[0] not in schools):
            raise NotFound(f"There is no robot {target_id} you may change.", code="not_found")
        db.execute("DELETE FROM notify_targets WHERE id = ?", [target_id])


# Sending ------------------------------------------------------------------------------------------------

def robot_text(message: dict[str, Any], tz: str) -> tuple[str, str]:
    """(title, body) of an outbox message, in the robots' language."""
    body = render(message["event"], json.loads(message["params"]), ROBOT_LANGUAGE.gettext, tz)
    return ROBOT_LANGUAGE.gettext(TITLE), body


def claim_due(db: sqlite_utils.Database, now: datetime, limit: int, lease: timedelta) -> list[dict[str, Any]]:
    """Take the messages due to be sent, in one transaction: each is leased (its next attempt moved
    ``lease`` ahead) so that a second sender at the same time (`eduops jobs run` beside the hub's
    own scheduler) does not send it too; ``record_attempt`` then sets its real next attempt."""
    with dbmod.write(db):
        rows = list(db.query(
            "SELECT o.id, o.event, o.params, o.attempts, t.url, t.id AS target_id FROM notify_outbox o "
            "JOIN notify_targets t ON t.id = o.target_id WHERE o.sent_at IS NULL AND o.gave_up_at IS NULL "
            "AND o.next_attempt_at <= ? ORDER BY o.next_attempt_at LIMIT ?", [to_iso(now), limit]))
        db.conn.executemany("UPDATE notify_outbox SET next_attempt_at = ? WHERE id = ?",
                            [(to_iso(now + lease), r["id"]) for r in rows])
    return rows


def send(url: str, title: str, body: str) -> str:
    """Send one message; '' when it went, else why not (with the URL's secrets left out)."""
    robot = apprise.Apprise()
    if not robot.add(url):
        return "not a robot address Apprise knows"
    with apprise.LogCapture(level=logging.WARNING) as said:
        if robot.notify(title=title, body=body):
            return ""
        lines = [line.strip() for line in said.getvalue().splitlines() if line.strip()]
    why = lines[-1] if lines else "the robot did not accept the message"
    for part in url.replace("://", "/").replace("@", "/").replace("?", "/").split("/"):
        if len(part) >= 6:  # tokens, keys and secrets of the URL never reach a log or a page
            why = why.replace(part, "…")
    return why[:300]


def record_attempt(db: sqlite_utils.Database, message_id: int, error: str, now: datetime,
                   retry_base: timedelta, max_attempts: int) -> str:
    """Record how a send went: 'sent', 'retry' (later, with exponential backoff) or 'gave_up'."""
    with dbmod.write(db):
        attempts = db.execute("UPDATE notify_outbox SET attempts = attempts + 1 WHERE id = ? RETURNING attempts",
                              [message_id]).fetchone()[0]
        if not error:
            db.execute("UPDATE notify_outbox SET sent_at = ?, last_error = '' WHERE id = ?", [to_iso(now), message_id])
            outcome = "sent"
        elif attempts >= max_attempts:
            db.execute("UPDATE notify_outbox SET gave_up_at = ?, last_error = ? WHERE id = ?",
                       [to_iso(now), error, message_id])
            outcome = "gave_up"
        else:
            delay = retry_base * 2 ** (attempts - 1)
            db.execute("UPDATE notify_outbox SET next_attempt_at = ?, last_error = ? WHERE id = ?",
                       [to_iso(now + min(delay, timedelta(hours=6))), error, message_id])
            outcome = "retry"
        counts = ["sent"] if outcome == "sent" else ["failed"] + (["gave_up"] if outcome == "gave_up" else [])
        db.conn.executemany("INSERT INTO notify_counts (outcome, count) VALUES (?, 1) "
                            "ON CONFLICT (outcome) DO UPDATE SET count = count + 1", [(c,) for c in counts])
    return outcome


def counts(db: sqlite_utils.Database) -> dict[str, int]:
    """Sends, failed attempts and messages given up on since the database began, and those waiting."""
    found = {"sent": 0, "failed": 0, "gave_up": 0, **dict(db.execute("SELECT outcome, count FROM notify_counts"))}
    found["pending"] = db.execute("SELECT COUNT(*) FROM notify_outbox WHERE sent_at IS NULL "
                                  "AND gave_up_at IS NULL").fetchone()[0]
    return found


# Booking decisions, read from the audit log -------------------------------------------------------

AUDITED = {"session_approved": "approved", "session_rejected": "rejected", "session_cancelled": "cancelled",
           "session_edited": "changed", "session_expired": "expired"}
CHANGES = ("starts_at", "ends_at", "source_room_code", "receivers", "state")


def _rooms(snapshot: dict[str, Any], receivers: bool = True) -> set[str]:
    """Room codes of an audited session (docs/bookings.md: its source room and receiving rooms)."""
    found = set(snapshot.get("receivers") or []) if receivers else set()
    return {r for r in found | {snapshot.get("source_room_code")} if isinstance(r, str)}


def _schools_of(db: sqlite_utils.Database, rooms: Collection[str]) -> set[str]:
    return {r[0] for r in db.execute(f"SELECT DISTINCT school_code FROM rooms WHERE code IN "
                                     f"({','.join('?' * len(rooms)) or 'NULL'})", sorted(rooms))}


def audit_events(db: sqlite_utils.Database, limit: int) -> tuple[list[dict[str, Any]], int]:
    """Booking decisions logged since the cursor, oldest first, and the id to move the cursor to."""
    cursor = db.execute("SELECT last_id FROM delivery_cursors WHERE name = 'audit'").fetchone()
    last = cursor[0] if cursor else 0
    rows = list(db.query("SELECT id, event, subject, detail FROM audit_log WHERE id > ? ORDER BY id LIMIT ?",
                         [last, limit]))
    return rows, (rows[-1]["id"] if rows else last)


def queue_audit_events(db: sqlite_utils.Database, rows: Iterable[dict[str, Any]], upto: int, now: datetime) -> int:
    """Turn booking decisions into notifications and move the cursor, in one transaction."""
    queued = 0
    with dbmod.write(db):
        for row in rows:
            event = AUDITED.get(row["event"])
            subject = (row["subject"] or "").rpartition(" ")[2]
            if event is None or not subject.isdigit():
                continue
            try:
                detail = json.loads(row["detail"] or "{}")
            except ValueError:
                detail = {}
            before, after = detail.get("before") or {}, detail.get("after") or {}
            if event == "changed" and all(before.get(k) == after.get(k) for k in CHANGES):
                continue  # a new title or notes: nothing a receiving school must act on
            # Rejection and expiry concern the host's school; the rest every school the session touches.
            wide = event not in ("rejected", "expired")
            schools = _schools_of(db, _rooms(before, wide) | _rooms(after, wide))
            session_event(db, now, event, int(subject), {"reason": after.get("reason") or ""},
                          key=f"audit:{row['id']}", schools=schools, host=event != "changed")
            queued += 1
        db.execute("INSERT INTO delivery_cursors (name, last_id) VALUES ('audit', ?) "
                   "ON CONFLICT (name) DO UPDATE SET last_id = excluded.last_id", [upto])
    return queued
