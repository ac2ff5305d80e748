"""Fleet storage for the scheduled jobs and the terminal listings.

This module is the ``store`` the fleet jobs in ``scheduler/fleet_jobs.py`` are given
(see ``scheduler.fleet_jobs.FleetStore``): every statement they need lives here.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Collection

import sqlite_utils

from eduops import db as dbmod
from eduops.clock import from_iso, to_iso
from scheduler.states import AgentClock


def agents_to_judge(db: sqlite_utils.Database) -> list[AgentClock]:
    """Every agent not retired, with when it was last heard of."""
    rows = db.execute("SELECT id, state, coalesce(last_report_at, enrolled_at), retire_proposed_at IS NOT NULL "
                      "FROM agents WHERE state != 'retired'").fetchall()
    return [AgentClock(r[0], r[1], from_iso(r[2]), bool(r[3])) for r in rows]


def record_verdicts(db: sqlite_utils.Database, changes: list[tuple[AgentClock, str]], proposals: list[str],
                    now: datetime) -> int:
    """Apply state changes and retirement proposals in one transaction; return the changes applied.

    A change applies only if the agent is as it was judged: a report that arrived
    meanwhile (new state or newer last report) wins over the sweep.
    """
    at = to_iso(now)
    applied = 0
    with dbmod.write(db):
        for agent, new in changes:
            seen = to_iso(agent.last_seen)
            if db.execute("UPDATE agents SET state = ?, state_since = ? WHERE id = ? AND state = ? "
                          "AND coalesce(last_report_at, enrolled_at) = ?",
                          [new, at, agent.id, agent.state, seen]).rowcount:
                db.execute("INSERT INTO agent_states (agent_id, from_state, to_state, at, reason) "
                           "VALUES (?, ?, ?, ?, ?)", [agent.id, agent.state, new, at, f"silent since {seen}"])
                applied += 1
        db.conn.executemany("UPDATE agents SET retire_proposed_at = ? WHERE id = ? AND retire_proposed_at IS NULL",
                            [(at, agent_id) for agent_id in proposals])
    return applied


def delete_reports_received_before(db: sqlite_utils.Database, cutoff: datetime, limit: int) -> int:
    with dbmod.write(db):
        return db.execute("DELETE FROM reports WHERE id IN (SELECT id FROM reports WHERE received_at < ? "
                          "ORDER BY received_at LIMIT ?)", [to_iso(cutoff), limit]).rowcount


def delete_history_before(db: sqlite_utils.Database, cutoff: datetime) -> int:
    """State changes and finished commands older than the cutoff."""
    with dbmod.write(db):
        states = db.execute("DELETE FROM agent_states WHERE at < ?", [to_iso(cutoff)]).rowcount
        done = db.execute("DELETE FROM commands WHERE created_at < ? AND status != 'pending'",
                          [to_iso(cutoff)]).rowcount
    return states + done


def expire_commands(db: sqlite_utils.Database, now: datetime) -> int:
    with dbmod.write(db):
        return db.execute("UPDATE commands SET status = 'expired' WHERE status = 'pending' AND expires_at <= ?",
                          [to_iso(now)]).rowcount


AGENT_COLUMNS = ("a.id, a.school_code, a.room_code, a.terminal_code, a.state, a.state_since, a.last_report_at, "
                 "a.hostname, a.agent_version, a.clock_skew_s, a.retire_proposed_at, a.retired_at, "
                 "(SELECT COUNT(*) FROM hardware_flags f WHERE f.agent_id = a.id OR f.other_id = a.id) AS flags")


def list_agents(db: sqlite_utils.Database, school_code: str | None = None, state: str | None = None,
                proposed_only: bool = False, schools: Collection[str] | None = None,
                limit: int | None = None, offset: int = 0) -> list[dict[str, Any]]:
    """Agents ordered by school, room and id, optionally of one school, in one state, proposed for
    retirement, or within ``schools`` (None: every school); ``limit`` and ``offset`` page through them."""
    conditions, params = [], []
    if school_code:
        conditions.append("a.school_code = ?")
        params.append(school_code)
    if schools is not None:
        conditions.append(f"a.school_code IN ({', '.join('?' * len(schools))})")
        params.extend(sorted(schools))
    if state:
        conditions.append("a.state = ?")
        params.append(state)
    if proposed_only:
        conditions.append("a.retire_proposed_at IS NOT NULL")
    where = "WHERE " + " AND ".join(conditions) if conditions else ""
    page = "LIMIT ? OFFSET ?" if limit is not None else ""
    return list(db.query(f"SELECT {AGENT_COLUMNS} FROM agents a {where} "
                         f"ORDER BY a.school_code, a.room_code, a.id {page}",
                         params + ([limit, offset] if limit is not None else [])))


def latest_days(db: sqlite_utils.Database, agent_ids: Collection[str]) -> dict[str, dict[str, Any]]:
    """Each agent's newest day in ``agent_days``: reports, wired-up reports, the Wi-Fi it saw
    (of a day it spent in two rooms, the room it reported from last)."""
    if not agent_ids:
        return {}
    rows = db.query(
        "SELECT d.agent_id, d.day, d.reports, d.wired_up_reports, d.wifi_ssid, d.wifi_best_dbm FROM agent_days d "
        f"WHERE d.agent_id IN ({', '.join('?' * len(agent_ids))}) AND d.day = (SELECT MAX(day) FROM agent_days "
        "WHERE agent_id = d.agent_id) ORDER BY d.first_report_at", list(agent_ids))
    return {row["agent_id"]: row for row in rows}


def state_counts(db: sqlite_utils.Database, schools: Collection[str] | None) -> dict[str, int]:
    """How many agents are in each state, within ``schools`` (None: every school)."""
    where = f"WHERE school_code IN ({', '.join('?' * len(schools))})" if schools is not None else ""
    return dict(db.execute(f"SELECT state, COUNT(*) FROM agents {where} GROUP BY state",
                           sorted(schools or [])).fetchall())


def school_names(db: sqlite_utils.Database, schools: Collection[str] | None) -> dict[str, str]:
    """{code: name} of ``schools`` (None: every school), in code order."""
    where = f"WHERE code IN ({', '.join('?' * len(schools))})" if schools is not None else ""
    return dict(db.execute(f"SELECT code, name FROM schools {where} ORDER BY code", sorted(schools or [])).fetchall())


def agent_detail(db: sqlite_utils.Database, agent_id: str) -> dict[str, Any] | None:
    """One agent with its state history (newest first) and the hardware it shares with others."""
    found = list(db.query(f"SELECT {AGENT_COLUMNS}, a.instance_id, a.clock_skew_at, a.last_contact_at "
                          "FROM agents a WHERE a.id = ?", [agent_id]))
    if not found:
        return None
    agent = found[0]
    agent["history"] = list(db.query("SELECT from_state, to_state, at, reason FROM agent_states "
                                     "WHERE agent_id = ? ORDER BY at DESC, id DESC LIMIT 50", [agent_id]))
    agent["shared_hardware"] = list(db.query(
        "SELECT CASE WHEN agent_id = ?1 THEN other_id ELSE agent_id END AS other, fact, value, flagged_at "
        "FROM hardware_flags WHERE agent_id = ?1 OR other_id = ?1 ORDER BY flagged_at", [agent_id]))
    return agent


# What /metrics reads about the fleet: counts with bounded labels, from the tables themselves.

# Per area, agents are counted per school first and only those few hundred rows meet their areas:
# joining 20,000 agents to schools and townships one by one costs several times more.
_TO_AREAS = "JOIN schools s ON s.code = p.school_code JOIN townships t ON t.code = s.township_code"


def agents_by_school_and_state(db: sqlite_utils.Database) -> list[tuple[str, str, str, int]]:
    """(area, school, state, agents) for every school and state with agents (an area's are their sums)."""
    return db.execute("SELECT t.area_code, p.school_code, p.state, p.n FROM (SELECT school_code, state, "
                      f"COUNT(*) AS n FROM agents GROUP BY school_code, state) p {_TO_AREAS}").fetchall()


def ingest_counts(db: sqlite_utils.Database) -> dict[str, int]:
    """Reports accepted, duplicate and rejected (``rejected:<error code>``) since the database began."""
    return dict(db.execute("SELECT outcome, count FROM ingest_counts").fetchall())


def clock_skew_by_area(db: sqlite_utils.Database, warn_s: float) -> list[tuple[str, int, float]]:
    """Per area: agents in service whose clock is off by more than ``warn_s``, and the largest skew."""
    return db.execute(
        "SELECT t.area_code, SUM(p.skewed), MAX(p.largest) FROM (SELECT school_code, "
        "SUM(ABS(clock_skew_s) > ?) AS skewed, MAX(ABS(clock_skew_s)) AS largest FROM agents "
        f"WHERE state != 'retired' AND clock_skew_s IS NOT NULL GROUP BY school_code) p {_TO_AREAS} "
        "GROUP BY t.area_code", [warn_s]).fetchall()


def broadcast_rooms_by_area(db: sqlite_utils.Database) -> list[tuple[str, int, int]]:
    """Per area: broadcast rooms, and those with an agent online now (ready for a sky classroom)."""
    return db.execute(
        "SELECT t.area_code, COUNT(*), SUM(EXISTS (SELECT 1 FROM agents a WHERE a.room_code = r.code "
        "AND a.state = 'online')) FROM rooms r JOIN schools s ON s.code = r.school_code "
        "JOIN townships t ON t.code = s.township_code WHERE r.kind = 'broadcast' GROUP BY t.area_code").fetchall()


def hardware_flag_count(db: sqlite_utils.Database) -> int:
    return db.execute("SELECT COUNT(*) FROM hardware_flags").fetchone()[0]


def agent_last_reports(db: sqlite_utils.Database) -> list[tuple[str, str, str, str | None]]:
    """(agent id, school, room, last report time) of every agent in service."""
    return db.execute("SELECT id, school_code, room_code, last_report_at FROM agents "
                      "WHERE state != 'retired' ORDER BY id").fetchall()


def school_rooms(db: sqlite_utils.Database, school_code: str) -> list[dict[str, Any]]:
    """The rooms of a school in code order, each with its agents not retired and how many are online."""
    rows = db.execute(
        "SELECT r.code, r.name, r.kind, count(a.id), count(CASE WHEN a.state = 'online' THEN 1 END) "
        "FROM rooms r LEFT JOIN agents a ON a.room_code = r.code AND a.state != 'retired' "
        "WHERE r.school_code = ? GROUP BY r.code ORDER BY r.code", [school_code]).fetchall()
    return [{"code": r[0], "name": r[1], "kind": r[2], "agents": r[3], "online": r[4]} for r in rows]
