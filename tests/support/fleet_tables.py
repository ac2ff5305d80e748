"""Agents written straight into the fleet's `agents` and `agent_days` tables, for coverage tests
that need an exact fleet without enrolling agents over HTTP."""
from __future__ import annotations

import sqlite_utils

from eduops import db as dbmod

ENROLLED_AT = "2026-01-01T00:00:00.000000Z"


def add_agent(db: sqlite_utils.Database, agent_id: str, school: str, room: str, *, terminal: str | None = None,
              state: str = "online", last_report_at: str | None = None,
              days: list[tuple[str, int, str | None, int | None]] = ()) -> None:
    """One agent with its days: (day, wired_up_reports, wifi_ssid, wifi_best_dbm)."""
    with dbmod.write(db):
        db.execute("INSERT INTO agents (id, instance_id, school_code, room_code, terminal_code, state, "
                   "last_report_at, retired_at, enrolled_at, state_since, hostname) "
                   "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                   [agent_id, "inst-" + agent_id, school, room, terminal, state, last_report_at,
                    last_report_at if state == "retired" else None, ENROLLED_AT, ENROLLED_AT, agent_id])
        for day, wired_up, ssid, dbm in days:
            db.execute("INSERT INTO agent_days (agent_id, day, reports, wired_up_reports, wifi_ssid, "
                       "wifi_best_dbm) VALUES (?, ?, ?, ?, ?, ?)", [agent_id, day, 10, wired_up, ssid, dbm])
