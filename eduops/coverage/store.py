"""Storage of coverage: every SQL statement coverage runs lives here.

Each loader reads a whole scope in one set-based query, so a county of 4,000
classes and 20,000 agents costs a handful of statements, never one per class.
``scope`` is a set of school codes, or None for the whole county.
"""
from __future__ import annotations

import json
from typing import Any, Iterable

import sqlite_utils

from eduops import db as dbmod
from eduops.coverage.figures import COUNTS, Room, School, SchoolClass, Sighting, Window

Scope = frozenset[str] | None


def _in_scope(column: str, scope: Scope) -> tuple[str, list[Any]]:
    """A WHERE condition limiting ``column`` to the scope (one JSON parameter, however many schools)."""
    if scope is None:
        return "1", []
    return f"{column} IN (SELECT value FROM json_each(?))", [json.dumps(sorted(scope))]


def areas(db: sqlite_utils.Database) -> list[dict[str, str]]:
    return [dict(zip(("code", "name_zh", "name_en"), r))
            for r in db.execute("SELECT code, name_zh, name_en FROM areas ORDER BY sort")]


def townships(db: sqlite_utils.Database, scope: Scope) -> dict[str, dict[str, str]]:
    """Townships in area order; with a scope, only those holding a school in it."""
    where, params = _in_scope("code", scope)
    sql = f"""SELECT t.code, t.name, t.area_code FROM townships t JOIN areas a ON a.code = t.area_code
              WHERE {where if scope is None else f't.code IN (SELECT township_code FROM schools WHERE {where})'}
              ORDER BY a.sort, t.code"""
    return {code: {"code": code, "name": name, "area_code": area}
            for code, name, area in db.execute(sql, params)}


def schools(db: sqlite_utils.Database, scope: Scope) -> dict[str, School]:
    where, params = _in_scope("s.code", scope)
    sql = f"""SELECT s.code, s.name, s.township_code, t.area_code, s.stage, s.small_scale, s.uplink_mbps,
                     s.wired_planned, s.wireless_planned, s.wifi_ssid
              FROM schools s JOIN townships t ON t.code = s.township_code JOIN areas a ON a.code = t.area_code
              WHERE {where} ORDER BY a.sort, t.code, s.code"""
    return {r[0]: School(r[0], r[1], r[2], r[3], r[4], bool(r[5]), r[6], bool(r[7]), bool(r[8]), r[9])
            for r in db.execute(sql, params)}


def rooms(db: sqlite_utils.Database, scope: Scope) -> dict[str, Room]:
    where, params = _in_scope("r.school_code", scope)
    sql = f"""SELECT r.code, r.school_code, r.name,
                     (SELECT COUNT(*) FROM terminals t WHERE t.room_code = r.code), r.wired_planned, r.wireless_planned
              FROM rooms r WHERE {where}"""
    return {r[0]: Room(r[0], r[1], r[2], r[3], bool(r[4]), bool(r[5])) for r in db.execute(sql, params)}


def classes(db: sqlite_utils.Database, scope: Scope) -> list[SchoolClass]:
    where, params = _in_scope("school_code", scope)
    sql = f"SELECT code, school_code, grade, name, room_code FROM classes WHERE {where} ORDER BY code"
    return [SchoolClass(*r) for r in db.execute(sql, params)]


def school_of_class(db: sqlite_utils.Database, class_code: str) -> str | None:
    row = db.execute("SELECT school_code FROM classes WHERE code = ?", [class_code]).fetchone()
    return row[0] if row else None


