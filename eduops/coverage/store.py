"""Storage of coverage: every SQL statement coverage runs lives here.

Each loader reads a whole scope in one set-based query, so a county of 4,000
classes and 20,000 agents costs a handful of statements, never one per class;
the inventory's part is read for the whole county and kept until it changes.
``scope`` is a set of school codes, or None for the whole county.
"""
from __future__ import annotations

import json
from typing import Any, Iterable, NamedTuple

import sqlite_utils

from eduops import county
from eduops import db as dbmod
from eduops.coverage.figures import COUNTS, Room, School, SchoolClass, Window

Scope = frozenset[str] | None


def _in_scope(column: str, scope: Scope) -> tuple[str, list[Any]]:
    """A WHERE condition limiting ``column`` to the scope (one JSON parameter, however many schools)."""
    if scope is None:
        return "1", []
    return f"{column} IN (SELECT value FROM json_each(?))", [json.dumps(sorted(scope))]


class Inventory(NamedTuple):
    """The whole county's inventory as coverage reads it, kept until it changes (county.per_inventory)."""
    areas: list[dict[str, str]]                # in area order
    townships: dict[str, dict[str, str]]       # in area order
    schools: dict[str, School]                 # in area, township and code order
    rooms: dict[str, Room]                     # nothing observed yet (see rooms)
    classes: list[SchoolClass]                 # in code order


@county.per_inventory
def inventory(db: sqlite_utils.Database) -> Inventory:
    areas = [dict(zip(("code", "name_zh", "name_en"), r))
             for r in db.execute("SELECT code, name_zh, name_en FROM areas ORDER BY sort")]
    townships = {code: {"code": code, "name": name, "area_code": area} for code, name, area in db.execute(
        "SELECT t.code, t.name, t.area_code FROM townships t JOIN areas a ON a.code = t.area_code "
        "ORDER BY a.sort, t.code")}
    schools = {r[0]: School(r[0], r[1], r[2], r[3], r[4], bool(r[5]), r[6], bool(r[7]), bool(r[8]), r[9])
               for r in db.execute(
                   "SELECT s.code, s.name, s.township_code, t.area_code, s.stage, s.small_scale, s.uplink_mbps, "
                   "s.wired_planned, s.wireless_planned, s.wifi_ssid FROM schools s "
                   "JOIN townships t ON t.code = s.township_code JOIN areas a ON a.code = t.area_code "
                   "ORDER BY a.sort, t.code, s.code")}
    rooms = {r[0]: Room(r[0], r[1], r[2], r[3], bool(r[4]), bool(r[5])) for r in db.execute(
        "SELECT r.code, r.school_code, r.name, (SELECT COUNT(*) FROM terminals t WHERE t.room_code = r.code), "
        "r.wired_planned, r.wireless_planned FROM rooms r")}
    classes = [SchoolClass(*r) for r in
               db.execute("SELECT code, school_code, grade, name, room_code FROM classes ORDER BY code")]
    return Inventory(areas, townships, schools, rooms, classes)


def school_of_class(db: sqlite_utils.Database, class_code: str) -> str | None:
    row = db.execute("SELECT school_code FROM classes WHERE code = ?", [class_code]).fetchone()
    return row[0] if row else None


