"""A small county built by hand, whose coverage figures the tests write out by hand.

Three areas, four townships, six schools (C and F have no classes), twelve classes
(A-C1 and A-C2 share room A-R1; B-C3 has no home room; E-R4 is no class's home). School E runs two networks
(E-TEACH and E-OFFICE); F plans Wi-Fi but the inventory names no SSID. Agents,
relative to ``now``, written straight into the fleet's tables:

ag-1  A-R1  online, reported an hour ago; wired up, A-WIFI at -60 dBm yesterday
ag-2  A-R3  terminal A-T2, which the inventory still places in A-R2 (moved);
            Wi-Fi -70 today; its wired link was up only 8 days ago (outside the window)
ag-4  A-R4  retired yesterday: shows nothing though it reported within the window
ag-5  B-R1  last report 10 days ago (older than the window), wired up that day
ag-6  C-R1  wired up today; C-WIFI seen at -80 dBm, below the -75 threshold
ag-8  D-R1  wired up today; sees only a phone hotspot, never D-WIFI

School E has no agents here: tests/test_coverage_reported.py enrolls real ones
over HTTP (a phone hotspot, a move between rooms, a report just outside the window).
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import sqlite_utils

from eduops import county
from tests.support.fleet_tables import add_agent

NOW = datetime(2026, 3, 10, 4, 0, tzinfo=timezone.utc)  # 12:00 in Huize

SCHOOL = {"pupils": 100, "small_scale": 0, "uplink_mbps": 100, "wired_planned": 1, "wireless_planned": 1}


def _iso(t: datetime) -> str:
    return t.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _day(t: datetime) -> str:
    return t.astimezone(ZoneInfo("Asia/Shanghai")).date().isoformat()


def build(db: sqlite_utils.Database, now: datetime = NOW) -> None:
    build_inventory(db)
    ago = lambda **kw: now - timedelta(**kw)  # noqa: E731
    add_agent(db, "ag-1", "A", "A-R1", terminal="A-T1", last_report_at=_iso(ago(hours=1)),
              days=[(_day(ago(days=1)), 5, "A-WIFI", -60)])
    add_agent(db, "ag-2", "A", "A-R3", terminal="A-T2", last_report_at=_iso(ago(hours=2)),
              days=[(_day(now), 0, "A-WIFI", -70), (_day(ago(days=8)), 6, "A-WIFI", -40)])
    add_agent(db, "ag-4", "A", "A-R4", terminal="A-T4", state="retired", last_report_at=_iso(ago(days=1)),
              days=[(_day(ago(days=1)), 3, "A-WIFI", -50)])
    add_agent(db, "ag-5", "B", "B-R1", terminal="B-T1", state="offline", last_report_at=_iso(ago(days=10)),
              days=[(_day(ago(days=10)), 4, None, None)])
    add_agent(db, "ag-6", "C", "C-R1", terminal="C-T1", last_report_at=_iso(ago(hours=3)),
              days=[(_day(now), 2, "C-WIFI", -80)])
    add_agent(db, "ag-8", "D", "D-R1", terminal="D-T1", last_report_at=_iso(ago(minutes=30)),
              days=[(_day(now), 1, "Phone-Hotspot", -40)])


def build_inventory(db: sqlite_utils.Database) -> None:
    """The inventory alone (it needs nothing of the fleet's tables)."""
    def room(code, wired, wireless):
        return {"code": code, "school_code": code[0], "name": code + "教室", "kind": "ordinary", "seats": 40,
                "wired_planned": wired, "wireless_planned": wireless}

    def klass(code, grade, room_code):
        return {"code": code, "school_code": code[0], "grade": grade, "name": f"{grade}年级({code[-1]})班",
                "room_code": room_code}

    def terminal(code, room_code):
        return {"code": code, "school_code": code[0], "room_code": room_code, "kind": "all_in_one", "asset_tag": ""}

    county.apply_inventory(db, {
        "townships": [{"code": "T1", "name": "古城街道", "area_code": "main_urban"},
                      {"code": "T2", "name": "娜姑镇", "area_code": "nagu"},
                      {"code": "T3", "name": "宝云街道", "area_code": "main_urban"},
                      {"code": "T4", "name": "者海镇", "area_code": "zhehai"}],
        "schools": [
            {**SCHOOL, "code": "A", "name": "古城小学", "township_code": "T1", "stage": "primary", "wifi_ssid": "A-WIFI"},
            {**SCHOOL, "code": "B", "name": "娜姑村小", "township_code": "T2", "stage": "primary", "pupils": 30,
             "small_scale": 1, "wireless_planned": 0, "wifi_ssid": ""},
            {**SCHOOL, "code": "C", "name": "娜姑中学", "township_code": "T2", "stage": "junior",
             "wired_planned": 0, "wifi_ssid": "C-WIFI"},
            {**SCHOOL, "code": "D", "name": "宝云高级中学", "township_code": "T3", "stage": "senior",
             "wifi_ssid": "D-WIFI"},
            {**SCHOOL, "code": "E", "name": "者海中学", "township_code": "T4", "stage": "junior",
             "wifi_ssid": "E-TEACH;E-OFFICE"},
            {**SCHOOL, "code": "F", "name": "者海幼儿园", "township_code": "T4", "stage": "kindergarten",
             "wifi_ssid": ""}],
        "rooms": [room("A-R1", 1, 1), room("A-R2", 1, 1), room("A-R3", 0, 1), room("A-R4", 1, 0),
                  room("B-R1", 1, 0), room("B-R2", 0, 0), room("C-R1", 1, 1), room("D-R1", 1, 1),
                  room("E-R1", 1, 1), room("E-R2", 1, 1), room("E-R3", 1, 1),
                  room("E-R4", 1, 1)],
        "classes": [klass("A-C1", 1, "A-R1"), klass("A-C2", 2, "A-R1"), klass("A-C3", 3, "A-R2"),
                    klass("A-C4", 4, "A-R3"), klass("A-C5", 5, "A-R4"), klass("B-C1", 1, "B-R1"),
                    klass("B-C2", 2, "B-R2"), klass("B-C3", 3, None), klass("D-C1", 10, "D-R1"),
                    klass("E-C1", 7, "E-R1"), klass("E-C2", 8, "E-R2"), klass("E-C3", 9, "E-R3")],
        "terminals": [terminal("A-T1", "A-R1"), terminal("A-T2", "A-R2"), terminal("A-T4", "A-R4"),
                      terminal("B-T1", "B-R1"), terminal("C-T1", "C-R1"), terminal("D-T1", "D-R1"),
                      terminal("E-T1", "E-R1"), terminal("E-T2", "E-R2"), terminal("E-T3", "E-R3"),
                      terminal("E-T4", "E-R4")],
    })


# The figures of this county, worked out by hand (tests/test_coverage_figures.py checks the hub against them).

def counts(classes, schools, terminal=(0, 0), wired=(0, 0), wireless=(0, 0), school_wired=(0, 0),
           school_wireless=(0, 0)):
    pairs = {"class_terminal": terminal, "class_wired": wired, "class_wireless": wireless,
             "school_wired": school_wired, "school_wireless": school_wireless}
    out = {"classes": classes, "schools": schools}
    for measure, (inventory, observed) in pairs.items():
        out[f"{measure}_inventory"], out[f"{measure}_observed"] = inventory, observed
    return out


# E's three classes and E and F themselves are in the inventory only (E's agents report in
# test_coverage_reported.py): all planned, none observed. zhehai is township T4: E and F.
EXPECTED = {
    ("county", ""): counts(12, 6, (9, 4), (9, 3), (8, 3), (5, 3), (5, 1)),
    ("area", "main_urban"): counts(6, 2, (5, 4), (5, 3), (5, 3), (2, 2), (2, 1)),
    ("area", "nagu"): counts(3, 2, (1, 0), (1, 0), (0, 0), (1, 1), (1, 0)),
    ("area", "zhehai"): counts(3, 2, (3, 0), (3, 0), (3, 0), (2, 0), (2, 0)),
    ("area", "daibu"): counts(0, 0),
    ("area", "yiche"): counts(0, 0),
    ("township", "T1"): counts(5, 1, (4, 3), (4, 2), (4, 3), (1, 1), (1, 1)),
    ("township", "T2"): counts(3, 2, (1, 0), (1, 0), (0, 0), (1, 1), (1, 0)),
    ("township", "T3"): counts(1, 1, (1, 1), (1, 1), (1, 0), (1, 1), (1, 0)),
    ("township", "T4"): counts(3, 2, (3, 0), (3, 0), (3, 0), (2, 0), (2, 0)),
    ("school", "A"): counts(5, 1, (4, 3), (4, 2), (4, 3), (1, 1), (1, 1)),
    ("school", "B"): counts(3, 1, (1, 0), (1, 0), (0, 0), (1, 0), (0, 0)),
    ("school", "C"): counts(0, 1, school_wired=(0, 1), school_wireless=(1, 0)),
    ("school", "D"): counts(1, 1, (1, 1), (1, 1), (1, 0), (1, 1), (1, 0)),
    ("school", "E"): counts(3, 1, (3, 0), (3, 0), (3, 0), (1, 0), (1, 0)),
    ("school", "F"): counts(0, 1, school_wired=(1, 0), school_wireless=(1, 0)),
}

U, M = "unobserved", "missing"
EXPECTED_GAPS = [
    ("A", "A-C3", {"class_terminal": U, "class_wired": U, "class_wireless": U}),
    ("A", "A-C4", {"class_wired": M}),
    ("A", "A-C5", {"class_terminal": U, "class_wired": U, "class_wireless": M}),
    ("D", None, {"school_wireless": U}),
    ("D", "D-C1", {"class_wireless": U}),
    ("E", None, {"school_wired": U, "school_wireless": U}),
    ("E", "E-C1", {"class_terminal": U, "class_wired": U, "class_wireless": U}),
    ("E", "E-C2", {"class_terminal": U, "class_wired": U, "class_wireless": U}),
    ("E", "E-C3", {"class_terminal": U, "class_wired": U, "class_wireless": U}),
    ("F", None, {"school_wired": U, "school_wireless": U}),
    ("B", None, {"school_wired": U, "school_wireless": M}),
    ("B", "B-C1", {"class_terminal": U, "class_wired": U, "class_wireless": M}),
    ("B", "B-C2", {"class_terminal": M, "class_wired": M, "class_wireless": M}),
    ("B", "B-C3", {"class_terminal": M, "class_wired": M, "class_wireless": M}),
    ("C", None, {"school_wireless": U}),
]
