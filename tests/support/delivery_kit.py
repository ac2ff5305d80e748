"""What the delivery tests share: a small county with a broadcast room, urban and rural schools, and
sessions, agents and reports written straight into their tables (the booking rules are tested in
the booking tests; here the sessions are given)."""
from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Sequence

import sqlite_utils

from eduops import db as dbmod
from eduops.clock import to_iso
from tests.support import fleet_kit
from tests.support.fleet_kit import report_body
from tests.support.fleet_tables import add_agent

# S1 (urban, 古城街道) broadcasts from S1-B; S2 and S3 are rural schools of 者海镇 in another area;
# S3 has no uplink on record (it gets recordings only).
COUNTY = {
    "townships": [{"code": "T01", "name": "古城街道", "area_code": "main_urban"},
                  {"code": "T02", "name": "者海镇", "area_code": "zhehai"}],
    "schools": [
        {"code": code, "name": name, "township_code": township, "stage": "primary", "pupils": 300, "small_scale": 0,
         "uplink_mbps": uplink, "wired_planned": 1, "wireless_planned": 1, "wifi_ssid": f"HZJY-{code}"}
        for code, name, township, uplink in (("S1", "古城第一小学", "T01", 100), ("S2", "者海镇中心小学", "T02", 50),
                                             ("S3", "者海镇一村小学", "T02", 0))],
    "rooms": [{"code": code, "school_code": school, "name": name, "kind": kind, "seats": 50,
               "wired_planned": 1, "wireless_planned": 1}
              for code, school, name, kind in (("S1-B", "S1", "希沃录播教室", "broadcast"),
                                               ("S1-R1", "S1", "一(1)班教室", "ordinary"),
                                               ("S2-R1", "S2", "三(1)班教室", "ordinary"),
                                               ("S2-R2", "S2", "三(2)班教室", "ordinary"),
                                               ("S3-R1", "S3", "复式班教室", "ordinary"))],
    "classes": [],
    "terminals": [{"code": f"{room}-T", "school_code": room.split("-")[0], "room_code": room, "kind": "all_in_one",
                   "asset_tag": ""} for room in ("S1-B", "S1-R1", "S2-R1", "S2-R2", "S3-R1")],
}


def build_county(db_path: Path) -> None:
    fleet_kit.build_county(db_path, COUNTY)


def county_db(db_path: Path):
    """For a fixture: the county in a migrated database, open while the test runs."""
    build_county(db_path)
    database = dbmod.connect(db_path)
    yield database
    database.conn.close()


def add_user(db: sqlite_utils.Database, username: str, role: str, schools: Sequence[str] = ()) -> int:
    """An account that cannot sign in (its hash is no password's): a host or a notified person."""
    with dbmod.write(db):
        user_id = db.execute("INSERT INTO users (username, role, password_hash, created_at, password_changed_at) "
                             "VALUES (?, ?, 'none', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')",
                             [username, role]).lastrowid
        for school in schools:
            db.execute("INSERT INTO user_schools (user_id, school_code) VALUES (?, ?)", [user_id, school])
    return user_id


def add_session(db: sqlite_utils.Database, host_id: int, start: datetime, minutes: int, *,
                receivers: Sequence[str] = ("S2-R1",), kind: str = "open_lesson", title: str = "三年级数学公开课",
                source: str = "S1-B", state: str = "booked", recorded: bool = True, seconds: int = 0) -> int:
    """A session as the booking area stores it; a receiver of a school without uplink is not live.
    ``seconds``, when given, is its length instead of ``minutes`` (for tests of timing)."""
    end = start + (timedelta(seconds=seconds) if seconds else timedelta(minutes=minutes))
    with dbmod.write(db):
        school = db.execute("SELECT school_code FROM rooms WHERE code = ?", [source]).fetchone()[0]
        session_id = db.execute(
            "INSERT INTO sky_sessions (occurrence_day, kind, title, host_user_id, source_room_code, source_school_code, "
            "starts_at, ends_at, recorded, state, needs_approval, stream_mbps, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?)",
            [start.date().isoformat(), kind, title, host_id, source, school, to_iso(start), to_iso(end),
             int(recorded), state, 0 if kind == "recording" else 4, to_iso(start), to_iso(start)]).lastrowid
        for room in receivers:
            school_code, uplink = db.execute("SELECT r.school_code, s.uplink_mbps FROM rooms r JOIN schools s "
                                             "ON s.code = r.school_code WHERE r.code = ?", [room]).fetchone()
            db.execute("INSERT INTO sky_session_receivers (session_id, room_code, school_code, live, starts_at) "
                       "VALUES (?, ?, ?, ?, ?)", [session_id, room, school_code, int(uplink > 0), to_iso(start)])
    return session_id


def add_room_agent(db: sqlite_utils.Database, room: str, state: str = "online") -> str:
    agent_id = f"ag_{room}_{uuid.uuid4().hex[:6]}"
    add_agent(db, agent_id, room.split("-")[0], room, state=state)
    return agent_id


def add_report(db: sqlite_utils.Database, agent_id: str, at: datetime, **body_changes) -> None:
    """One stored report of ``agent_id`` made at ``at`` (body as tests/fleet_kit.py makes it)."""
    body = report_body(**{k: v for k, v in body_changes.items() if k in ("wired_up", "ssid", "dbm")})
    if "screen_on" in body_changes:
        body["displays"][0]["screen_on"] = body_changes["screen_on"]
    with dbmod.write(db):
        db.execute("INSERT INTO reports (uuid, agent_id, seq, agent_time, report_at, received_at, body) "
                   "VALUES (?, ?, 1, ?, ?, ?, ?)", [str(uuid.uuid4()), agent_id, to_iso(at), to_iso(at), to_iso(at),
                                                    json.dumps(body)])
        db.execute("UPDATE agents SET last_report_at = max(coalesce(last_report_at, ''), ?) WHERE id = ?",
                   [to_iso(at), agent_id])


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)
