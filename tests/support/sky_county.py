"""A small sky-classroom county for the booking pages and feeds: a town school with a broadcast room
and four village schools, imported through the real inventory path.

S1 古城第一小学 (main urban, 1000 Mbps): broadcast room S1-B1, digital room S1-D1, classes S1-C1..C3.
S11-S13 者海镇 village schools (50 Mbps): one class per grade 1-6, S1x-C1..C6, each in its own room.
S14 者海镇坝子村小学 has no uplink on record: it can only get the recording.
"""
from __future__ import annotations

from pathlib import Path

from eduops import county, inventory
from eduops import db as dbmod

GRADES = ["一年级", "二年级", "三年级", "四年级", "五年级", "六年级"]
VILLAGES = {"S11": "者海镇红石村小学", "S12": "者海镇白雾村小学", "S13": "者海镇新田村小学", "S14": "者海镇坝子村小学"}


def _school(code: str, name: str, township: str, uplink: int) -> dict:
    return {"code": code, "name": name, "township_code": township, "stage": "primary", "pupils": 300,
            "small_scale": 0, "uplink_mbps": uplink, "wired_planned": 1, "wireless_planned": 0, "wifi_ssid": ""}


def _room(code: str, school: str, name: str, kind: str = "ordinary") -> dict:
    return {"code": code, "school_code": school, "name": name, "kind": kind, "seats": 50,
            "wired_planned": 1, "wireless_planned": 0}


def records() -> dict[str, list[dict]]:
    sheets = {"townships": [{"code": "T01", "name": "古城街道", "area_code": "main_urban"},
                            {"code": "T06", "name": "者海镇", "area_code": "zhehai"}],
              "schools": [_school("S1", "会泽县古城第一小学", "T01", 1000)],
              "rooms": [_room("S1-B1", "S1", "互动直录播教室1", "broadcast"), _room("S1-D1", "S1", "标准数字教室", "digital")],
              "classes": [], "terminals": []}
    for n in range(1, 4):
        sheets["rooms"].append(_room(f"S1-R{n}", "S1", f"{n:03d}教室"))
        sheets["classes"].append({"code": f"S1-C{n}", "school_code": "S1", "grade": 3, "name": f"三年级({n})班",
                                  "room_code": f"S1-R{n}"})
    for code, name in VILLAGES.items():
        sheets["schools"].append(_school(code, name, "T06", 0 if code == "S14" else 50))
        for g, grade in enumerate(GRADES, start=1):
            sheets["rooms"].append(_room(f"{code}-R{g}", code, f"{g:03d}教室"))
            sheets["classes"].append({"code": f"{code}-C{g}", "school_code": code, "grade": g,
                                      "name": f"{grade}(1)班", "room_code": f"{code}-R{g}"})
    return sheets


def build(db_path: Path) -> None:
    """Migrate ``db_path`` and import the county through the real import path."""
    database = dbmod.connect(db_path)
    try:
        dbmod.migrate(database)
        raw = [inventory.RawSheet(inventory.SHEETS[name], list(rows[0]), [
            (n, list(r.values())) for n, r in enumerate(rows, start=2)]) for name, rows in records().items() if rows]
        county.apply_inventory(database, inventory.validate(raw, county.existing_codes(database)))
    finally:
        database.conn.close()
