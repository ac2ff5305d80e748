"""Run the hub's jobs on their intervals inside the hub process, with APScheduler 3.

The hub is one process, so each job runs exactly once per interval. When a job
first runs is derived from the database at start-up (its last success), so a
restart neither skips a due job nor runs a fresh one again at once.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone
from typing import Callable, Mapping

from apscheduler.schedulers.background import BackgroundScheduler

from scheduler.runner import Job


def first_run(every: timedelta, last_success: datetime | None, now: datetime) -> datetime:
    """Due one interval after the last success, never in the past, never more than an interval away."""
    if last_success is None:
        return now
    return min(max(last_success + every, now), now + every)


class JobService:
    """A server.Service: starts with the hub, stops with it, waiting for a running job to finish."""

    def __init__(self, jobs: list[Job], run: Callable[[Job], object],
                 last_success: Mapping[str, datetime], now: Callable[[], datetime]):
        self.jobs = jobs
        self.run = run
        self.last_success = last_success
        self.now = now
        # coalesce: after a pause, run once, not once per missed interval;
        # max_instances=1: a slow run is never overlapped by the next one.
        self._scheduler = BackgroundScheduler(timezone=timezone.utc, job_defaults={
            "coalesce": True, "max_instances": 1, "misfire_grace_time": None})

    def start(self) -> None:
        # APScheduler logs every run at INFO; run_job already logs what matters.
        logging.getLogger("apscheduler").setLevel(logging.WARNING)
        now = self.now()
        for job in self.jobs:
            self._scheduler.add_job(self.run, "interval", args=[job], id=job.name, name=job.name,
                                    seconds=job.every.total_seconds(),
                                    next_run_time=first_run(job.every, self.last_success.get(job.name), now))
        self._scheduler.start()

    def stop(self) -> None:
        if self._scheduler.running:
            self._scheduler.shutdown(wait=True)