def sightings(db: sqlite_utils.Database, window: Window, wifi_min_dbm: int, scope: Scope) -> list[Sighting]:
    """Every agent with what it showed on the window's days (its newest report is judged by the caller)."""
    where, params = _in_scope("a.school_code", scope)
    # Each agent probes agent_days through its (agent_id, day) key and stops at the first
    # matching day: the rows read follow the agents and the window, never the age of the database
    # (a longer history only spreads the probed pages further apart, which costs some locality).
    sql = f"""SELECT a.id, a.school_code, a.room_code, a.state = 'retired', a.last_report_at,
                     EXISTS (SELECT 1 FROM agent_days d WHERE d.agent_id = a.id AND d.day BETWEEN ?2 AND ?3
                             AND d.wired_up_reports > 0),
                     s.wifi_ssid != '' AND EXISTS (
                         SELECT 1 FROM agent_days d WHERE d.agent_id = a.id AND d.day BETWEEN ?2 AND ?3
                         AND d.wifi_ssid = s.wifi_ssid AND d.wifi_best_dbm >= ?1)
              FROM agents a JOIN schools s ON s.code = a.school_code WHERE {where}"""
    return [Sighting._make(row) for row in
            db.execute(sql, [wifi_min_dbm, window.first_day, window.last_day, *params])]


def schools_ssid_ever_seen(db: sqlite_utils.Database, scope: Scope) -> set[str]:
    """Schools whose own Wi-Fi some agent of theirs has seen on any day, at any strength."""
    where, params = _in_scope("s.code", scope)
    # One probe of agent_days_ssid per agent (the nesting keeps SQLite from walking every day
    # that carries the SSID, which many schools may share): the cost follows the agents, not the history.
    sql = f"""SELECT s.code FROM schools s WHERE s.wifi_ssid != '' AND {where} AND EXISTS (
                SELECT 1 FROM agents a WHERE a.school_code = s.code AND EXISTS (
                    SELECT 1 FROM agent_days d WHERE d.wifi_ssid = s.wifi_ssid AND d.agent_id = a.id))"""
    return {r[0] for r in db.execute(sql, params)}


def room_terminals(db: sqlite_utils.Database, room_code: str) -> list[dict[str, Any]]:
    """The inventory's terminals in one room."""
    return list(db.query("SELECT code, kind, asset_tag FROM terminals WHERE room_code = ? ORDER BY code",
                         [room_code]))


def room_agents(db: sqlite_utils.Database, room_code: str, window: Window) -> list[dict[str, Any]]:
    """Agents enrolled in one room, each with its days within the window, newest first."""
    found = list(db.query("SELECT id, terminal_code, state, last_report_at FROM agents "
                          "WHERE room_code = ? ORDER BY id", [room_code]))
    for agent in found:
        agent["days"] = list(db.query(
            "SELECT day, reports, wired_up_reports, wifi_ssid, wifi_best_dbm FROM agent_days "
            "WHERE agent_id = ? AND day BETWEEN ? AND ? ORDER BY day DESC",
            [agent["id"], window.first_day, window.last_day]))
    return found


def store_snapshot(db: sqlite_utils.Database, day: str, taken_at: str,
                   totals: dict[tuple[str, str], dict[str, int]]) -> None:
    """Write one day's counts of every node, replacing whatever an earlier run wrote that day."""
    columns = ("level", "code", "day", "taken_at") + COUNTS
    sql = f"INSERT INTO coverage_snapshots ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})"
    with dbmod.write(db):
        db.execute("DELETE FROM coverage_snapshots WHERE day = ?", [day])
        db.conn.executemany(sql, [(level, code, day, taken_at, *(counts[c] for c in COUNTS))
                                  for (level, code), counts in totals.items()])


def snapshot_series(db: sqlite_utils.Database, level: str, codes: Iterable[str],
                    first_day: str) -> list[dict[str, Any]]:
    """Snapshot rows of the given nodes from ``first_day`` on, oldest first."""
    sql = f"""SELECT code, day, {', '.join(COUNTS)} FROM coverage_snapshots
              WHERE level = ? AND code IN (SELECT value FROM json_each(?)) AND day >= ?
              ORDER BY day, code"""
    return list(db.query(sql, [level, json.dumps(sorted(codes)), first_day]))