def rooms(db: sqlite_utils.Database, listed: dict[str, Room], window: Window, wifi_min_dbm: int,
          scope: Scope) -> dict[str, Room]:
    """The ``listed`` rooms (the inventory's) of the scope with what agents showed in each, from the
    reports made there (see Room)."""
    where, params = _in_scope("r.school_code", scope)
    # The window's measures read room_days, the agents in service summed per room and day (at most
    # one short row per window day, found by its key), and the days of agents retired after
    # ``until`` (retired since a backdated snapshot's moment, so they still count for it; none for
    # figures of now), read once through their partial index. Each measure is an EXISTS that stops
    # at its first day, and CASE (lazy) asks only what is still open: a day seen wireless or wired
    # was also a day with a report (its first report came no later), so "working" is asked only of
    # rooms seen neither. The answer is bits: 1 working, 2 wired, 4 wireless. The "ever" questions
    # read room_firsts (every agent, any day: one row per room). Agents standing in a room now are
    # counted only where the inventory lists no terminal, the one place they are read
    # (agent_unlisted), with the agents_room index. The cost follows the rooms and the window, not
    # the age of the database.
    # ?1 and ?2: the window's days, ?3 its until, ?4 the threshold; the scope's ? comes last (?5).
    def seen(condition: str) -> str:
        return f"""(EXISTS (SELECT 1 FROM room_days d WHERE d.room_code = r.code AND d.day BETWEEN ?1 AND ?2
                            AND {condition})
                    OR EXISTS (SELECT 1 FROM later d WHERE d.room_code = r.code AND {condition}))"""
    working, wired = seen("d.first_report_at <= ?3"), seen("d.first_wired_at <= ?3")
    wireless = seen("d.first_school_wifi_at <= ?3 AND d.school_wifi_best_dbm >= ?4")
    sql = f"""WITH later AS MATERIALIZED (
                  SELECT d.* FROM agents a INDEXED BY agents_retired JOIN agent_days d ON d.agent_id = a.id
                  WHERE a.state = 'retired' AND a.retired_at > ?3 AND d.day BETWEEN ?1 AND ?2)
              SELECT r.code,
                     CASE WHEN {wireless} THEN 5 + 2 * {wired} WHEN {wired} THEN 3 ELSE {working} END,
                     f.room_code IS NOT NULL, f.first_school_wifi_at IS NOT NULL
              FROM rooms r LEFT JOIN room_firsts f ON f.room_code = r.code WHERE {where}"""
    found = {code: (bool(seen & 1), bool(seen & 2), bool(seen & 4), bool(ever), bool(ever_wifi))
             for code, seen, ever, ever_wifi
             in db.execute(sql, [window.first_day, window.last_day, window.until, wifi_min_dbm, *params])}
    bare = json.dumps([code for code, room in listed.items() if not room.terminals and code in found])
    unlisted = dict(db.execute("SELECT room_code, COUNT(*) FROM agents WHERE room_code IN (SELECT value FROM "
                               "json_each(?)) AND state != 'retired' AND last_report_at IS NOT NULL "
                               "GROUP BY room_code", [bare]))
    # The rooms are the listed ones: one added by an import since they were read waits for the next look.
    return {code: Room(*room[:6], *found[code], unlisted.get(code, 0))
            for code, room in listed.items() if code in found}


def retired_terminals(db: sqlite_utils.Database, scope: Scope) -> list[tuple[str, str, str | None]]:
    """(code, school, room) of inventory terminals whose agent was retired and that no agent in service claims."""
    where, params = _in_scope("t.school_code", scope)
    sql = f"""SELECT t.code, t.school_code, t.room_code FROM terminals t
              WHERE t.code IN (SELECT terminal_code FROM agents WHERE state = 'retired') AND {where}
              AND NOT EXISTS (SELECT 1 FROM agents a WHERE a.terminal_code = t.code AND a.state != 'retired')
              ORDER BY t.code"""
    return [tuple(r) for r in db.execute(sql, params)]


def room_terminals(db: sqlite_utils.Database, room_code: str) -> list[dict[str, Any]]:
    """The inventory's terminals in one room."""
    return list(db.query("SELECT code, kind, asset_tag FROM terminals WHERE room_code = ? ORDER BY code",
                         [room_code]))


def room_agents(db: sqlite_utils.Database, room_code: str, window: Window) -> list[dict[str, Any]]:
    """Agents in one room now or that reported from it in the window, each with its days there, newest first."""
    days_there = """FROM agent_days WHERE room_code = :room AND day BETWEEN :first AND :last
                    AND first_report_at <= :until"""
    named = {"room": room_code, "first": window.first_day, "last": window.last_day, "until": window.until}
    found = list(db.query("SELECT id, terminal_code, state, last_report_at FROM agents WHERE room_code = :room "
                          f"OR id IN (SELECT agent_id {days_there}) ORDER BY id", named))
    for agent in found:
        agent["days"] = list(db.query(
            "SELECT day, reports, wired_up_reports, wifi_ssid, wifi_best_dbm, school_wifi_reports, "
            f"school_wifi_best_dbm {days_there} AND agent_id = :agent ORDER BY day DESC", {**named, "agent": agent["id"]}))
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
