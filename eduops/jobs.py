"""The hub's scheduled jobs, bound to this hub's configuration and storage.

``scheduler/`` holds the rules and the runner and imports nothing from here;
this module hands them the fleet storage and the settings. Another area adds
its job with one more ``Job(...)`` line in ``hub_jobs``.
"""
from __future__ import annotations

import functools
from datetime import timedelta
from typing import Any

from eduops import db as dbmod
from eduops.clock import utcnow
from eduops.bookings import store as bookings_store
from eduops.config import Config, parse_leads
from eduops.coverage.snapshots import take_daily_snapshot
from eduops.delivery import notify
from eduops.delivery import store as delivery_store
from eduops.fleet import store
from scheduler import bookings, delivery_jobs, jobs
from scheduler.jobs import Job, RetentionPolicy
from scheduler.service import JobService
from scheduler.states import StatePolicy
from scheduler.timetable import Timetable


def state_policy(config: Config) -> StatePolicy:
    return StatePolicy(interval_s=config.report_interval_s, jitter=config.report_jitter,
                       offline_after_missed=config.offline_after_missed,
                       retire_after=timedelta(days=config.retire_after_days),
                       timetable=Timetable.parse(config.timezone, config.class_hours, config.school_days,
                                                 config.holidays))


def hub_jobs(config: Config) -> list[Job]:
    retention = RetentionPolicy(raw_reports=timedelta(days=config.raw_report_days),
                                history=timedelta(days=config.history_days))
    return [
        # Twice per report interval, so a state is never more than half an interval late.
        Job("sweep", timedelta(seconds=config.report_interval_s / 2),
            functools.partial(jobs.sweep_terminal_states, policy=state_policy(config), store=store)),
        Job("expire_commands", timedelta(minutes=5), functools.partial(jobs.expire_commands, store=store)),
        Job("retention", timedelta(minutes=10),
            functools.partial(jobs.apply_retention, policy=retention, store=store)),
        # Each run rewrites the county-local day's snapshot; the day's last run stands.
        Job("coverage_snapshot", timedelta(hours=1), functools.partial(take_daily_snapshot, config=config)),
        # Every 5 minutes, so an unapproved session frees its slots at most 5 minutes past its deadline.
        Job("expire_pending", timedelta(minutes=5),
            functools.partial(bookings.expire_pending, deadline=timedelta(hours=config.approval_deadline_h),
                              store=bookings_store)),
        Job("finish_sessions", timedelta(minutes=1),
            functools.partial(bookings.finish_sessions, store=bookings_store)),
        # Every minute, so a T-10 check is never more than a minute late.
        Job("readiness", timedelta(minutes=1), functools.partial(
            delivery_jobs.check_readiness, leads_minutes=parse_leads(config.readiness_leads_minutes),
            wifi_min_dbm=config.coverage_wifi_min_dbm, store=delivery_store)),
        Job("delivery", timedelta(minutes=5), functools.partial(
            delivery_jobs.record_deliveries, reports_kept=timedelta(days=config.raw_report_days),
            store=delivery_store)),
        Job("notify", timedelta(minutes=1), functools.partial(
            delivery_jobs.queue_notifications, notify=notify, store=delivery_store)),
        Job("notify_send", timedelta(seconds=30), functools.partial(
            delivery_jobs.send_notifications, retry_base=timedelta(seconds=config.notify_retry_base_s),
            max_attempts=config.notify_max_attempts, tz=config.timezone, store=notify)),
    ]


def job_service(config: Config) -> JobService:
    """The server.Service that runs the hub's jobs for as long as the hub serves."""

    def run_now(job: Job) -> dict[str, Any] | None:
        database = dbmod.connect(config.db_path)  # one connection per run: runs happen on the scheduler's threads
        try:
            return jobs.run_job(job, database, utcnow(), store)
        finally:
            database.conn.close()

    database = dbmod.connect(config.db_path)
    try:
        last_success = store.last_job_successes(database)
    finally:
        database.conn.close()
    return JobService(hub_jobs(config), run_now, last_success, utcnow)
