"""Delivery storage: readiness checks, what was delivered, attendance (recordings: recordings.py).

The ``store`` the delivery jobs in ``scheduler/delivery_jobs.py`` are given. Sessions and
their receivers are the booking area's tables (docs/bookings.md), read here, never written.
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any, Iterable, Sequence

import sqlite_utils

from eduops import db as dbmod
from eduops.clock import from_iso, to_iso
from eduops.delivery import notify
from eduops.errors import Invalid, NotFound
from scheduler.delivered import Delivered
from scheduler.readiness import RoomFacts, Terminal, Verdict

HOLDING = ("booked", "finished")   # sessions that take place (pending ones wait for approval)


# Sessions as the jobs and pages read them ------------------------------------------------------

def session_rooms(db: sqlite_utils.Database, session_id: int) -> list[dict[str, Any]]:
    """The source room then each receiving room, with names and whether its stream is live."""
    return list(db.query(
        "SELECT 'source' AS role, s.source_room_code AS room_code, s.source_school_code AS school_code, "
        " r.name AS room_name, sc.name AS school_name, 1 AS live FROM sky_sessions s "
        "JOIN rooms r ON r.code = s.source_room_code JOIN schools sc ON sc.code = s.source_school_code "
        "WHERE s.id = ?1 UNION ALL "
        "SELECT 'receiver', sr.room_code, sr.school_code, r.name, sc.name, sr.live FROM sky_session_receivers sr "
        "JOIN rooms r ON r.code = sr.room_code JOIN schools sc ON sc.code = sr.school_code "
        "WHERE sr.session_id = ?1 ORDER BY 1 DESC, 3, 2", [session_id]))


def session_brief(db: sqlite_utils.Database, session_id: int) -> dict[str, Any]:
    found = list(db.query("SELECT id, kind, title, host_user_id, source_room_code, source_school_code, starts_at, "
                          "ends_at, state, reason, stream_mbps, recorded FROM sky_sessions WHERE id = ?", [session_id]))
    if not found:
        raise NotFound(f"There is no session {session_id}.", code="not_found")
    return found[0]


# Readiness ---------------------------------------------------------------------------------------

def sessions_to_check(db: sqlite_utils.Database, now: datetime, longest_lead: timedelta) -> list[dict[str, Any]]:
    """Booked sessions starting within ``longest_lead``, each with the leads already checked."""
    rows = db.query("SELECT s.id, s.starts_at, (SELECT group_concat(DISTINCT lead_minutes) FROM readiness "
                    "WHERE session_id = s.id) AS done FROM sky_sessions s WHERE s.state = 'booked' "
                    "AND s.starts_at > ? AND s.starts_at <= ? ORDER BY s.starts_at",
                    [to_iso(now), to_iso(now + longest_lead)])
    return [{"id": r["id"], "starts_at": from_iso(r["starts_at"]),
             "done": [int(x) for x in (r["done"] or "").split(",") if x]} for r in rows]


def _terminal(body: str) -> Terminal:
    report = json.loads(body)
    network = report.get("network") or {}
    wifi = network.get("wifi") or {}
    return Terminal(screens_on=[d.get("screen_on") for d in report.get("displays") or []],
                    wired_up=any(i.get("kind") == "wired" and i.get("link_up") for i in network.get("interfaces") or []),
                    wifi_ssid=wifi.get("ssid"), wifi_dbm=wifi.get("signal_dbm"))


def room_facts(db: sqlite_utils.Database, session_id: int) -> list[RoomFacts]:
    """What readiness judges, for the session's source room and each receiving room."""
    session = session_brief(db, session_id)
    rooms = session_rooms(db, session_id)
    live_session = session["kind"] != "recording" and any(r["role"] == "receiver" for r in rooms)
    facts = []
    for room in rooms:
        ssids = db.execute("SELECT wifi_ssid FROM schools WHERE code = ?", [room["school_code"]]).fetchone()[0]
        bodies = [row[0] for row in db.execute(
            "SELECT (SELECT body FROM reports WHERE agent_id = a.id ORDER BY report_at DESC LIMIT 1) "
            "FROM agents a WHERE a.room_code = ? AND a.state = 'online'", [room["room_code"]]) if row[0]]
        booked = session["stream_mbps"] > 0 and bool(room["live"])
        facts.append(RoomFacts(room["room_code"], room["school_code"], room["role"],
                               [s.strip() for s in ssids.split(",") if s.strip()],
                               [_terminal(b) for b in bodies], live_session, booked))
    return facts


def record_readiness(db: sqlite_utils.Database, session_id: int, leads: Sequence[int], verdicts: Sequence[Verdict],
                     now: datetime) -> int:
    """Store one check's verdicts under each due lead, and tell people about rooms not ready, in one
    transaction; a check already stored (another run got there first) is left as it is. Returns the
    number of rooms not ready."""
    at = to_iso(now)
    with dbmod.write(db):
        stored = 0
        for lead in leads:
            for v in verdicts:
                stored += db.execute(
                    "INSERT INTO readiness (session_id, lead_minutes, room_code, school_code, role, ready, reasons, "
                    "checked_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                    [session_id, lead, v.room_code, v.school_code, v.role, int(v.ready), ",".join(v.reasons), at]
                ).rowcount
        not_ready = [v for v in verdicts if not v.ready]
        if stored and not_ready:
            notify.session_event(db, now, "not_ready", session_id, {
                "lead": min(leads), "rooms": [[v.room_code, list(v.reasons)] for v in not_ready]},
                key=f"not_ready:{session_id}:{min(leads)}", schools={v.school_code for v in not_ready}, host=True)
    return len(not_ready)


