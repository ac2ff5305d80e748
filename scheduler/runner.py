"""The one wrapper every job run goes through, for every area's jobs.

A job is a plain function of (db, now) returning a summary; the hub binds each
area's jobs in ``eduops/jobs.py``. ``run_job`` is used by the scheduler and by
``eduops jobs run``: a failure is logged with its traceback and counted, and
never escapes to kill the scheduler. A failure the caller already knows by name
(``known_fault``: a full disk, say) is logged as one line without a traceback. Like the rest of ``scheduler/`` it imports
nothing from ``eduops`` or flask: the run is recorded through ``record_run``.
"""
from __future__ import annotations

import logging
import time
import traceback
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

log = logging.getLogger(__name__)

# (db, name, ran_at, duration_s, error or None): stores one run's outcome.
RecordRun = Callable[[Any, str, datetime, float, "str | None"], None]


@dataclass(frozen=True)
class Job:
    name: str
    every: timedelta
    run: Callable[[Any, datetime], dict[str, Any]]   # (db, now) -> a summary for the log


def run_job(job: Job, db: Any, now: datetime, record_run: RecordRun,
            known_fault: Callable[[BaseException], "str | None"] = lambda exc: None) -> dict[str, Any] | None:
    """Run one job once: log and count a failure instead of raising; return its summary on success.

    The job sees ``now`` (injected by tests and ``eduops jobs run --now``); the run is
    recorded at the wall-clock time it really happened, so scheduling stays sane.
    """
    ran_at = datetime.now(timezone.utc)
    started = time.perf_counter()
    try:
        summary = job.run(db, now)
    except Exception as exc:  # the top of a job: anything may fail, nothing may escape
        _log_failure(f"job {job.name} failed", exc, known_fault)
        error = traceback.format_exc(limit=5)
        summary = None
    else:
        error = None
        log.log(logging.INFO if any(summary.values()) else logging.DEBUG, "job %s: %s", job.name, summary)
    try:
        record_run(db, job.name, ran_at, time.perf_counter() - started, error)
    except Exception as exc:
        _log_failure(f"could not record the run of job {job.name}", exc, known_fault)
    return summary


def _log_failure(what: str, exc: BaseException, known_fault: Callable[[BaseException], "str | None"]) -> None:
    reason = known_fault(exc)
    if reason is None:
        log.error("%s", what, exc_info=exc)
    else:
        log.error("%s: %s; it runs again on schedule", what, reason)
