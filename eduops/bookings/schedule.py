"""Bookings storage, the reading half: sessions as pages, feeds and the API show them.

Every list is bounded by time and read through an index range (a session starts at most 12
hours before it ends), so a week's schedule costs the same with 1,000 or 100,000 sessions
stored. Writes and checks are in store.py.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Iterable

import sqlite_utils
from flask_babel import gettext as _

from eduops.clock import to_iso
from eduops.errors import NotFound
from scheduler.bookings import HOLDING, LONGEST, SOURCE_ROOM_KINDS

HOLD = ", ".join(f"'{state}'" for state in HOLDING)
_CHUNK = 500  # ids per IN (...) list
_SESSION = ("id", "series_id", "occurrence_day", "kind", "title", "subject", "grade", "host_id", "host_username",
            "source_room_code", "source_room_name", "source_school_code", "source_school_name", "starts_at",
            "ends_at", "recorded", "notes", "state", "needs_approval", "reason", "stream_mbps", "version",
            "created_at", "updated_at")
_RECEIVER = ("room_code", "room_name", "school_code", "school_name", "class_code", "class_name", "live")


def iso(moment: datetime) -> str:
    return to_iso(moment)


def parse_time(text: str) -> datetime:
    """A stored time (always `…Z`) as an aware datetime; fromisoformat is many times faster than
    strptime, and a check reads hundreds of them."""
    return datetime.fromisoformat(text)


def rows_by_id(db: sqlite_utils.Database, ids: Iterable[int]) -> list[dict[str, Any]]:
    """Sessions as the API answers them (with names and receivers), by start then id."""
    ids = list(ids)
    found: list[dict[str, Any]] = []
    for i in range(0, len(ids), _CHUNK):
        chunk = ids[i:i + _CHUNK]
        marks = ", ".join("?" * len(chunk))
        sessions = {row[0]: dict(zip(_SESSION, row)) | {"receivers": []} for row in db.execute(
            "SELECT s.id, s.series_id, s.occurrence_day, s.kind, s.title, s.subject, s.grade, s.host_user_id, "
            "u.username, s.source_room_code, r.name, s.source_school_code, sc.name, s.starts_at, s.ends_at, "
            "s.recorded, s.notes, s.state, s.needs_approval, s.reason, s.stream_mbps, s.version, s.created_at, "
            "s.updated_at FROM sky_sessions s JOIN users u ON u.id = s.host_user_id "
            "JOIN rooms r ON r.code = s.source_room_code JOIN schools sc ON sc.code = s.source_school_code "
            f"WHERE s.id IN ({marks})", chunk)}
        for row in db.execute(
                "SELECT sr.session_id, sr.room_code, r.name, sr.school_code, sc.name, sr.class_code, c.name, sr.live "
                "FROM sky_session_receivers sr JOIN rooms r ON r.code = sr.room_code "
                "JOIN schools sc ON sc.code = sr.school_code LEFT JOIN classes c ON c.code = sr.class_code "
                f"WHERE sr.session_id IN ({marks}) ORDER BY sr.session_id, sr.school_code, sr.room_code", chunk):
            sessions[row[0]]["receivers"].append(dict(zip(_RECEIVER, row[1:])) | {"live": bool(row[7])})
        for s in sessions.values():
            s["recorded"], s["needs_approval"] = bool(s["recorded"]), bool(s["needs_approval"])
        found += sessions.values()
    return sorted(found, key=lambda s: (s["starts_at"], s["id"]))


def session(db: sqlite_utils.Database, session_id: int) -> dict[str, Any]:
    found = rows_by_id(db, [session_id])
    if not found:
        raise NotFound(_("No session %(id)s.", id=session_id), code="not_found")
    return found[0]


def sessions(db: sqlite_utils.Database, start: datetime, end: datetime, room: str | None = None,
             school: str | None = None, host_id: int | None = None, states: Iterable[str] | None = None,
             series_id: int | None = None, limit: int | None = None) -> list[dict[str, Any]]:
    """Sessions overlapping ``[start, end)``, where ``room`` is source or receiver, ``school`` has a
    source or receiving room, hosted by ``host_id``, in ``states``, of one series; by start."""
    # Each filter names its candidates through its own index; the narrowest drives the query.
    ranged = "starts_at > :lo AND starts_at < :hi"
    drivers = []
    if room is not None:
        drivers.append(f"SELECT id FROM sky_sessions WHERE source_room_code = :room AND {ranged} UNION ALL "
                       f"SELECT session_id FROM sky_session_receivers WHERE room_code = :room AND {ranged}")
    if school is not None:
        drivers.append(f"SELECT id FROM sky_sessions WHERE source_school_code = :school AND {ranged} UNION ALL "
                       f"SELECT session_id FROM sky_session_receivers WHERE school_code = :school AND {ranged}")
    if host_id is not None:
        drivers.append(f"SELECT id FROM sky_sessions WHERE host_user_id = :host AND {ranged}")
    if series_id is not None:
        drivers.append(f"SELECT id FROM sky_sessions WHERE series_id = :series AND {ranged}")
    where = [f"s.id IN ({d})" for d in drivers] or [f"s.{ranged.replace(' AND ', ' AND s.')}"]
    where.append("s.ends_at > :start")
    states = list(states or [])
    if states:
        where.append(f"s.state IN ({', '.join(f':state{i}' for i in range(len(states)))})")
    params = {"lo": iso(start - LONGEST), "hi": iso(end), "start": iso(start), "room": room, "school": school,
              "host": host_id, "series": series_id, **{f"state{i}": state for i, state in enumerate(states)}}
    sql = f"SELECT s.id FROM sky_sessions s WHERE {' AND '.join(where)} ORDER BY s.starts_at, s.id"
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    return rows_by_id(db, [row[0] for row in db.execute(sql, params)])


def room_schedule(db: sqlite_utils.Database, room_code: str, start: datetime, end: datetime) -> list[dict[str, Any]]:
    """The sessions in a room, as source or receiver, overlapping ``[start, end)``."""
    return sessions(db, start, end, room=room_code)


def school_schedule(db: sqlite_utils.Database, school_code: str, start: datetime,
                    end: datetime) -> list[dict[str, Any]]:
    """The sessions with a source or receiving room in a school, overlapping ``[start, end)``."""
    return sessions(db, start, end, school=school_code)


def pending_sessions(db: sqlite_utils.Database, now: datetime) -> list[dict[str, Any]]:
    """The approval queue: sessions waiting for the county admin that have not started, soonest first."""
    return rows_by_id(db, [row[0] for row in db.execute(
        "SELECT id FROM sky_sessions WHERE state = 'pending' AND starts_at > ? ORDER BY starts_at", [iso(now)])])


def room_info(db: sqlite_utils.Database, code: str) -> dict[str, Any]:
    row = db.execute("SELECT r.code, r.name, r.kind, r.school_code, s.name FROM rooms r "
                     "JOIN schools s ON s.code = r.school_code WHERE r.code = ?", [code]).fetchone()
    if row is None:
        raise NotFound(_("No room with code %(code)s; pick one from your school's rooms.", code=code),
                       code="unknown_room")
    return dict(zip(("code", "name", "kind", "school_code", "school_name"), row))


def school_info(db: sqlite_utils.Database, code: str) -> dict[str, Any]:
    row = db.execute("SELECT code, name, uplink_mbps FROM schools WHERE code = ?", [code]).fetchone()
    if row is None:
        raise NotFound(_("No school with code %(code)s.", code=code), code="unknown_school")
    return dict(zip(("code", "name", "uplink_mbps"), row))


def school_classes(db: sqlite_utils.Database, code: str) -> list[dict[str, Any]]:
    """One school's classes with their home rooms, as ``receiver_choices`` lists them (for the picker)."""
    school_info(db, code)
    cursor = db.execute("SELECT code, name, grade, room_code FROM classes WHERE school_code = ? "
                        "ORDER BY grade, code", [code])
    return [dict(zip(("code", "name", "grade", "room_code"), row)) for row in cursor]


