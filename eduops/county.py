"""Storage of the county model: every SQL statement about the inventory lives here."""
from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, Callable, Iterable, TypeVar

import sqlite_utils
from tqdm import tqdm

from eduops import db as dbmod

# Parents before children, so foreign keys hold at every step of an import.
TABLES = ("townships", "schools", "rooms", "classes", "terminals")
# A school may run several networks (teaching, office): schools.wifi_ssid keeps them joined by this.
SSID_SEPARATOR = ";"
T = TypeVar("T")


def school_ssids(stored: str) -> tuple[str, ...]:
    """The SSIDs a school's ``wifi_ssid`` names, in the inventory's order (none when it is empty)."""
    return tuple(s for s in stored.split(SSID_SEPARATOR) if s)


@dataclass
class ImportCounts:
    added: int = 0
    changed: int = 0
    unchanged: int = 0


def existing_codes(db: sqlite_utils.Database) -> dict[str, dict[str, str]]:
    """{table: {code: owning school code}} for every inventory table (township rows own none)."""
    codes: dict[str, dict[str, str]] = {}
    for table in TABLES:
        owner = "''" if table == "townships" else ("code" if table == "schools" else "school_code")
        codes[table] = dict(db.execute(f"SELECT code, {owner} FROM {table}").fetchall())
    return codes


def apply_inventory(db: sqlite_utils.Database, records: dict[str, list[dict[str, Any]]],
                    progress: bool = False) -> dict[str, ImportCounts]:
    """Write validated records in one transaction: insert new codes, update changed rows."""
    counts = {table: ImportCounts() for table in TABLES}
    total = sum(len(records.get(t, [])) for t in TABLES)
    with dbmod.write(db), tqdm(total=total, desc="writing", unit="row",
                               disable=None if progress else True) as bar:
        for table in TABLES:
            # Sheets of one kind may carry different optional columns: write each set of columns apart.
            by_columns: dict[tuple[str, ...], list[dict[str, Any]]] = {}
            for row in records.get(table, []):
                by_columns.setdefault(tuple(row), []).append(row)
            for columns, rows in by_columns.items():
                _upsert(db, table, list(columns), rows, counts[table], bar)
    return counts


def _upsert(db: sqlite_utils.Database, table: str, columns: list[str], rows: list[dict[str, Any]],
            counts: ImportCounts, bar: tqdm) -> None:
    """Insert new codes and update changed rows of one table, all rows giving the same columns."""
    current = {r["code"]: r for r in db[table].rows_where(select=", ".join(columns))}
    placeholders = ", ".join("?" for _ in columns)
    updates = ", ".join(f"{c} = excluded.{c}" for c in columns if c != "code")
    sql = (f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({placeholders}) "
           f"ON CONFLICT(code) DO UPDATE SET {updates}")
    for row in rows:
        before = current.get(row["code"])
        if before == row:
            counts.unchanged += 1
        else:
            db.execute(sql, [row[c] for c in columns])
            if before is None:
                counts.added += 1
            else:
                counts.changed += 1
        bar.update()


def inventory_rows(db: sqlite_utils.Database, table: str) -> list[dict[str, Any]]:
    """Every row of one inventory table, ordered by code, as the template writes it."""
    if table not in TABLES:
        raise ValueError(f"not an inventory table: {table}")
    return list(db[table].rows_where(order_by="code"))


def set_meta(db: sqlite_utils.Database, key: str, value: str) -> None:
    with dbmod.write(db):
        db.execute("INSERT INTO meta (key, value) VALUES (?, ?) "
                   "ON CONFLICT(key) DO UPDATE SET value = excluded.value", [key, value])


def get_meta(db: sqlite_utils.Database, key: str, default: str | None = None) -> str | None:
    row = db.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchone()
    return row[0] if row else default


def per_inventory(load: Callable[[sqlite_utils.Database], T]) -> Callable[[sqlite_utils.Database], T]:
    """Keep what ``load`` works out from the inventory tables alone until they change.

    A county's inventory changes with an import, a few times a term, while its figures are read on
    every page and scrape: reading 4,000 classes and their rooms again each time was most of a
    /metrics scrape. The mark kept by migration 0011's triggers tells when to read again, whichever
    process or hand changed the inventory. The value is shared by every caller: never change it.
    """
    kept: tuple[str, T] | None = None

    @functools.wraps(load)
    def cached(db: sqlite_utils.Database) -> T:
        nonlocal kept
        with dbmod.snapshot(db):  # the mark and what it marks, though an import commits meanwhile
            version = get_meta(db, "inventory_version")
            if kept is not None and kept[0] == version:
                return kept[1]
            value = load(db)
        kept = None if version is None else (version, value)  # None: a database older than 0011
        return value
    return cached


@per_inventory
def area_summary(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    """Per area: townships, schools, classes, and classes whose home room has a terminal in the inventory."""
    # One count per area and figure: cheaper than counting distinct codes over the joined tables.
    in_area = """FROM classes c JOIN schools s ON s.code = c.school_code
                 JOIN townships t ON t.code = s.township_code WHERE t.area_code = a.code"""
    sql = f"""
        SELECT a.code, a.name_zh, a.name_en,
               (SELECT COUNT(*) FROM townships t WHERE t.area_code = a.code),
               (SELECT COUNT(*) FROM schools s JOIN townships t ON t.code = s.township_code
                WHERE t.area_code = a.code),
               (SELECT COUNT(*) {in_area}),
               (SELECT COUNT(*) {in_area} AND EXISTS (SELECT 1 FROM terminals tm WHERE tm.room_code = c.room_code))
        FROM areas a ORDER BY a.sort
    """
    return [dict(zip(("code", "name_zh", "name_en", "townships", "schools", "classes",
                      "classes_with_terminal"), row)) for row in db.execute(sql).fetchall()]


def table_counts(db: sqlite_utils.Database, tables: Iterable[str] = TABLES) -> dict[str, int]:
    return {t: db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in tables}


@per_inventory
def terminals_by_area_and_kind(db: sqlite_utils.Database) -> list[tuple[str, str, int]]:
    """(area, terminal kind, count) for every pair present in the inventory."""
    # Count per school first, so only a few hundred rows are joined to their areas.
    sql = """
        SELECT t.area_code, per_school.kind, SUM(per_school.n)
        FROM (SELECT school_code, kind, COUNT(*) AS n FROM terminals GROUP BY school_code, kind) per_school
        JOIN schools s ON s.code = per_school.school_code JOIN townships t ON t.code = s.township_code
        GROUP BY t.area_code, per_school.kind ORDER BY t.area_code, per_school.kind
    """
    return [tuple(row) for row in db.execute(sql).fetchall()]
