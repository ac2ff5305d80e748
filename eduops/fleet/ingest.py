"""Report ingest with group commit.

Request threads validate a batch and hand it to the one writer thread, then wait.
The writer takes everything queued, records it in one ``BEGIN IMMEDIATE``
transaction, commits (with a full fsync: an acknowledged report must survive a
power cut, and one fsync per group keeps that affordable), and only then wakes
the waiting requests. A submission that fails cannot take the others with it: the
group is then recorded again with a savepoint for each. Per-report work is a handful of
primary-key or unique-index operations: it does not grow with the number of
terminals or the age of the database.

Over 300 lines because the writer is one piece: which statements a batch costs
(record_submission) and how a group runs them (write_group, record_alone) are
tuned together, since under load each statement costs the writer a wait for the
interpreter lock (docs/fleet.md).
"""
from __future__ import annotations

import logging
import queue
import sqlite3
import threading
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Callable, Iterator

import sqlite_utils

from eduops import county
from eduops import db as dbmod
from eduops.clock import local_day, to_iso
from eduops.delivery import recordings
from eduops.fleet import agents, commands
from eduops.fleet.agents import Identity
from eduops.fleet.protocol import ReportBatch

log = logging.getLogger(__name__)

MAX_GROUP = 256          # submissions per transaction: bounds how long the write lock is held
MAX_QUEUED = 2000        # beyond this the hub answers 503 busy at once instead of queueing


class BusyError(Exception):
    """The writer is too far behind; the agent should retry after a while."""


@dataclass(frozen=True)
class ReportRow:
    uuid: str
    seq: int
    agent_time: str
    report_at: str
    day: str
    wired_up: int
    wifi_ssid: str | None
    wifi_dbm: int | None
    body: str
    recordings: tuple[tuple[str, str, str | None, str | None], ...] = ()   # a recorder agent's only


def report_rows(batch: ReportBatch, now: datetime, tz: str) -> tuple[list[ReportRow], float]:
    """The batch's reports with skew-corrected times, and the agent's clock skew in seconds.

    Skew is the hub clock minus the agent clock at sending. A report's time is its
    agent time corrected by that skew, never later than now (an agent clock that
    stepped back between making and sending a report must not date it in the future).
    """
    skew = now - batch.sent_at
    rows = []
    for report in batch.reports:
        at = min(report.agent_time + skew, now)
        net = report.body.network
        wifi = net.wifi if net.wifi and net.wifi.ssid else None
        rows.append(ReportRow(
            str(report.id), report.seq, to_iso(report.agent_time), to_iso(at), local_day(at, tz),
            int(any(i.kind == "wired" and i.link_up for i in net.interfaces)),
            wifi.ssid if wifi else None,
            round(wifi.signal_dbm) if wifi and wifi.signal_dbm is not None else None,
            report.body.model_dump_json(),
            tuple((r.session_id, r.state, r.reason, r.at and to_iso(r.at)) for r in report.body.recordings)))
    return rows, skew.total_seconds()


def _held_lock() -> threading.Lock:
    # A lock the writer releases is the cheapest one-shot signal (an Event is a Condition and two locks
    # in Python, made and waited on for every report).
    lock = threading.Lock()
    lock.acquire()
    return lock


@dataclass
class Submission:
    identity: Identity
    rows: list[ReportRow]
    skew_s: float
    now: datetime
    move_to_room: str | None = None
    # Filled in by the writer:
    done: threading.Lock = field(default_factory=_held_lock)  # released once recorded
    statuses: list[str] = field(default_factory=list)
    commands: list[dict] = field(default_factory=list)
    key_revoked: bool = False
    failed: str | None = None             # why it was not recorded
    storage_problem: str | None = None    # ... when that was a storage fault (disk full)


