"""The offline spool: an SQLite outbox where every report is committed before it is sent.

A report leaves the spool only when the hub acknowledges it (accepted or
duplicate) or refuses it for good; until then a crash, a kill or a power cut
at any moment leaves it in place and it is sent again with the same id, which
the hub answers as a duplicate. The spool is bounded by count and bytes: when
full, the oldest reports go first and are counted as dropped.
"""
from __future__ import annotations

import json
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path

# One transaction, so `status` never sees half a schema while `run` creates it.
SCHEMA = """
BEGIN;
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY,        -- the report's sequence number, also the sending order
    id TEXT NOT NULL UNIQUE,
    report TEXT NOT NULL,           -- the report's JSON exactly as it is sent
    bytes INTEGER NOT NULL
);
-- Covers counting, sizing and the overflow scan, so they never read the reports themselves.
CREATE INDEX IF NOT EXISTS outbox_size ON outbox (seq, bytes);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value);
COMMIT;
"""
COUNTERS = ("last_seq", "spooled", "sent", "dropped")
TIMES = ("last_success", "last_attempt", "last_error")

# Delete every report older than the newest one that no longer fits, counting from the newest.
OVERFLOW = """
DELETE FROM outbox WHERE seq <= (
    SELECT seq FROM (
        SELECT seq, count(*) OVER newest AS n, sum(bytes) OVER newest AS b FROM outbox
        WINDOW newest AS (ORDER BY seq DESC ROWS UNBOUNDED PRECEDING))
    WHERE n > :max_reports OR b > :max_bytes ORDER BY seq DESC LIMIT 1)
"""


@dataclass(frozen=True)
class Spooled:
    """A report as it waits in the spool: its JSON text is sent as is, never re-encoded."""
    id: str
    seq: int
    text: str


@dataclass(frozen=True)
class SpoolStatus:
    pending: int
    pending_bytes: int
    spooled: int
    sent: int
    dropped: int
    last_success: str | None
    last_attempt: str | None
    last_error: str | None


class Spool:
    """One agent's outbox; safe to call from several threads, one call at a time."""

    def __init__(self, path: Path, max_reports: int, max_bytes: int):
        self.max_reports = max_reports
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        # FULL: a commit is on disk before the report is sent, even across a power cut.
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute("PRAGMA cache_size=-512")  # 512 KiB: the agent must stay small
        self._db.executescript(SCHEMA)

    def close(self) -> None:
        self._db.close()

    def add(self, report: dict) -> tuple[dict, int]:
        """Commit a new report, giving it the next sequence number; return it as spooled and how
        many old reports were dropped to make room."""
        with self._lock, self._db:
            self._db.execute("BEGIN IMMEDIATE")
            seq = self._counter("last_seq") + 1
            report = {**report, "seq": seq}
            text = json.dumps(report, ensure_ascii=False, separators=(",", ":"))
            self._db.execute("INSERT INTO outbox (seq, id, report, bytes) VALUES (?, ?, ?, ?)",
                             (seq, report["id"], text, len(text.encode())))
            dropped = 0
            count, size = self._db.execute("SELECT count(*), total(bytes) FROM outbox").fetchone()
            if count > self.max_reports or size > self.max_bytes:
                dropped = self._db.execute(OVERFLOW, {"max_reports": self.max_reports,
                                                      "max_bytes": self.max_bytes}).rowcount
            self._bump(last_seq=1, spooled=1, dropped=dropped)
        return report, dropped

    def oldest(self, limit: int) -> list[Spooled]:
        """The next batch to send: the oldest reports, in order."""
        with self._lock:
            rows = self._db.execute("SELECT id, seq, report FROM outbox ORDER BY seq LIMIT ?",
                                    (limit,)).fetchall()
        return [Spooled(*row) for row in rows]

    def acknowledge(self, ids: list[str], when: str) -> int:
        """Remove reports the hub holds (accepted or duplicate); return how many were still spooled."""
        with self._lock, self._db:
            self._db.execute("BEGIN IMMEDIATE")
            removed = self._delete(ids)
            self._bump(sent=removed)
            self._set(last_success=when, last_attempt=when, last_error=None)
        return removed

    def discard(self, ids: list[str]) -> int:
        """Remove reports the hub refused for good; they count as dropped."""
        with self._lock, self._db:
            self._db.execute("BEGIN IMMEDIATE")
            removed = self._delete(ids)
            self._bump(dropped=removed)
        return removed

    def record_failure(self, when: str, error: str) -> None:
        with self._lock, self._db:
            self._db.execute("BEGIN IMMEDIATE")
            self._set(last_attempt=when, last_error=error)

    def status(self) -> SpoolStatus:
        with self._lock:
            return read_status(self._db)

    def _delete(self, ids: list[str]) -> int:
        return sum(self._db.execute("DELETE FROM outbox WHERE id = ?", (i,)).rowcount for i in ids)

    def _counter(self, key: str) -> int:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return int(row[0]) if row else 0

    def _bump(self, **increments: int) -> None:
        for key, n in increments.items():
            if n:
                self._db.execute("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) "
                                 "DO UPDATE SET value = value + excluded.value", (key, n))

    def _set(self, **values: str | None) -> None:
        self._db.executemany("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) "
                             "DO UPDATE SET value = excluded.value", values.items())


def read_status(db: sqlite3.Connection) -> SpoolStatus:
    meta = dict(db.execute("SELECT key, value FROM meta").fetchall())
    pending, size = db.execute("SELECT count(*), total(bytes) FROM outbox").fetchone()
    return SpoolStatus(pending=pending, pending_bytes=int(size),
                       **{k: int(meta.get(k) or 0) for k in COUNTERS if k != "last_seq"},
                       **{k: meta.get(k) for k in TIMES})


def peek_status(path: Path) -> SpoolStatus | None:
    """Read a spool's status without creating or changing it (for `eduops-agent status`); None
    when there is none yet, including while `run` is creating it."""
    if not path.exists():
        return None
    db = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, timeout=10)
    try:
        if db.execute("SELECT count(*) FROM sqlite_master WHERE name = 'meta'").fetchone()[0] == 0:
            return None
        return read_status(db)
    finally:
        db.close()
