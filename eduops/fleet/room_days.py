"""Coverage's rollups per room (tables room_days and room_firsts, migration 0010), beside agent_days.

A room's day sums the days there of the agents in service: when one first reported, first had
a wired link up, first saw one of the school's own SSIDs, and the best such signal. A room's
firsts cover every agent, retired or not, on any day: its first report and first school Wi-Fi.
Triggers on agent_days (migration 0010) merge each agent day into both as it is written, in the
ingest writer's statement; whenever an agent leaves or rejoins service (retired, or enrolled
again), ``refresh`` works its rooms' days out afresh from agent_days, the record.
"""
from __future__ import annotations

import sqlite_utils

_SUMMED = """SELECT d.room_code, d.day, min(d.first_report_at), min(d.first_wired_at), min(d.first_school_wifi_at),
                    max(d.school_wifi_best_dbm)
             FROM agent_days d WHERE {days} AND d.agent_id NOT IN (SELECT id FROM agents WHERE state = 'retired')
             GROUP BY d.room_code, d.day"""
_FIRSTS = """SELECT d.room_code, min(d.first_report_at), min(d.first_school_wifi_at) FROM agent_days d
             WHERE {rooms} GROUP BY d.room_code"""


def refresh(db: sqlite_utils.Database, agent_id: str | None) -> None:
    """Work out afresh, inside the caller's transaction, the rollups of the rooms and days one agent
    has days in (None: of every room). Call it after the agent's state changes to or from retired."""
    if agent_id is None:
        db.execute("DELETE FROM room_days")
        db.execute("INSERT INTO room_days " + _SUMMED.format(days="1"))
        db.execute("DELETE FROM room_firsts")
        db.execute("INSERT INTO room_firsts " + _FIRSTS.format(rooms="1"))
        return
    # The agent's (room, day) pairs and rooms, each found by agent_days' keys: a few hundred at most.
    days = "(room_code, day) IN (SELECT room_code, day FROM agent_days WHERE agent_id = ?1)"
    rooms = "room_code IN (SELECT room_code FROM agent_days WHERE agent_id = ?1)"
    db.execute(f"DELETE FROM room_days WHERE {days}", [agent_id])
    db.execute("INSERT INTO room_days " + _SUMMED.format(days=days.replace("(room_code, day)", "(d.room_code, d.day)")),
               [agent_id])
    db.execute(f"DELETE FROM room_firsts WHERE {rooms}", [agent_id])
    db.execute("INSERT INTO room_firsts " + _FIRSTS.format(rooms="d." + rooms), [agent_id])
