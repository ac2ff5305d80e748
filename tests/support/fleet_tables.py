"""Agents written straight into the fleet's `agents` and `agent_days` tables (whose triggers keep the
room rollups), for coverage tests that need an exact fleet without enrolling agents over HTTP."""
from __future__ import annotations

from datetime import date, datetime, time, timezone
from zoneinfo import ZoneInfo

import sqlite_utils

from eduops import county
from eduops import db as dbmod
from eduops.clock import to_iso

ENROLLED_AT = "2026-01-01T00:00:00.000000Z"


def day_start(day: str, tz: str = "Asia/Shanghai") -> str:
    """The first moment of a county-local day, as stored (UTC ISO)."""
    return to_iso(datetime.combine(date.fromisoformat(day), time(), ZoneInfo(tz)).astimezone(timezone.utc))


def add_agent(db: sqlite_utils.Database, agent_id: str, school: str, room: str, *, terminal: str | None = None,
              state: str = "online", last_report_at: str | None = None,
              days: list[tuple] = ()) -> None:
    """One agent with its days: (day, wired_up_reports, wifi_ssid, wifi_best_dbm[, room]), each day's
    first report at the start of the day, in the agent's room unless the day names another, the
    school's own SSIDs told apart as ingest does."""
    [(stored,)] = db.execute("SELECT wifi_ssid FROM schools WHERE code = ?", [school]).fetchall()
    with dbmod.write(db):
        db.execute("INSERT INTO agents (id, instance_id, school_code, room_code, terminal_code, state, "
                   "last_report_at, retired_at, enrolled_at, state_since, hostname) "
                   "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                   [agent_id, "inst-" + agent_id, school, room, terminal, state, last_report_at,
                    last_report_at if state == "retired" else None, ENROLLED_AT, ENROLLED_AT, agent_id])
        for day, wired_up, ssid, dbm, *where in days:
            first, own = day_start(day), ssid in county.school_ssids(stored)
            db.execute("INSERT INTO agent_days (agent_id, day, room_code, reports, first_report_at, wired_up_reports, "
                       "first_wired_at, wifi_ssid, wifi_best_dbm, school_wifi_reports, school_wifi_best_dbm, "
                       "first_school_wifi_at) VALUES (?, ?, ?, 10, ?, ?, ?, ?, ?, ?, ?, ?)",
                       [agent_id, day, where[0] if where else room, first, wired_up, first if wired_up else None,
                        ssid, dbm, 10 if own else 0, dbm if own else None, first if own else None])
