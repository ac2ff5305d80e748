"""The one place that owns the SQLite connection rules and the schema migrations.

WAL so readers never block the writer; foreign keys on; a busy timeout so a
second writer waits instead of failing; every write in ``BEGIN IMMEDIATE`` so
a read-then-write can never be overtaken by another writer.

A full disk or an I/O error is a *storage fault*: not a bug, but a state of the
machine that passes. ``StorageHealth`` turns a run of them into one episode (one
log line when it starts, one when it ends), counts them for /metrics and tells
/healthz; the edges answer 503 with Retry-After while it lasts.
"""
from __future__ import annotations

import contextlib
import logging
import sqlite3
import threading
import time
from importlib import resources
from pathlib import Path
from typing import Iterator

import sqlite_utils

BUSY_TIMEOUT_MS = 10_000
STORAGE_FAULTS = {sqlite3.SQLITE_FULL: "the disk is full", sqlite3.SQLITE_IOERR: "the disk reports I/O errors"}
log = logging.getLogger(__name__)


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
    if conn.in_transaction:  # inside rehearsal(): a savepoint of the transaction it rolls back
        conn.execute("SAVEPOINT nested_write")
        try:
            yield db
        except BaseException:
            conn.execute("ROLLBACK TO nested_write")
            raise
        finally:
            conn.execute("RELEASE nested_write")
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield db
        conn.execute("COMMIT")
    except BaseException:
        # SQLite has already rolled back after some errors (a full disk among them), and a failed
        # COMMIT leaves the transaction open: either way the connection must end up outside one.
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


@contextlib.contextmanager
def snapshot(db: sqlite_utils.Database) -> Iterator[sqlite_utils.Database]:
    """Several reads that see one state of the database (WAL keeps it while others commit); inside
    a transaction already, that one's."""
    if db.conn.in_transaction:
        yield db
        return
    db.conn.execute("BEGIN")
    try:
        yield db
    finally:
        db.conn.execute("COMMIT")


@contextlib.contextmanager
def rehearsal(db: sqlite_utils.Database) -> Iterator[sqlite_utils.Database]:
    """Run writes that are all rolled back at the end (``eduops jobs run --now``): they see each
    other, so a job's summary says what it would change, and nothing of it stays. It holds the
    write lock meanwhile, as any write does."""
    db.conn.execute("BEGIN IMMEDIATE")
    try:
        yield db
    finally:
        db.conn.execute("ROLLBACK")


def write_last_used(db: sqlite_utils.Database, sql: str, params: list) -> None:
    """Note when something was last used, if the disk lets us: a read must not fail for want of that
    note. A storage fault is left for the writes that matter to report (they answer 503)."""
    try:
        with write(db):
            db.conn.execute(sql, params)
    except sqlite3.Error as exc:
        if storage_fault(exc) is None:
            raise


def storage_fault(exc: BaseException) -> str | None:
    """What is wrong with the storage, if ``exc`` is a storage fault (disk full, I/O error); else None."""
    code = getattr(exc, "sqlite_errorcode", None)
    return STORAGE_FAULTS.get(code & 0xFF) if isinstance(exc, sqlite3.Error) and code is not None else None


class StorageHealth:
    """Whether the hub can write its database, shared by request threads, the ingest writer and /healthz.

    The first storage fault opens an episode and logs one line; later faults only count. The
    episode ends at the next write that succeeds (the ingest writer's commit, or the probe
    /healthz makes while an episode is open), which logs the second line.
    """

    def __init__(self, clock=time.monotonic):
        self._clock = clock
        self._lock = threading.Lock()
        self.errors_total = 0
        self.problem: str | None = None
        self._since = 0.0
        self._refused = 0

    def failed(self, problem: str) -> None:
        with self._lock:
            self.errors_total += 1
            self._refused += 1
            if self.problem is not None:
                return
            self.problem, self._since, self._refused = problem, self._clock(), 1
        log.error("storage fault: %s; writes are refused with 503 until one succeeds", problem)

    def succeeded(self) -> None:
        if self.problem is None:  # the common case, without the lock
            return
        with self._lock:
            if self.problem is None:
                return
            took, refused, self.problem = self._clock() - self._since, self._refused, None
        log.warning("storage recovered after %.0f s; %d writes were refused meanwhile", took, refused)

    def probe(self, db: sqlite_utils.Database) -> None:
        """While an episode is open, try a real write (page 1 of the file) to learn whether it is over."""
        if self.problem is None:
            return
        try:
            with write(db):
                db.conn.execute(f"PRAGMA user_version={schema_version(db)}")
        except sqlite3.Error as exc:
            problem = storage_fault(exc)
            if problem is None:
                raise
            self.failed(problem)
        else:
            self.succeeded()


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
