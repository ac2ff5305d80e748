"""The one place that owns the SQLite connection rules and the schema migrations.

WAL so readers never block the writer; foreign keys on; a busy timeout so a
second writer waits instead of failing; every write in ``BEGIN IMMEDIATE`` so
a read-then-write can never be overtaken by another writer.
"""
from __future__ import annotations

import contextlib
import sqlite3
from importlib import resources
from pathlib import Path
from typing import Iterator

import sqlite_utils

BUSY_TIMEOUT_MS = 10_000


def connect(path: Path | str) -> sqlite_utils.Database:
    """Open the hub database with the connection rules every caller relies on."""
    conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None,
                           check_same_thread=False)
    db = sqlite_utils.Database(conn)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    return db


@contextlib.contextmanager
def write(db: sqlite_utils.Database) -> Iterator[sqlite_utils.Database]:
    """One write transaction: taken with BEGIN IMMEDIATE, committed whole or rolled back whole."""
    conn = db.conn
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def migrations() -> list[tuple[int, str, str]]:
    """The numbered migrations shipped in eduops/migrations, as (number, name, sql), in order."""
    found = []
    for entry in resources.files("eduops.migrations").iterdir():
        if entry.name.endswith(".sql"):
            number, _, name = entry.name[:-4].partition("_")
            found.append((int(number), name, entry.read_text(encoding="utf-8")))
    return sorted(found)


def schema_version(db: sqlite_utils.Database) -> int:
    return db.conn.execute("PRAGMA user_version").fetchone()[0]


def migrate(db: sqlite_utils.Database, up_to: int | None = None) -> int:
    """Apply every migration newer than the database (up to ``up_to``, for tests that carry an older
    database forward), each in its own transaction; return the version."""
    for number, _name, sql in migrations():
        if number <= schema_version(db) or (up_to is not None and number > up_to):
            continue
        with write(db):
            for statement in _statements(sql):
                db.conn.execute(statement)
            db.conn.execute(f"PRAGMA user_version={number}")
    return schema_version(db)


def _statements(sql: str) -> Iterator[str]:
    """Split a migration into statements (executescript would commit our transaction)."""
    buffer = ""
    for line in sql.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            yield buffer
            buffer = ""
    if buffer.strip():
        raise ValueError(f"migration ends in an incomplete statement: {buffer.strip()[:60]}")
