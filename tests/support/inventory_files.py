"""Inventory workbooks for tests: a good county in every sheet, and the real import."""
from __future__ import annotations

from pathlib import Path

import openpyxl

from eduops import county, inventory

TOWNSHIPS = [["code", "name", "area_code"], ["T01", "古城街道", "main_urban"], ["T02", "者海镇", "者海"]]
SCHOOLS = [["编码", "名称", "乡镇", "学段", "学生数", "小规模学校", "出口带宽Mbps", "有线网络", "无线网络", "无线网络名称"],
           ["S1", "古城第一小学", "T01", "小学", 900, "否", 1000, "是", "是", "HZJY-S1"],
           ["S2", "者海红石村小学", "T02", "primary", 30, "是", 50, "是", "否", ""]]
ROOMS = [["code", "school_code", "name", "kind", "seats", "wired_planned", "wireless_planned"],
         ["S1-R1", "S1", "101", "digital", 50, 1, 1],
         ["S1-B1", "S1", "直录播教室", "互动直录播教室", 60, 1, 1],
         ["S2-R1", "S2", "一年级教室", "ordinary", 20, 1, 0]]
CLASSES = [["code", "school_code", "grade", "name", "room_code"],
           ["S1-C1", "S1", 1, "一年级(1)班", "S1-R1"],
           ["S2-C1", "S2", 1, "一年级(1)班", "S2-R1"]]
TERMINALS = [["code", "school_code", "room_code", "kind", "asset_tag"],
             ["S1-T1", "S1", "S1-R1", "interactive_display", "HZ-1"],
             ["S1-T2", "S1", "", "一体机", "HZ-2"]]
GOOD = {"乡镇": TOWNSHIPS, "学校": SCHOOLS, "rooms": ROOMS, "班级": CLASSES, "terminals": TERMINALS}


def make_xlsx(path: Path, sheets: dict[str, list[list]]) -> Path:
    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        ws = book.create_sheet(title)
        for row in rows:
            ws.append(row)
    book.save(path)
    return path


def run_import(database, *paths: Path):
    records = inventory.validate(inventory.read_workbook(paths), county.existing_codes(database))
    return county.apply_inventory(database, records)


def with_row(sheet: str, row: list) -> dict[str, list[list]]:
    sheets = {k: [list(r) for r in v] for k, v in GOOD.items()}
    sheets[sheet].append(row)
    return sheets