def readiness_of(db: sqlite_utils.Database, session_ids: Iterable[int]) -> dict[int, list[dict[str, Any]]]:
    """Each session's newest check, room by room (source first)."""
    ids = list(session_ids)
    if not ids:
        return {}
    found: dict[int, list[dict[str, Any]]] = {i: [] for i in ids}
    for row in db.query(
            f"SELECT r.session_id, r.lead_minutes, r.room_code, rm.name AS room_name, r.school_code, "
            f"sc.name AS school_name, r.role, r.ready, r.reasons, r.checked_at FROM readiness r "
            f"JOIN rooms rm ON rm.code = r.room_code JOIN schools sc ON sc.code = r.school_code "
            f"WHERE r.session_id IN ({','.join('?' * len(ids))}) AND r.lead_minutes = (SELECT MIN(lead_minutes) "
            f"FROM readiness WHERE session_id = r.session_id) ORDER BY r.role DESC, r.school_code, r.room_code", ids):
        row["reasons"] = [x for x in row["reasons"].split(",") if x]
        found[row["session_id"]].append(row)
    return found


def upcoming_receiver_readiness(db: sqlite_utils.Database, now: datetime, within: timedelta) -> dict[str, int]:
    """Rooms of booked sessions starting within ``within``: ready, not ready, or not checked yet."""
    rows = db.execute(
        "WITH soon AS (SELECT id FROM sky_sessions WHERE state = 'booked' AND starts_at > ?1 AND starts_at <= ?2), "
        "newest AS (SELECT session_id, MIN(lead_minutes) AS lead FROM readiness WHERE session_id IN soon "
        "GROUP BY session_id) "
        "SELECT CASE WHEN r.ready IS NULL THEN 'unchecked' WHEN r.ready = 1 THEN 'yes' ELSE 'no' END, COUNT(*) "
        "FROM sky_session_receivers sr LEFT JOIN newest n ON n.session_id = sr.session_id "
        "LEFT JOIN readiness r ON r.session_id = sr.session_id AND r.lead_minutes = n.lead "
        "AND r.room_code = sr.room_code WHERE sr.session_id IN soon GROUP BY 1",
        [to_iso(now), to_iso(now + within)]).fetchall()
    return {"yes": 0, "no": 0, "unchecked": 0, **dict(rows)}


# What was delivered --------------------------------------------------------------------------------

def sessions_to_deliver(db: sqlite_utils.Database, now: datetime, oldest_end: datetime) -> list[dict[str, Any]]:
    """Held-or-not is still to be recorded for these: ended, and not so long ago that the raw
    reports that tell are gone."""
    return [{**r, "starts_at": from_iso(r["starts_at"]), "ends_at": from_iso(r["ends_at"])} for r in db.query(
        "SELECT s.id, s.starts_at, s.ends_at FROM sky_sessions s WHERE s.state IN ('booked', 'finished') "
        "AND s.ends_at <= ? AND s.ends_at > ? AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.session_id = s.id) "
        "ORDER BY s.ends_at", [to_iso(now), to_iso(oldest_end)])]


# A report counts for the room its agent stood in when it reported: the room of the agent's latest
# stint begun by then, from the rollup per (room, day, agent) with the day's first report there
# (a terminal moved after a session credits its old room, not its new one). An agent without rollup
# rows near the session counts for its current room. Candidates are the room's agents now and the
# agents the rollup saw there on the session's days; "near" is a UTC date a day either side, which
# holds the county-local day of any zone. ?1 room, ?2 start, ?3 end, ?4 first day, ?5 last day.
ROOM_REPORTS = """
SELECT COUNT(*) FROM (SELECT id AS agent_id, room_code AS now_in FROM agents WHERE room_code = ?1
                      UNION SELECT d.agent_id, a.room_code FROM agent_days d JOIN agents a ON a.id = d.agent_id
                      WHERE d.room_code = ?1 AND d.day BETWEEN ?4 AND ?5) c
JOIN reports r ON r.agent_id = c.agent_id AND r.report_at >= ?2 AND r.report_at < ?3
WHERE coalesce((SELECT o.room_code FROM agent_days o WHERE o.agent_id = r.agent_id AND o.day >= ?4
                AND o.first_report_at <= r.report_at ORDER BY o.first_report_at DESC LIMIT 1), c.now_in) = ?1
"""


