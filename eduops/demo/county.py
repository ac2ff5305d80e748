"""A synthetic county in the image of Huize: realistic in shape, clearly marked as demo data.

Built through the same validation and write path as a real inventory import.
"""
from __future__ import annotations

import random
import re
from datetime import datetime
from typing import Any

import sqlite_utils

from eduops import county, inventory
from eduops.accounts import passwords
from eduops.accounts import store as accounts
from eduops.audit import COMMAND_LINE

SEED = 530326  # Huize's administrative code: the same county every time

TOWNSHIPS = {
    "main_urban": ["古城街道", "宝云街道", "金钟街道", "以礼街道", "钟屏街道"],
    "zhehai": ["者海镇", "矿山镇", "乐业镇", "大井镇"],
    "nagu": ["娜姑镇", "田坝乡", "老厂乡", "上村乡", "大桥乡"],
    "daibu": ["待补镇", "驾车乡", "火红乡", "五星乡", "雨碌乡"],
    "yiche": ["迤车镇", "马路乡", "大海乡", "新街回族乡"],
}
GRADES = {"kindergarten": [0, 0, 0], "primary": [1, 2, 3, 4, 5, 6], "junior": [7, 8, 9],
          "senior": [10, 11, 12], "complete": [7, 8, 9, 10, 11, 12], "vocational": [10, 11, 12],
          "special": [1, 3, 5, 7]}
GRADE_NAMES = ["幼儿园", "一年级", "二年级", "三年级", "四年级", "五年级", "六年级",
               "七年级", "八年级", "九年级", "高一", "高二", "高三"]
SCHOOL_SUFFIX = {"kindergarten": "幼儿园", "primary": "小学", "junior": "中学", "senior": "高级中学",
                 "complete": "完全中学", "vocational": "职业技术学校", "special": "特殊教育学校"}
ORDINALS = ["", "第一", "第二", "第三", "第四", "第五", "第六", "第七"]
DEMO_SCHOOL = "S001"  # 会泽县古城第一小学: the demo's IT staff and teacher work here
DEMO_ACCOUNTS = (("demo-admin", "admin"), ("demo-it", "it_staff"), ("demo-teacher", "teacher"),
                 ("demo-viewer", "viewer"))
VILLAGES = "红石 白雾 新田 龙潭 石桥 松林 水塘 小河 大坪 坝子 营盘 梨树 瓦窑 杨柳 箐口 岩头 黑土 花椒 麦地 竹园".split()


class NotADemoDatabaseError(Exception):
    """Refuse to mix demo data into a database that holds a real inventory."""


def ensure_demo_county(db: sqlite_utils.Database) -> bool:
    """Build the demo county in an empty database; return False if it is already there."""
    if county.get_meta(db, "demo") == "1":
        return False
    if county.table_counts(db, ["schools"])["schools"]:
        raise NotADemoDatabaseError(
            "this database holds a real inventory; give `eduops demo` its own file with --db")
    records = build_county(random.Random(SEED))
    raw = [inventory.RawSheet(inventory.SHEETS[name], list(rows[0]), [
        (n, list(r.values())) for n, r in enumerate(rows, start=2)]) for name, rows in records.items()]
    county.apply_inventory(db, inventory.validate(raw, county.existing_codes(db)))
    county.set_meta(db, "demo", "1")
    return True


def ensure_demo_accounts(db: sqlite_utils.Database, now: datetime) -> list[tuple[str, str, str]]:
    """One account per role, with passwords made up afresh at every start: [(username, role, password)]."""
    made = []
    for username, role in DEMO_ACCOUNTS:
        password = passwords.generate_password()
        existing = accounts.user_named(db, username)
        if existing:
            accounts.set_password(db, existing, password, COMMAND_LINE, now)
        else:
            schools = [DEMO_SCHOOL] if role in accounts.SCHOOL_ROLES else []
            accounts.add_user(db, username, role, schools, password, COMMAND_LINE, now)
        made.append((username, role, password))
    return made


