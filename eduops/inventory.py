"""The inventory template: one sheet per kind of record, Chinese or English headers.

``read_workbook`` turns XLSX or CSV files into raw rows, ``validate`` checks every
row (against the file and the database) before anything is written, and
``county.apply_inventory`` writes all of it or nothing.

Over 300 lines on purpose: the sheets, their columns and parsers, and the checks
across sheets are one contract with docs/inventory.md, read together.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable

from tqdm import tqdm

from eduops import county

AREAS = {"main_urban": "主城区", "zhehai": "者海", "nagu": "娜姑", "daibu": "待补", "yiche": "迤车"}
STAGES = {"kindergarten": "幼儿园", "primary": "小学", "junior": "初中", "senior": "高中",
          "complete": "完全中学", "vocational": "职业学校", "special": "特殊教育学校"}
ROOM_KINDS = {"ordinary": "普通教室", "digital": "标准数字教室", "broadcast": "互动直录播教室"}
TERMINAL_KINDS = {"interactive_display": "交互式智能平板", "all_in_one": "一体机",
                  "projector": "投影仪", "pc": "电脑"}
YES = {"1", "yes", "y", "true", "是", "有"}
NO = {"0", "no", "n", "false", "否", "无", ""}


class RowError(ValueError):
    """One cell or row is wrong; the message says what, in words a clerk can act on."""


def _text(raw: Any) -> str:
    return "" if raw is None else str(raw).strip()


def _required_text(raw: Any) -> str:
    value = _text(raw)
    if not value:
        raise RowError("is empty")
    if len(value) > 200:
        raise RowError("is longer than 200 characters")
    return value


def _optional_code(raw: Any) -> str | None:
    return _text(raw) or None


def _count(raw: Any) -> int:
    value = _text(raw)
    if not value:
        return 0
    try:
        number = float(value)
    except ValueError:
        raise RowError(f"{value!r} is not a number") from None
    if not number.is_integer() or number < 0:
        raise RowError(f"{value!r} is not a whole number of 0 or more")
    return int(number)


def _mbps(raw: Any) -> float:
    value = _text(raw)
    try:
        number = float(value) if value else 0.0
    except ValueError:
        raise RowError(f"{value!r} is not a number") from None
    if number < 0:
        raise RowError(f"{value!r} is negative")
    return number


def _flag(raw: Any) -> int:
    value = _text(raw).lower()
    if value in YES:
        return 1
    if value in NO:
        return 0
    raise RowError(f"{value!r} is not yes/no (是/否)")


def _ssids(raw: Any) -> str:
    """One or more SSIDs, one per line or separated by ';' (or '；'), stored joined by ';'."""
    names = [n.strip() for n in _text(raw).replace("；", ";").replace("\n", ";").split(";")]
    for name in names:
        if len(name.encode()) > 32:
            raise RowError(f"{name!r} is longer than an SSID can be (32 bytes)")
    return county.SSID_SEPARATOR.join(dict.fromkeys(n for n in names if n))


def _grade(raw: Any) -> int:
    value = _count(raw)
    if value > 12:
        raise RowError(f"{value} is not a grade from 0 (kindergarten) to 12")
    return value


def _choice(options: dict[str, str]) -> Callable[[Any], str]:
    by_label = {label: code for code, label in options.items()}

    def parse(raw: Any) -> str:
        value = _text(raw)
        if value in options:
            return value
        if value in by_label:
            return by_label[value]
        raise RowError(f"unknown kind {value!r}; use one of "
                       + ", ".join(f"{c} ({z})" for c, z in options.items()))
    return parse


@dataclass(frozen=True)
class Column:
    key: str         # English header and database column
    zh: str          # Chinese header
    parse: Callable[[Any], Any]
    refers_to: str | None = None   # sheet whose code this column names
    optional_ref: bool = False
    required: bool = True          # an optional column may be left out of a sheet (see validate)


@dataclass(frozen=True)
class Sheet:
    key: str
    zh: str
    columns: tuple[Column, ...]

    def column(self, header: Any) -> Column | None:
        name = _text(header)
        for col in self.columns:
            if name.lower() == col.key or name == col.zh:
                return col
        return None


CODE = Column("code", "编码", _required_text)
SHEETS: dict[str, Sheet] = {s.key: s for s in (
    Sheet("townships", "乡镇", (CODE, Column("name", "名称", _required_text),
                                Column("area_code", "片区", _choice(AREAS)))),
    Sheet("schools", "学校", (
        CODE, Column("name", "名称", _required_text),
        Column("township_code", "乡镇", _required_text, refers_to="townships"),
        Column("stage", "学段", _choice(STAGES)), Column("pupils", "学生数", _count, required=False),
        Column("small_scale", "小规模学校", _flag, required=False),
        Column("uplink_mbps", "出口带宽Mbps", _mbps, required=False),
        Column("wired_planned", "有线网络", _flag, required=False),
        Column("wireless_planned", "无线网络", _flag, required=False),
        Column("wifi_ssid", "无线网络名称", _ssids, required=False))),
    Sheet("rooms", "教室", (
        CODE, Column("school_code", "学校", _required_text, refers_to="schools"),
        Column("name", "名称", _required_text), Column("kind", "类型", _choice(ROOM_KINDS)),
        Column("seats", "座位数", _count, required=False), Column("wired_planned", "有线网络", _flag, required=False),
        Column("wireless_planned", "无线网络", _flag, required=False))),
    Sheet("classes", "班级", (
        CODE, Column("school_code", "学校", _required_text, refers_to="schools"),
        Column("grade", "年级", _grade), Column("name", "名称", _required_text),
        Column("room_code", "教室", _optional_code, refers_to="rooms", optional_ref=True, required=False))),
    Sheet("terminals", "终端", (
        CODE, Column("school_code", "学校", _required_text, refers_to="schools"),
        Column("room_code", "教室", _optional_code, refers_to="rooms", optional_ref=True, required=False),
        Column("kind", "类型", _choice(TERMINAL_KINDS)), Column("asset_tag", "资产编号", _text, required=False))),
)}


def sheet_named(name: str) -> Sheet | None:
    name = name.strip()
    return next((s for s in SHEETS.values() if name.lower() == s.key or name == s.zh), None)


@dataclass
class RawSheet:
    sheet: Sheet
    header: list[Any]
    rows: list[tuple[int, list[Any]]]   # (spreadsheet row number, cells)


class InventoryError(Exception):
    """The inventory was refused; ``problems`` lists every `sheet/row N: what is wrong`."""

    def __init__(self, problems: list[str]):
        super().__init__(f"{len(problems)} problem(s) in the inventory")
        self.problems = problems


def read_workbook(paths: Iterable[Path]) -> list[RawSheet]:
    """Read XLSX workbooks (sheets by name) and CSV files (named after their sheet)."""
    import openpyxl  # slow to import; only the import and export commands need it

    found: list[RawSheet] = []
    problems = []
    for path in paths:
        if path.suffix.lower() == ".xlsx":
            book = openpyxl.load_workbook(path, read_only=True, data_only=True)
            tables = [(ws.title, list(ws.iter_rows(values_only=True))) for ws in book.worksheets]
            book.close()
        elif path.suffix.lower() == ".csv":
            tables = [(path.stem, list(csv.reader(_decode(path).splitlines())))]
        else:
            problems.append(f"{path.name}: not an .xlsx or .csv file")
            continue
        for title, table in tables:
            sheet = sheet_named(title)
            if sheet is None:
                problems.append(f"{title}: unknown sheet; expected one of "
                                + ", ".join(f"{s.key} ({s.zh})" for s in SHEETS.values()))
            elif table:
                rows = [(n, list(r)) for n, r in enumerate(table[1:], start=2)
                        if any(_text(c) for c in r)]
                found.append(RawSheet(sheet, list(table[0]), rows))
    if problems:
        raise InventoryError(problems)
    return found


def _decode(path: Path) -> str:
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("gb18030")  # Excel on Chinese Windows saves CSV in GBK


def validate(raw_sheets: list[RawSheet], existing: dict[str, dict[str, str]],
             progress: bool = False, warnings: list[str] | None = None) -> dict[str, list[dict[str, Any]]]:
    """Check every row; return records per sheet or raise InventoryError listing every problem.

    ``existing`` maps a sheet to {code: owning school code} already in the database,
    so a file may name townships, schools or rooms imported earlier. What is allowed but
    probably wrong is appended to ``warnings`` (same `sheet/row N: ...` form).
    """
    problems: list[str] = []
    records: dict[str, list[dict[str, Any]]] = {key: [] for key in SHEETS}
    first_row: dict[str, dict[str, int]] = {key: {} for key in SHEETS}
    refused: set[str] = set()  # sheets refused whole: rows naming their codes are not checked against them
    total = sum(len(r.rows) for r in raw_sheets)
    bar = tqdm(total=total, desc="checking", unit="row", disable=None if progress else True)
    for raw in raw_sheets:
        name = raw.sheet.key
        columns = [raw.sheet.column(h) for h in raw.header]
        for h, col in zip(raw.header, columns):
            if col is None and _text(h):
                problems.append(f"{name}/row 1: unknown column {_text(h)!r}")
        missing = [c.key for c in raw.sheet.columns if c.required and c not in columns]
        if missing:
            problems.append(f"{name}/row 1: missing column(s) {', '.join(missing)}")
            refused.add(name)
            continue
        # An optional column left out is left out of the records too: a new record takes the
        # database's default, an existing one keeps what it has.
        present = [c for c in raw.sheet.columns if c in columns]
        for number, cells in raw.rows:
            bar.update()
            given = dict(zip(columns, cells))
            record: dict[str, Any] = {"_row": number}
            for col in present:  # a short row simply lacks its last cells
                try:
                    record[col.key] = col.parse(given.get(col))
                except RowError as exc:
                    problems.append(f"{name}/row {number}: {col.key} ({col.zh}) {exc}")
            code = record.get("code")
            if code in first_row[name]:
                problems.append(f"{name}/row {number}: duplicate code {code!r} "
                                f"(also on row {first_row[name][code]})")
            elif code:
                first_row[name][code] = number
            records[name].append(record)
            if warnings is not None and name == "schools" and record.get("wireless_planned") \
                    and not record.get("wifi_ssid") and ("wifi_ssid" in record or code not in existing.get(name, {})):
                warnings.append(f"{name}/row {number}: warning: Wi-Fi is planned (无线网络) but no SSID is given "
                                "(无线网络名称), so no agent can observe it")
    bar.close()
    problems.extend(_check_references(records, existing, refused))
    if problems:
        raise InventoryError(problems)
    for rows in records.values():
        for record in rows:
            del record["_row"]
    return records


def _check_references(records: dict[str, list[dict[str, Any]]], existing: dict[str, dict[str, str]],
                      refused: set[str]) -> list[str]:
    """Every code a row names must exist, and a room must be in the row's own school.

    Codes of a ``refused`` sheet are not checked: its one problem is already reported, and
    every row naming one of its records would only repeat it as "unknown".
    """
    known = {name: dict(existing.get(name, {})) for name in SHEETS}
    for name, rows in records.items():
        for r in rows:
            if "code" in r:
                known[name][r["code"]] = r.get("school_code", "")
    problems = []
    for name, rows in records.items():
        for col in SHEETS[name].columns:
            if col.refers_to is None or col.refers_to in refused:
                continue
            for r in rows:
                target = r.get(col.key)
                if not target and (col.optional_ref or col.key not in r):
                    continue
                where = f"{name}/row {r['_row']}: {col.key} ({col.zh})"
                if target not in known[col.refers_to]:
                    problems.append(f"{where} names unknown {col.refers_to[:-1]} {target!r}")
                elif col.refers_to == "rooms" and r.get("school_code") \
                        and known["rooms"][target] != r["school_code"]:
                    problems.append(f"{where} room {target!r} belongs to school "
                                    f"{known['rooms'][target]!r}, not {r['school_code']!r}")
    return problems


def write_workbook(path: Path, rows_by_sheet: dict[str, list[dict[str, Any]]]) -> None:
    """Write the template back: XLSX with one sheet per kind, Chinese headers."""
    import openpyxl

    book = openpyxl.Workbook(write_only=True)
    for sheet in SHEETS.values():
        ws = book.create_sheet(sheet.zh)
        ws.append([c.zh for c in sheet.columns])
        for row in rows_by_sheet.get(sheet.key, []):
            ws.append([row[c.key] for c in sheet.columns])
    book.save(path)