def record_submission(db: sqlite_utils.Database, sub: Submission) -> None:
    """Record one batch inside the writer's transaction (see the module docstring)."""
    conn = db.conn
    at = to_iso(sub.now)
    # The agent's row is updated and read back in one statement, the pending commands looked up in it
    # too: each statement gives the interpreter lock away and the writer waits behind the request
    # threads to get it back, which was most of a group's time (docs/fleet.md).
    row = conn.execute(
        "UPDATE agents SET last_report_at = max(coalesce(last_report_at, ''), ?2), last_contact_at = ?1,"
        " last_seq = max(coalesce(last_seq, -1), ?3), clock_skew_s = ?4, clock_skew_at = ?1,"
        " retire_proposed_at = NULL WHERE id = ?5 AND key_hash = ?6"
        " RETURNING state, room_code, (SELECT wifi_ssid FROM schools WHERE code = agents.school_code),"
        " EXISTS (SELECT 1 FROM commands WHERE agent_id = agents.id AND status = 'pending')",
        [at, max(r.report_at for r in sub.rows), max(r.seq for r in sub.rows), sub.skew_s, sub.identity.id,
         sub.identity.key_hash]).fetchone()
    if row is None:  # revoked since the key was looked up: the cache never outvotes the database
        sub.key_revoked = True
        return
    state, room, ssids, has_commands = row
    if state != "online":
        conn.execute("INSERT INTO agent_states (agent_id, from_state, to_state, at, reason) "
                     "VALUES (?, ?, 'online', ?, 'reported')", [sub.identity.id, state, at])
        # Apart from the every-report UPDATE above: setting state there, even unchanged, would make
        # SQLite rewrite the entries of the two indexes on it (agents_school, agents_retired) each time.
        conn.execute("UPDATE agents SET state = 'online', state_since = ? WHERE id = ?", [at, sub.identity.id])
    if sub.move_to_room:
        agents.move_agent(db, sub.identity.id, sub.move_to_room)
    room = sub.move_to_room or room  # the batch's reports were made where the agent is now
    school_ssids = county.school_ssids(ssids)
    for r in sub.rows:
        inserted = conn.execute(
            "INSERT INTO reports (uuid, agent_id, seq, agent_time, report_at, received_at, body) "
            "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(uuid) DO NOTHING",
            [r.uuid, sub.identity.id, r.seq, r.agent_time, r.report_at, at, r.body]).rowcount
        sub.statuses.append("accepted" if inserted else "duplicate")
        if inserted:
            conn.execute(ROLLUP, [sub.identity.id, r.day, room, r.report_at, r.wired_up, r.wifi_ssid, r.wifi_dbm,
                                  int(r.wifi_ssid in school_ssids)])
        if inserted and r.recordings:
            recordings.record_recordings(db, sub.identity.id, r.report_at, r.recordings)
    if has_commands:
        sub.commands = commands.deliver_pending(db, sub.identity.id, at)


# The rollup per agent, day and room, kept in step with every accepted report (coverage reads it):
# how many reports and when the first came, the wired link, the day's strongest network (for the
# fleet pages), and apart from it the school's own networks (a stronger phone hotspot hides nothing).
# Triggers carry what changes of it into coverage's room rollups (migration 0010, room_days.py).
# ?1 agent, ?2 day, ?3 room, ?4 report time, ?5 wired up, ?6 SSID, ?7 dBm, ?8 one of the school's SSIDs.
ROLLUP = """
INSERT INTO agent_days (agent_id, day, room_code, reports, first_report_at, wired_up_reports, first_wired_at,
                        wifi_ssid, wifi_best_dbm, school_wifi_reports, school_wifi_best_dbm, first_school_wifi_at)
VALUES (?1, ?2, ?3, 1, ?4, ?5, CASE WHEN ?5 THEN ?4 END, ?6, ?7, ?8, CASE WHEN ?8 THEN ?7 END, CASE WHEN ?8 THEN ?4 END)
ON CONFLICT(room_code, day, agent_id) DO UPDATE SET
    reports = reports + 1,
    first_report_at = min(first_report_at, excluded.first_report_at),
    wired_up_reports = wired_up_reports + excluded.wired_up_reports,
    first_wired_at = coalesce(min(first_wired_at, excluded.first_wired_at), first_wired_at, excluded.first_wired_at),
    wifi_ssid = CASE WHEN excluded.wifi_ssid IS NOT NULL AND (wifi_ssid IS NULL OR
                     (excluded.wifi_best_dbm IS NOT NULL AND (wifi_best_dbm IS NULL OR excluded.wifi_best_dbm > wifi_best_dbm)))
                THEN excluded.wifi_ssid ELSE wifi_ssid END,
    wifi_best_dbm = CASE WHEN excluded.wifi_ssid IS NOT NULL AND (wifi_ssid IS NULL OR
                     (excluded.wifi_best_dbm IS NOT NULL AND (wifi_best_dbm IS NULL OR excluded.wifi_best_dbm > wifi_best_dbm)))
                THEN excluded.wifi_best_dbm ELSE wifi_best_dbm END,
    school_wifi_reports = school_wifi_reports + excluded.school_wifi_reports,
    school_wifi_best_dbm = max(coalesce(school_wifi_best_dbm, excluded.school_wifi_best_dbm),
                               coalesce(excluded.school_wifi_best_dbm, school_wifi_best_dbm)),
    first_school_wifi_at = coalesce(min(first_school_wifi_at, excluded.first_school_wifi_at),
                                    first_school_wifi_at, excluded.first_school_wifi_at)
"""


def add_counts(db: sqlite_utils.Database, counts: Counter[str]) -> None:
    db.conn.executemany("INSERT INTO ingest_counts (outcome, count) VALUES (?, ?) "
                        "ON CONFLICT(outcome) DO UPDATE SET count = count + excluded.count", list(counts.items()))


def _growing(group: list[Submission], more: Callable[[], Submission | None]) -> Iterator[Submission]:
    """The group's batches, then those that arrive while it is written (appended to it), until none waits."""
    i = 0
    while True:
        if i == len(group):
            arrived = more() if len(group) < MAX_GROUP else None
            if arrived is None:
                return
            group.append(arrived)
        yield group[i]
        i += 1