def source_rooms(db: sqlite_utils.Database, school_codes: Iterable[str] | None) -> list[dict[str, Any]]:
    """Rooms a session may come from (broadcast and digital), of these schools (None: every school)."""
    codes = None if school_codes is None else sorted(school_codes)
    where = "" if codes is None else f" AND r.school_code IN ({', '.join('?' * len(codes))})"
    kinds = ", ".join(f"'{k}'" for k in SOURCE_ROOM_KINDS)
    cursor = db.execute("SELECT r.code, r.name, r.kind, r.school_code, s.name FROM rooms r "
                        f"JOIN schools s ON s.code = r.school_code WHERE r.kind IN ({kinds}){where} "
                        "ORDER BY r.school_code, r.kind, r.code", codes or [])
    return [dict(zip(("code", "name", "kind", "school_code", "school_name"), row)) for row in cursor]


def receiver_choices(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    """Areas → townships → schools (with uplink_mbps) → classes (with their home room), for the picker."""
    areas = {code: {"code": code, "name_zh": zh, "name_en": en, "townships": {}}
             for code, zh, en in db.execute("SELECT code, name_zh, name_en FROM areas ORDER BY sort")}
    townships, schools = {}, {}
    for code, name, area in db.execute("SELECT code, name, area_code FROM townships ORDER BY code"):
        townships[code] = areas[area]["townships"][code] = {"code": code, "name": name, "schools": {}}
    for code, name, township, uplink in db.execute(
            "SELECT code, name, township_code, uplink_mbps FROM schools ORDER BY code"):
        schools[code] = townships[township]["schools"][code] = {"code": code, "name": name,
                                                               "uplink_mbps": uplink, "classes": []}
    for code, name, grade, room, school in db.execute(
            "SELECT code, name, grade, room_code, school_code FROM classes ORDER BY school_code, grade, code"):
        schools[school]["classes"].append({"code": code, "name": name, "grade": grade, "room_code": room})
    for area in areas.values():
        area["townships"] = list(area["townships"].values())
        for township in area["townships"]:
            township["schools"] = list(township["schools"].values())
    return list(areas.values())
