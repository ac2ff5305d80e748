"""A small county for booking tests: a lead school broadcasting to village schools, one without uplink.

| school | area | uplink | rooms (kind) | classes (home room) |
|---|---|---|---|---|
| A 实验小学 | main_urban | 100 Mbps (60 live: 15 streams) | A-BC broadcast, A-DG digital, A-R1, A-R2 | A-C1 (A-R1) |
| B 者海村小 | zhehai | 20 Mbps (12 live: 3 streams) | B-BC broadcast, B-R1..B-R4 | B-C1 (B-R1), B-C2 (B-R2), B-C9 (no room) |
| C 娜姑村小 | nagu | none on record | C-R1 | C-C1 (C-R1) |
| D 者海中学 | zhehai | 100 Mbps | D-BC broadcast, D-R1 | D-C1 (D-R1) |

Rules: Asia/Shanghai, booking hours 07:30-18:00, 10 minutes' buffer, a term from 2026-09-01 to
2027-01-22 with 2027-01-01 a holiday. ``NOW`` is Tuesday 2026-12-01 08:00 local; ``MONDAY`` is
2026-12-07.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

from eduops import county
from eduops import config as configmod
from eduops import db as dbmod
from eduops.accounts import store as accounts
from eduops.audit import COMMAND_LINE
from eduops.bookings import rules_of

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 12, 1, 8, 0, tzinfo=TZ).astimezone(timezone.utc)
MONDAY = date(2026, 12, 7)
SETTINGS = {"terms": "2026-09-01..2027-01-22", "holidays": "2027-01-01"}

SCHOOLS = {"A": ("实验小学", "T1", 100.0), "B": ("者海村小", "T2", 20.0), "C": ("娜姑村小", "T3", 0.0),
           "D": ("者海中学", "T2", 100.0)}
ROOMS = [("A-BC", "A", "希沃录播教室", "broadcast"), ("A-DG", "A", "数字教室", "digital"),
         ("A-R1", "A", "一(1)班教室", "ordinary"), ("A-R2", "A", "一(2)班教室", "ordinary"),
         ("B-BC", "B", "村小录播室", "broadcast"),
         *[(f"B-R{i}", "B", f"B{i}教室", "ordinary") for i in range(1, 5)],
         ("C-R1", "C", "C1教室", "ordinary"), ("D-BC", "D", "中学录播室", "broadcast"),
         ("D-R1", "D", "D1教室", "ordinary")]
CLASSES = [("A-C1", "A", 1, "一(1)班", "A-R1"), ("B-C1", "B", 3, "三(1)班", "B-R1"),
           ("B-C2", "B", 3, "三(2)班", "B-R2"), ("B-C9", "B", 4, "四(1)班", None),
           ("C-C1", "C", 3, "三(1)班", "C-R1"), ("D-C1", "D", 7, "七(1)班", "D-R1")]


def at(day: date, hhmm: str) -> datetime:
    """A county-local time on ``day``."""
    hours, minutes = map(int, hhmm.split(":"))
    return datetime(day.year, day.month, day.day, hours, minutes, tzinfo=TZ)


def config(db_path: Path | str, **changes) -> configmod.Config:
    return configmod.load(env={}, overrides={"db_path": db_path, "secret_key": "test", **SETTINGS, **changes})


def rules(**changes):
    return rules_of(config("unused.db", **changes))


def build(database) -> None:
    """The inventory above, in a migrated database."""
    dbmod.migrate(database)
    county.apply_inventory(database, {
        "townships": [{"code": "T1", "name": "古城街道", "area_code": "main_urban"},
                      {"code": "T2", "name": "者海镇", "area_code": "zhehai"},
                      {"code": "T3", "name": "娜姑镇", "area_code": "nagu"}],
        "schools": [{"code": code, "name": name, "township_code": township, "stage": "primary", "pupils": 200,
                     "small_scale": 0, "uplink_mbps": uplink, "wired_planned": 1, "wireless_planned": 1,
                     "wifi_ssid": ""} for code, (name, township, uplink) in SCHOOLS.items()],
        "rooms": [{"code": code, "school_code": school, "name": name, "kind": kind, "seats": 50,
                   "wired_planned": 1, "wireless_planned": 1} for code, school, name, kind in ROOMS],
        "classes": [{"code": code, "school_code": school, "grade": grade, "name": name, "room_code": room}
                    for code, school, grade, name, room in CLASSES]})


def add_user(database, username: str, role: str, schools=()) -> accounts.User:
    return accounts.add_user(database, username, role, schools, f"pw-{username}-long-enough", COMMAND_LINE,
                             NOW - timedelta(days=30))


def add_token(database, user: accounts.User) -> str:
    """An API token for ``user``, as a script would hold it."""
    return accounts.create_token(database, user, "booking test", COMMAND_LINE, datetime.now(timezone.utc))[1]


def add_village(database, code: str, uplink: float, rooms: int) -> list[str]:
    """One more school in 者海镇 with ``rooms`` ordinary rooms; returns their codes."""
    county.apply_inventory(database, {
        "schools": [{"code": code, "name": f"村小{code}", "township_code": "T2", "stage": "primary", "pupils": 80,
                     "small_scale": 1, "uplink_mbps": uplink, "wired_planned": 1, "wireless_planned": 0,
                     "wifi_ssid": ""}],
        "rooms": [{"code": f"{code}-R{i}", "school_code": code, "name": f"{code}第{i}教室", "kind": "ordinary",
                   "seats": 40, "wired_planned": 1, "wireless_planned": 0} for i in range(1, rooms + 1)]})
    return [f"{code}-R{i}" for i in range(1, rooms + 1)]


def add_broadcast_rooms(database, school: str, count: int) -> list[str]:
    county.apply_inventory(database, {"rooms": [
        {"code": f"{school}-BC{i}", "school_code": school, "name": f"录播室{i}", "kind": "broadcast", "seats": 40,
         "wired_planned": 1, "wireless_planned": 1} for i in range(1, count + 1)]})
    return [f"{school}-BC{i}" for i in range(1, count + 1)]


def next_school_monday(today: date, weeks_ahead: int = 2) -> date:
    """A Monday at least ``weeks_ahead`` weeks after ``today``, for hubs that run on the real clock."""
    return today + timedelta(days=7 * weeks_ahead - today.weekday())


def live_settings(today: date) -> dict[str, str]:
    """EDUOPS_* variables for a real hub: a term around ``today``, no holidays."""
    return {"EDUOPS_TERMS": f"{today - timedelta(days=30)}..{today + timedelta(days=150)}", "EDUOPS_HOLIDAYS": ""}


def add_hosts(database, school: str, count: int) -> list[str]:
    """Teachers of ``school`` to host sessions, written straight into the tables: they never sign in,
    so they get an unusable password hash instead of 0.2 s of argon2 each."""
    names = [f"host-{school}-{i}" for i in range(1, count + 1)]
    stamp = NOW.strftime("%Y-%m-%dT%H:%M:%S.000000Z")
    with dbmod.write(database):
        for name in names:
            user_id = database.execute(
                "INSERT INTO users (username, role, password_hash, created_at, password_changed_at) "
                "VALUES (?, 'teacher', '!', ?, ?)", [name, stamp, stamp]).lastrowid
            database.execute("INSERT INTO user_schools (user_id, school_code) VALUES (?, ?)", [user_id, school])
    return names
