"""The hub's scheduled jobs for every area: where they register, where their runs are stored, `eduops jobs`.

``scheduler/`` holds the rules and the runner (``scheduler/runner.py``) and imports
nothing from here; this module hands them each area's storage and the settings.
A new area adds its job with one more ``Job(...)`` line in ``hub_jobs``.
"""
from __future__ import annotations

import functools
from datetime import datetime, timedelta
from typing import Any, Callable

import click
import sqlite_utils

from eduops import db as dbmod
from eduops.bookings import store as bookings_store
from eduops.cli_common import MOMENT_EXAMPLE, Moment, with_db
from eduops.clock import from_iso, local_text, to_iso, utcnow
from eduops.config import Config, parse_leads
from eduops.coverage.snapshots import take_daily_snapshot
from eduops.delivery import notify
from eduops.delivery import recordings as delivery_recordings
from eduops.delivery import store as delivery_store
from eduops.fleet import store
from scheduler import booking_jobs, delivery_jobs, fleet_jobs
from scheduler.fleet_jobs import RetentionPolicy
from scheduler.runner import Job, run_job
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
            functools.partial(fleet_jobs.sweep_terminal_states, policy=state_policy(config), store=store)),
        Job("expire_commands", timedelta(minutes=5), functools.partial(fleet_jobs.expire_commands, store=store)),
        Job("retention", timedelta(minutes=10),
            functools.partial(fleet_jobs.apply_retention, policy=retention, store=store)),
        # Each run rewrites the county-local day's snapshot; the day's last run stands.
        Job("coverage_snapshot", timedelta(hours=1), functools.partial(take_daily_snapshot, config=config)),
        # Every 5 minutes, so an unapproved session frees its slots at most 5 minutes past its deadline.
        Job("expire_pending", timedelta(minutes=5),
            functools.partial(booking_jobs.expire_pending, deadline=timedelta(hours=config.approval_deadline_h),
                              store=bookings_store)),
        Job("finish_sessions", timedelta(minutes=1),
            functools.partial(booking_jobs.finish_sessions, store=bookings_store)),
        # Every minute, so a T-10 check is never more than a minute late.
        Job("readiness", timedelta(minutes=1), functools.partial(
            delivery_jobs.check_readiness, leads_minutes=parse_leads(config.readiness_leads_minutes),
            wifi_min_dbm=config.coverage_wifi_min_dbm, store=delivery_store)),
        Job("delivery", timedelta(minutes=5), functools.partial(
            delivery_jobs.record_deliveries, reports_kept=timedelta(days=config.raw_report_days),
            store=delivery_store)),
        Job("notify", timedelta(minutes=1), functools.partial(
            delivery_jobs.queue_notifications, notify=notify, recordings=delivery_recordings)),
        Job("notify_send", timedelta(seconds=30), functools.partial(
            delivery_jobs.send_notifications, retry_base=timedelta(seconds=config.notify_retry_base_s),
            max_attempts=config.notify_max_attempts, tz=config.timezone, store=notify)),
    ]


def job_service(config: Config, clock: Callable[[], datetime] = utcnow) -> JobService:
    """The server.Service that runs the hub's jobs for as long as the hub serves, on the hub's clock."""

    def run_now(job: Job) -> dict[str, Any] | None:
        database = dbmod.connect(config.db_path)  # one connection per run: runs happen on the scheduler's threads
        try:
            return run_job(job, database, clock(), record_job_run, known_fault=dbmod.storage_fault)
        finally:
            database.conn.close()

    database = dbmod.connect(config.db_path)
    try:
        last_success = last_job_successes(database)
    finally:
        database.conn.close()
    return JobService(hub_jobs(config), run_now, last_success, clock)


# Storage of job runs: one row per job name with its last outcome and counts.

def record_job_run(db: sqlite_utils.Database, name: str, ran_at: datetime, duration_s: float,
                   error: str | None) -> None:
    at = to_iso(ran_at)
    with dbmod.write(db):
        db.execute(
            "INSERT INTO job_runs (name, last_started_at, last_success_at, last_failure_at, last_error, "
            " last_duration_s, runs, failures) VALUES (?1, ?2, ?3, ?4, ?5, ?6, 1, ?7) "
            "ON CONFLICT(name) DO UPDATE SET last_started_at = ?2, last_duration_s = ?6, runs = runs + 1, "
            " last_success_at = coalesce(?3, last_success_at), last_failure_at = coalesce(?4, last_failure_at), "
            " last_error = coalesce(?5, last_error), failures = failures + ?7",
            [name, at, None if error else at, at if error else None, error, duration_s, int(bool(error))])


def job_runs(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    return list(db.query("SELECT * FROM job_runs ORDER BY name"))


def last_job_successes(db: sqlite_utils.Database) -> dict[str, datetime]:
    return {name: from_iso(at) for name, at in
            db.execute("SELECT name, last_success_at FROM job_runs WHERE last_success_at IS NOT NULL")}


@click.group("jobs")
def jobs_group() -> None:
    """The hub's scheduled jobs (state sweep, command expiry, retention, coverage snapshot, session expiry and
    finishing, readiness, delivery, notifications): run one now, or see their runs.

    Example: eduops jobs run sweep --db /var/lib/eduops/eduops.db
    """


@jobs_group.command("run")
@click.argument("name")
@click.option("--now", "now", type=Moment(), help="Rehearse the job as if it were this time: print what it would "
              "change and write nothing (default: run it for real at the real time); the offset is required. "
              f"Example: --now {MOMENT_EXAMPLE}")
@click.option("--write", is_flag=True, help="With --now, write what the job does at that time instead of "
              "rehearsing it (test drills only: a sweep or expiry in the future leaves future-dated state behind).")
@with_db
def run(config: Config, database, name: str, now: datetime | None, write: bool) -> None:
    """Run one job once against the database, as the running hub would; with --now, only rehearse it.

    Example: eduops jobs run sweep --now 2026-11-30T08:00:00+08:00 --db eduops.db
    """
    found = {job.name: job for job in hub_jobs(config)}
    if name not in found:
        raise click.BadParameter(f"unknown job {name!r}; jobs: {', '.join(found)}", param_hint="NAME")
    if write and now is None:
        raise click.UsageError("--write goes with --now (without --now the job runs and writes at the real time)")
    if now is not None and not write:
        with dbmod.rehearsal(database):
            summary = run_job(found[name], database, now, record_job_run, known_fault=dbmod.storage_fault)
    else:
        summary = run_job(found[name], database, now or utcnow(), record_job_run, known_fault=dbmod.storage_fault)
    if summary is None:
        raise click.ClickException(f"job {name} failed; the log above says why")
    said = ", ".join(f"{k} {v}" for k, v in summary.items())
    if now is not None and not write:
        click.echo(f"{name} at {to_iso(now)} would do: {said}; nothing was written (rehearsal)")
    else:
        click.echo(f"{name}: {said}")


@jobs_group.command("list")
@with_db
def list_jobs(config: Config, database) -> None:
    """Each job's interval, last success, runs and failures.

    Example: eduops jobs list --db eduops.db
    """
    runs = {r["name"]: r for r in job_runs(database)}
    for job in hub_jobs(config):
        r = runs.get(job.name, {})
        click.echo(f"{job.name:<18} every {job.every.total_seconds():>5.0f}s  last success "
                   f"{local_text(r.get('last_success_at'), config.timezone)}  runs {r.get('runs', 0)}  "
                   f"failures {r.get('failures', 0)}" + (f"  last error at {local_text(r['last_failure_at'], config.timezone)}"
                                                         if r.get("last_failure_at") else ""))