def room_reports(db: sqlite_utils.Database, session_id: int, start: datetime, end: datetime) -> list[dict[str, Any]]:
    """Each room of the session with the reports made there during ``[start, end)``."""
    rooms = session_rooms(db, session_id)
    days = [(start - timedelta(days=1)).date().isoformat(), (end + timedelta(days=1)).date().isoformat()]
    for room in rooms:
        room["reports"] = db.execute(ROOM_REPORTS, [room["room_code"], to_iso(start), to_iso(end), *days]).fetchone()[0]
    return rooms


def record_delivery(db: sqlite_utils.Database, session_id: int, delivered: Delivered,
                    rooms: Sequence[dict[str, Any]], now: datetime) -> bool:
    """Record what a session delivered, once; False when it was already recorded."""
    with dbmod.write(db):
        if not db.execute("INSERT INTO deliveries (session_id, held, hours, receivers, receivers_reached, recorded_at) "
                          "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                          [session_id, int(delivered.held), delivered.hours, delivered.receivers,
                           delivered.receivers_reached, to_iso(now)]).rowcount:
            return False
        db.conn.executemany("INSERT INTO delivery_rooms (session_id, room_code, school_code, role, reports) "
                            "VALUES (?, ?, ?, ?, ?)", [(session_id, r["room_code"], r["school_code"], r["role"],
                                                         r["reports"]) for r in rooms])
    return True


def delivery_of(db: sqlite_utils.Database, session_id: int) -> dict[str, Any] | None:
    found = list(db.query("SELECT held, hours, receivers, receivers_reached, recorded_at FROM deliveries "
                          "WHERE session_id = ?", [session_id]))
    if not found:
        return None
    found[0]["rooms"] = list(db.query("SELECT room_code, school_code, role, reports FROM delivery_rooms "
                                      "WHERE session_id = ? ORDER BY role DESC, school_code, room_code", [session_id]))
    return found[0]


def held_by_area_and_kind(db: sqlite_utils.Database) -> list[tuple[str, str, int, float]]:
    """(area of the source school, kind, sessions held, hours delivered) since the database began."""
    return db.execute("SELECT t.area_code, s.kind, COUNT(*), TOTAL(d.hours) FROM deliveries d "
                      "JOIN sky_sessions s ON s.id = d.session_id JOIN schools sc ON sc.code = s.source_school_code "
                      "JOIN townships t ON t.code = sc.township_code WHERE d.held = 1 "
                      "GROUP BY t.area_code, s.kind").fetchall()


def area_codes(db: sqlite_utils.Database) -> list[str]:
    return [r[0] for r in db.execute("SELECT code FROM areas ORDER BY sort")]


def sessions_by_kind_and_state(db: sqlite_utils.Database) -> list[tuple[str, str, int]]:
    return db.execute("SELECT kind, state, COUNT(*) FROM sky_sessions GROUP BY kind, state").fetchall()


# Training attendance -------------------------------------------------------------------------------

def set_attendance(db: sqlite_utils.Database, session_id: int, school_code: str, teachers: int,
                   accounts: Sequence[str], user_id: int | None, now: datetime) -> None:
    """Enter (or correct) how many teachers of a school took part in a teacher_training session.
    Given accounts, they must be active teachers of that school, and they are the count."""
    with dbmod.write(db):
        session = session_brief(db, session_id)
        if session["kind"] != "teacher_training":
            raise Invalid("Attendance is entered for teacher training sessions only.", code="not_training")
        if session["state"] not in HOLDING or from_iso(session["starts_at"]) > now:
            raise Invalid("Attendance can be entered once the session has begun.", code="not_begun")
        schools = {r["school_code"] for r in session_rooms(db, session_id)}
        if school_code not in schools:
            raise Invalid(f"School {school_code} neither hosts nor receives this session.", code="not_a_school_of_it")
        if accounts:
            known = {r[0].lower() for r in db.execute(
                f"SELECT u.username FROM users u JOIN user_schools us ON us.user_id = u.id WHERE us.school_code = ? "
                f"AND u.role = 'teacher' AND u.disabled_at IS NULL AND u.username IN ({','.join('?' * len(accounts))}) "
                f"COLLATE NOCASE", [school_code, *accounts])}
            unknown = [a for a in accounts if a.lower() not in known]
            if unknown:
                raise Invalid(f"Not a teacher account of school {school_code}: {', '.join(unknown)}.",
                              code="unknown_teacher", accounts=unknown)
            teachers = len(set(a.lower() for a in accounts))
        db.execute("INSERT INTO attendance (session_id, school_code, teachers, accounts, entered_by, entered_at) "
                   "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (session_id, school_code) DO UPDATE SET "
                   "teachers = excluded.teachers, accounts = excluded.accounts, entered_by = excluded.entered_by, "
                   "entered_at = excluded.entered_at",
                   [session_id, school_code, teachers, ",".join(accounts), user_id, to_iso(now)])


def attendance_of(db: sqlite_utils.Database, session_id: int) -> list[dict[str, Any]]:
    return list(db.query("SELECT a.school_code, s.name AS school_name, a.teachers, a.accounts, a.entered_at "
                         "FROM attendance a JOIN schools s ON s.code = a.school_code WHERE a.session_id = ? "
                         "ORDER BY a.school_code", [session_id]))