def record_alone(db: sqlite_utils.Database, sub: Submission) -> None:
    """Record one batch under its own savepoint, so that if it fails it is marked failed alone."""
    sub.statuses, sub.commands, sub.key_revoked = [], [], False  # what an undone attempt may have left
    db.conn.execute("SAVEPOINT submission")
    try:
        record_submission(db, sub)
    except sqlite3.Error as exc:
        if dbmod.storage_fault(exc):
            raise
        log.exception("could not record a batch of agent %s", sub.identity.id)
        db.conn.execute("ROLLBACK TO submission")
        sub.statuses, sub.failed = [], "the hub could not record the reports"
    db.conn.execute("RELEASE submission")


def write_group(db: sqlite_utils.Database, group: list[Submission], rejected: Counter[str],
                health: dbmod.StorageHealth, more: Callable[[], Submission | None] = lambda: None) -> bool:
    """Record a group of batches and the rejection counts in one transaction, then wake every waiter.

    Batches that arrive meanwhile (``more``) join the group until none waits: the commit's fsync is the
    writer's main cost, so the fewer commits the better, and a batch that arrived is better served by
    this commit than by the next. A batch that fails is marked failed alone: the group is undone and
    recorded again with a savepoint per batch (``record_alone``). Not every time: each statement costs
    the writer a wait for the interpreter lock, and checked input makes failing batches rare. Returns
    False if the transaction as a whole could not be committed (every batch failed); a
    storage fault (disk full) fails the whole group, since SQLite has dropped the transaction.
    """
    committed = True
    try:
        with dbmod.write(db):
            db.conn.execute("SAVEPOINT grouped")
            try:
                for sub in _growing(group, more):
                    record_submission(db, sub)
            except sqlite3.Error as exc:
                if dbmod.storage_fault(exc):
                    raise
                db.conn.execute("ROLLBACK TO grouped")
                for sub in group:
                    record_alone(db, sub)
            db.conn.execute("RELEASE grouped")
            add_counts(db, Counter(rejected) + Counter(s for sub in group for s in sub.statuses))
    except sqlite3.Error as exc:
        problem = dbmod.storage_fault(exc)
        if problem:
            health.failed(problem)  # one log line per episode, not one per group
        else:
            log.exception("could not commit %d batches of reports", len(group))
        committed = False
        for sub in group:
            sub.failed, sub.storage_problem = "the hub could not record the reports", problem
    else:
        health.succeeded()
    for sub in group:
        sub.done.release()
    return committed


class IngestWriter:
    """The one thread that writes reports; started on first use, a daemon so it never holds up exit
    (a transaction cut short by exit is rolled back whole by SQLite, and nothing in it was acknowledged)."""

    def __init__(self, db_path: Path, health: dbmod.StorageHealth, synchronous: str = "FULL"):
        self.db_path = db_path
        self.health = health
        # FULL: an acknowledged report survives a power cut (the group commit pays one fsync for
        # many reports). Only bench/ingest.py asks for NORMAL, to measure what FULL costs.
        self.synchronous = synchronous
        self._queue: queue.Queue[Submission] = queue.Queue()
        self._counts: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def submit(self, sub: Submission, timeout_s: float) -> None:
        """Queue a batch and wait until it is committed; BusyError if that cannot happen in time."""
        self._start_once()
        if self._queue.qsize() >= MAX_QUEUED:
            raise BusyError("the hub is writing a backlog of reports")
        self._queue.put(sub)
        if not sub.done.acquire(timeout=timeout_s):
            raise BusyError("the hub could not record the reports in time")
        if sub.failed:
            raise BusyError(sub.failed)

    def count(self, outcome: str) -> None:
        """Add to a counter in ingest_counts with the next transaction (rejections happen outside it)."""
        self._start_once()
        with self._lock:
            self._counts[outcome] += 1

    def _start_once(self) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="eduops-ingest", daemon=True)
                self._thread.start()

    def _waiting(self) -> Submission | None:
        try:
            return self._queue.get_nowait()
        except queue.Empty:
            return None

    def _take_counts(self) -> Counter[str]:
        with self._lock:
            counts, self._counts = self._counts, Counter()
        return counts

    def _run(self) -> None:
        db = dbmod.connect(self.db_path)
        db.conn.execute(f"PRAGMA synchronous={self.synchronous}")
        self.synchronous_level = db.conn.execute("PRAGMA synchronous").fetchone()[0]
        while True:
            try:
                group = [self._queue.get(timeout=1.0)]
            except queue.Empty:
                group = []
            rejected = self._take_counts()
            if (group or rejected) and not write_group(db, group, rejected, self.health, self._waiting):
                with self._lock:  # keep the rejections for the next transaction
                    self._counts.update(rejected)
