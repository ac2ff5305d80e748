"""The fleet's `agents` and `agent_days` tables as contracts.md fixes them.

Coverage reads these tables; until the fleet migration (0002) is merged, coverage
tests create them on a migrated database with this helper. Once 0002 is in,
``CREATE TABLE IF NOT EXISTS`` leaves the real tables alone.
"""
from __future__ import annotations

import sqlite_utils

from eduops import db as dbmod

FLEET_TABLES = """
CREATE TABLE IF NOT EXISTS agents (
    id TEXT PRIMARY KEY,
    instance_id TEXT UNIQUE NOT NULL,
    school_code TEXT NOT NULL REFERENCES schools(code),
    room_code TEXT NOT NULL REFERENCES rooms(code),
    terminal_code TEXT REFERENCES terminals(code),
    state TEXT NOT NULL,
    last_report_at TEXT,
    retired_at TEXT
);
CREATE TABLE IF NOT EXISTS agent_days (
    agent_id TEXT NOT NULL REFERENCES agents(id),
    day TEXT NOT NULL,
    reports INTEGER NOT NULL,
    wired_up_reports INTEGER NOT NULL,
    wifi_ssid TEXT,
    wifi_best_dbm INTEGER,
    PRIMARY KEY (agent_id, day)
);
"""


def add_fleet_tables(db: sqlite_utils.Database) -> None:
    with dbmod.write(db):
        for statement in FLEET_TABLES.split(";"):
            if statement.strip():
                db.execute(statement)


def add_agent(db: sqlite_utils.Database, agent_id: str, school: str, room: str, *, terminal: str | None = None,
              state: str = "online", last_report_at: str | None = None,
              days: list[tuple[str, int, str | None, int | None]] = ()) -> None:
    """One agent with its days: (day, wired_up_reports, wifi_ssid, wifi_best_dbm)."""
    with dbmod.write(db):
        db.execute("INSERT INTO agents (id, instance_id, school_code, room_code, terminal_code, state, "
                   "last_report_at, retired_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                   [agent_id, "inst-" + agent_id, school, room, terminal, state, last_report_at,
                    last_report_at if state == "retired" else None])
        for day, wired_up, ssid, dbm in days:
            db.execute("INSERT INTO agent_days (agent_id, day, reports, wired_up_reports, wifi_ssid, "
                       "wifi_best_dbm) VALUES (?, ?, ?, ?, ?, ?)", [agent_id, day, 10, wired_up, ssid, dbm])