def _school_plan(rng: random.Random, area: str, central: bool) -> list[tuple[str, int, int]]:
    """(stage, classes, pupils per class) for each school of one township."""
    if area == "main_urban":
        plan = [("primary", rng.randint(30, 48), 45) for _ in range(rng.randint(5, 7))]
        plan += [("junior", rng.randint(24, 36), 50) for _ in range(rng.randint(1, 2))]
        plan += [("kindergarten", rng.randint(6, 12), 30) for _ in range(rng.randint(2, 3))]
        if central:
            plan += [("senior", rng.randint(36, 54), 55), ("complete", 30, 50),
                     ("vocational", 24, 45), ("special", 4, 10)]
        return plan
    plan = [("primary", rng.randint(24, 36), 40), ("junior", rng.randint(15, 24), 48),
            ("kindergarten", rng.randint(3, 6), 25)]
    if central:
        plan.append(("senior", rng.randint(18, 24), 52))
    plan += [("primary", rng.randint(4, 6), rng.choice([6, 8, 15, 25, 30]))
             for _ in range(rng.randint(9, 13))]
    return plan


def build_county(rng: random.Random) -> dict[str, list[dict[str, Any]]]:
    """The inventory of the demo county, sheet by sheet, in the import template's keys."""
    sheets: dict[str, list[dict[str, Any]]] = {name: [] for name in inventory.SHEETS}
    number = 0
    for area, townships in TOWNSHIPS.items():
        for t_index, t_name in enumerate(townships):
            t_code = f"T{len(sheets['townships']) + 1:02d}"
            sheets["townships"].append({"code": t_code, "name": t_name, "area_code": area})
            place = re.sub("(街道|回族乡|镇|乡)$", "", t_name)
            seen: dict[str, int] = {}
            for stage, n_classes, per_class in _school_plan(rng, area, t_index == 0):
                number += 1
                village = stage == "primary" and n_classes <= 6
                if village:
                    name = f"{place}{VILLAGES[number % len(VILLAGES)]}村小学"
                else:
                    seen[stage] = seen.get(stage, 0) + 1
                    name = f"会泽县{place}{ORDINALS[seen[stage]]}{SCHOOL_SUFFIX[stage]}"
                _add_school(sheets, rng, f"S{number:03d}", name, t_code, stage, n_classes,
                            per_class, area, village, lead=(t_index == 0 and sum(seen.values()) == 1))
    return sheets


def _add_school(sheets, rng, code, name, township, stage, n_classes, per_class, area, village, lead):
    urban = area == "main_urban"
    pupils = n_classes * per_class
    wireless = urban or (not village and rng.random() < 0.8) or rng.random() < 0.35
    sheets["schools"].append({
        "code": code, "name": name, "township_code": township, "stage": stage, "pupils": pupils,
        "small_scale": int((stage == "primary" and pupils < 50) or (stage == "junior" and pupils < 500)),
        "uplink_mbps": 1000 if urban else (rng.choice([50, 100]) if village else rng.choice([200, 300, 500])),
        "wired_planned": int(urban or rng.random() < 0.93), "wireless_planned": int(wireless),
        "wifi_ssid": f"HZJY-{code}" if wireless else ""})
    missing_terminal = 0.03 if urban else (0.3 if village else 0.1)
    grades = GRADES[stage]
    for i in range(n_classes):
        grade = grades[i % len(grades)]
        room = f"{code}-R{i + 1:03d}"
        sheets["rooms"].append({
            "code": room, "school_code": code, "name": f"{i + 1:03d}教室",
            "kind": "digital" if rng.random() < (0.4 if urban else 0.1) else "ordinary",
            "seats": per_class + 5, "wired_planned": int(rng.random() > (0.02 if urban else 0.15)),
            "wireless_planned": int(wireless and rng.random() > 0.1)})
        sheets["classes"].append({
            "code": f"{code}-C{i + 1:03d}", "school_code": code, "grade": grade,
            "name": f"{GRADE_NAMES[grade]}({i // len(grades) + 1})班", "room_code": room})
        if rng.random() > missing_terminal:
            sheets["terminals"].append({
                "code": f"{code}-T{i + 1:03d}", "school_code": code, "room_code": room,
                "kind": rng.choice(["interactive_display", "interactive_display", "all_in_one", "projector"]),
                "asset_tag": f"HZ-{code}-{i + 1:04d}"})
    if lead:  # the strong school of each area broadcasts its sky classroom
        for k in range(3 if urban else 1):
            room = f"{code}-B{k + 1:02d}"
            sheets["rooms"].append({"code": room, "school_code": code, "name": f"互动直录播教室{k + 1}",
                                    "kind": "broadcast", "seats": 60, "wired_planned": 1, "wireless_planned": 1})
            sheets["terminals"].append({"code": f"{code}-TB{k + 1:02d}", "school_code": code, "room_code": room,
                                        "kind": "pc", "asset_tag": f"HZ-{code}-B{k + 1:03d}"})
