"""The hub's scheduled jobs as plain functions of (db, now, parameters, store).

``scheduler/`` imports nothing from ``eduops/``: the storage functions a job needs
come in as ``store`` (the hub passes its storage module), so a job is the rule and
the storage layer keeps every SQL statement. ``run_job`` is the one wrapper every
run goes through, from the scheduler or from ``eduops jobs run``: a failure is
logged with its traceback and counted, and never escapes to kill the scheduler.
"""
from __future__ import annotations

import logging
import time
import traceback
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Protocol

from scheduler.states import AgentClock, StatePolicy, judge

log = logging.getLogger(__name__)


class FleetStore(Protocol):
    """What the fleet jobs need from storage (eduops.fleet.store provides it)."""

    def agents_to_judge(self, db: Any) -> list[AgentClock]: ...
    def record_verdicts(self, db: Any, changes: list[tuple[AgentClock, str]], proposals: list[str],
                        now: datetime) -> int: ...
    def delete_reports_received_before(self, db: Any, cutoff: datetime, limit: int) -> int: ...
    def delete_history_before(self, db: Any, cutoff: datetime) -> int: ...
    def expire_commands(self, db: Any, now: datetime) -> int: ...
    def record_job_run(self, db: Any, name: str, started: datetime, duration_s: float,
                       error: str | None) -> None: ...


def sweep_terminal_states(db: Any, now: datetime, policy: StatePolicy, store: FleetStore) -> dict[str, int]:
    """Move every agent to the state its silence calls for; propose long-silent ones for retirement."""
    changes, proposals = [], []
    for agent in store.agents_to_judge(db):
        verdict = judge(agent, now, policy)
        if verdict.state != agent.state:
            changes.append((agent, verdict.state))
        if verdict.propose_retirement:
            proposals.append(agent.id)
    return {"changed": store.record_verdicts(db, changes, proposals, now), "proposed": len(proposals)}


@dataclass(frozen=True)
class RetentionPolicy:
    raw_reports: timedelta        # raw reports older than this go (agent_days keeps their sum)
    history: timedelta            # state changes and finished commands older than this go
    chunk: int = 10_000           # rows per transaction, so ingest never waits long
    max_chunks: int = 50          # per run, so a run (and a shutdown waiting for it) stays short


def apply_retention(db: Any, now: datetime, policy: RetentionPolicy, store: FleetStore) -> dict[str, int]:
    """Delete raw reports and history past their keeping time, a chunk per transaction."""
    deleted = 0
    for _ in range(policy.max_chunks):
        removed = store.delete_reports_received_before(db, now - policy.raw_reports, policy.chunk)
        deleted += removed
        if removed < policy.chunk:
            break
    return {"reports_deleted": deleted, "history_deleted": store.delete_history_before(db, now - policy.history)}


def expire_commands(db: Any, now: datetime, store: FleetStore) -> dict[str, int]:
    """Pending commands past their expiry are marked expired; agents no longer receive them."""
    return {"expired": store.expire_commands(db, now)}


@dataclass(frozen=True)
class Job:
    name: str
    every: timedelta
    run: Callable[[Any, datetime], dict[str, Any]]   # (db, now) -> a summary for the log


def run_job(job: Job, db: Any, now: datetime, store: FleetStore) -> dict[str, Any] | None:
    """Run one job once: log and count a failure instead of raising; return its summary on success.

    The job sees ``now`` (injected by tests and ``eduops jobs run --now``); the run is
    recorded at the wall-clock time it really happened, so scheduling stays sane.
    """
    ran_at = datetime.now(timezone.utc)
    started = time.perf_counter()
    try:
        summary = job.run(db, now)
    except Exception:  # the top of a job: anything may fail, nothing may escape
        log.exception("job %s failed", job.name)
        error = traceback.format_exc(limit=5)
        summary = None
    else:
        error = None
        log.log(logging.INFO if any(summary.values()) else logging.DEBUG, "job %s: %s", job.name, summary)
    try:
        store.record_job_run(db, job.name, ran_at, time.perf_counter() - started, error)
    except Exception:
        log.exception("could not record the run of job %s", job.name)
    return summary
