"""Prometheus metrics: built fresh at scrape time from the database, the source of truth.

Each section is a function ``(db) -> iterable of metric families``; a section
that fails (a missing table, a locked file) is left out of that scrape and
counted, so the rest of the scrape still answers. The registry belongs to the
app, not the module.
"""
from __future__ import annotations

import logging
import sqlite3
import time
from collections import Counter
from datetime import datetime, timedelta
from typing import Callable, Iterable, Iterator

import sqlite_utils
from flask import Blueprint, Flask, Response, current_app
from prometheus_client import (CONTENT_TYPE_LATEST, CollectorRegistry, Histogram, disable_created_metrics,
                               generate_latest)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from eduops import __version__, county
from eduops.clock import from_iso
from eduops.coverage import figures, gaps, report
from eduops.delivery import notify
from eduops.delivery import recordings as delivery_recordings
from eduops.delivery import store as delivery_store
from eduops.fleet import store
from eduops.jobs import hub_jobs, job_runs
from eduops import db as dbmod
from eduops.config import Config
from scheduler import bookings

log = logging.getLogger(__name__)

Section = Callable[[sqlite_utils.Database, Config, datetime], Iterable[Metric]]


def inventory_section(db: sqlite_utils.Database, config: Config, now: datetime) -> Iterator[Metric]:
    """The county's inventory by area: what measure nine is measured against."""
    schools = GaugeMetricFamily("eduops_inventory_schools", "Schools in the inventory.", labels=["area"])
    classes = GaugeMetricFamily("eduops_inventory_classes", "Classes in the inventory.", labels=["area"])
    for area in county.area_summary(db):
        schools.add_metric([area["code"]], area["schools"])
        classes.add_metric([area["code"]], area["classes"])
    terminals = GaugeMetricFamily("eduops_inventory_terminals", "Teaching terminals in the inventory.",
                                  labels=["area", "kind"])
    for area, kind, count in county.terminals_by_area_and_kind(db):
        terminals.add_metric([area, kind], count)
    return iter((schools, classes, terminals))


def coverage_section(db: sqlite_utils.Database, config: Config, now: datetime) -> Iterator[Metric]:
    """Measure nine by area: counts (which add up across counties) and ratios, gaps, disagreements."""
    rep = report.load(db, config, now, None)
    labels = ["area", "kind", "source"]
    covered = {"class": GaugeMetricFamily("eduops_coverage_classes", "Classes meeting a measure of the goal.", labels=labels),
               "school": GaugeMetricFamily("eduops_coverage_schools", "Schools meeting a measure of the goal.", labels=labels)}
    ratio = GaugeMetricFamily("eduops_coverage_ratio", "Share of classes or schools meeting a measure (goal: 1).",
                              labels=["area", "level", "kind", "source"])
    for area in rep.areas:
        counts = rep.totals[("area", area["code"])]
        for measure in figures.MEASURES:
            level, kind = measure.split("_")
            whole = counts["classes" if level == "class" else "schools"]
            for source in figures.BASES:
                part = counts[f"{measure}_{source}"]
                covered[level].add_metric([area["code"], kind, source], part)
                if whole:
                    ratio.add_metric([area["code"], level, kind, source], part / whole)
    gap_count: Counter[tuple[str, str, str, str]] = Counter()
    for (area, level, missing), count in gaps.gap_kinds(rep.schools, rep.rooms, rep.classes, rep.observed).items():
        for measure, status in missing:
            gap_count[(area, level, measure.split("_")[1], status)] += count
    gaps_family = GaugeMetricFamily("eduops_coverage_gaps", "Classes or schools short of a measure, "
                                    "by whether the inventory claims it (unobserved) or not (missing).",
                                    labels=["area", "level", "kind", "status"])
    for (area, level, kind, status), count in sorted(gap_count.items()):
        gaps_family.add_metric([area, level, kind, status], count)
    disagree = Counter((d.school.area_code, d.kind) for d in report.disagreements(db, rep))
    disagreements = GaugeMetricFamily("eduops_coverage_disagreements",
                                      "Places where the inventory and the agents disagree.", labels=["area", "kind"])
    for area in rep.areas:
        for kind in gaps.DISAGREEMENTS:
            disagreements.add_metric([area["code"], kind], disagree[(area["code"], kind)])
    return iter((*covered.values(), ratio, gaps_family, disagreements))


def fleet_section(db: sqlite_utils.Database, config: Config, now: datetime) -> Iterator[Metric]:
    """Terminals by state, ingest outcomes, clock skew, broadcast rooms, duplicate hardware."""
    by_school = GaugeMetricFamily("eduops_school_terminals", "Terminals with an agent per school, by state.",
                                  labels=["school", "state"])
    in_area: Counter[tuple[str, str]] = Counter()
    for area, school, state, count in store.agents_by_school_and_state(db):
        by_school.add_metric([school, state], count)
        in_area[(area, state)] += count
    by_area = GaugeMetricFamily("eduops_terminals", "Terminals with an agent, by state.", labels=["area", "state"])
    for (area, state), count in sorted(in_area.items()):
        by_area.add_metric([area, state], count)
    counts = store.ingest_counts(db)
    accepted = CounterMetricFamily("eduops_reports", "Agent reports accepted and stored.")
    accepted.add_metric([], counts.get("accepted", 0))
    duplicate = CounterMetricFamily("eduops_reports_duplicate", "Agent reports answered as duplicates "
                                    "(already stored; the agent had resent them).")
    duplicate.add_metric([], counts.get("duplicate", 0))
    rejected = CounterMetricFamily("eduops_reports_rejected", "Report batches refused, by error code.",
                                   labels=["reason"])
    for outcome, count in sorted(counts.items()):
        if outcome.startswith("rejected:"):
            rejected.add_metric([outcome.removeprefix("rejected:")], count)
    skewed = GaugeMetricFamily("eduops_agents_clock_skewed", "Agents whose clock is off by more than "
                               "clock_skew_warn_s.", labels=["area"])
    worst = GaugeMetricFamily("eduops_agent_clock_skew_max_seconds", "Largest clock skew of an agent in service.",
                              labels=["area"])
    for area, count, largest in store.clock_skew_by_area(db, config.clock_skew_warn_s):
        skewed.add_metric([area], count)
        worst.add_metric([area], largest)
    rooms = GaugeMetricFamily("eduops_broadcast_rooms", "Broadcast rooms (互动直录播教室) in the inventory.",
                              labels=["area"])
    ready = GaugeMetricFamily("eduops_broadcast_rooms_online", "Broadcast rooms with an agent online now.",
                              labels=["area"])
    for area, count, online in store.broadcast_rooms_by_area(db):
        rooms.add_metric([area], count)
        ready.add_metric([area], online)
    flags = GaugeMetricFamily("eduops_hardware_flags", "Claims of the same hardware by several agents "
                              "(cloned disk images), for IT staff to sort out.")
    flags.add_metric([], store.hardware_flag_count(db))
    families = [by_area, by_school, accepted, duplicate, rejected, skewed, worst, rooms, ready, flags]
    if config.metrics_per_terminal:
        last = GaugeMetricFamily("eduops_terminal_last_report_timestamp_seconds",
                                 "When each terminal last reported.", labels=["agent", "school", "room"])
        for agent, school, room, at in store.agent_last_reports(db):
            if at:
                last.add_metric([agent, school, room], from_iso(at).timestamp())
        families.append(last)
    return iter(families)


def jobs_section(db: sqlite_utils.Database, config: Config, now: datetime) -> Iterator[Metric]:
    """Each scheduled job's interval, last success and failures, from the job runs table."""
    interval = GaugeMetricFamily("eduops_job_interval_seconds", "How often each job is meant to run.",
                                 labels=["job_name"])
    for job in hub_jobs(config):
        interval.add_metric([job.name], job.every.total_seconds())
    success = GaugeMetricFamily("eduops_job_last_success_timestamp_seconds", "When each job last succeeded.",
                                labels=["job_name"])
    runs = CounterMetricFamily("eduops_job_runs", "Runs of each job.", labels=["job_name"])
    failures = CounterMetricFamily("eduops_job_failures", "Failed runs of each job.", labels=["job_name"])
    for run in job_runs(db):
        if run["last_success_at"]:
            success.add_metric([run["name"]], from_iso(run["last_success_at"]).timestamp())
        runs.add_metric([run["name"]], run["runs"])
        failures.add_metric([run["name"]], run["failures"])
    return iter((interval, success, runs, failures))


def delivery_section(db: sqlite_utils.Database, config: Config, now: datetime) -> Iterator[Metric]:
    """Sky classroom delivery: sessions by state, readiness of the next half hour, what was delivered,
    recordings, robot messages. Every label value is always exported, so an alert can tell 0 from none."""
    sessions = GaugeMetricFamily("eduops_sessions", "Sky classroom sessions by kind and state.",
                                 labels=["kind", "state"])
    counted = {(k, s): n for k, s, n in delivery_store.sessions_by_kind_and_state(db)}
    for kind in bookings.KINDS:
        for state in bookings.STATES:
            sessions.add_metric([kind, state], counted.get((kind, state), 0))
    receivers = GaugeMetricFamily("eduops_session_receivers", "Receiving rooms of sessions starting within 30 "
                                  "minutes, by their newest readiness check (yes, no, unchecked).", labels=["ready"])
    for ready, count in delivery_store.upcoming_receiver_readiness(db, now, timedelta(minutes=30)).items():
        receivers.add_metric([ready], count)
    held = CounterMetricFamily("eduops_sessions_held", "Sessions held (by the host's area).", labels=["area", "kind"])
    # Seconds, not hours: Prometheus names carry base units (promtool refuses "hours").
    seconds = CounterMetricFamily("eduops_session_seconds", "Length of the sessions held, in seconds (by the "
                                  "host's area).", labels=["area", "kind"])
    delivered = {(a, k): (n, h) for a, k, n, h in delivery_store.held_by_area_and_kind(db)}
    for area in delivery_store.area_codes(db):
        for kind in bookings.KINDS:
            n, h = delivered.get((area, kind), (0, 0.0))
            held.add_metric([area, kind], n)
            seconds.add_metric([area, kind], round(h * 3600))
    recordings = GaugeMetricFamily("eduops_recordings", "Recordings of sessions that ended within the last day "
                                   "or are still to come, by the recorder's newest state.", labels=["state"])
    by_state = delivery_recordings.recordings_by_state(db, now, timedelta(days=1))
    for state in ("scheduled", "recording", "finished", "failed"):
        recordings.add_metric([state], by_state.get(state, 0))
    counts = notify.counts(db)
    sent = CounterMetricFamily("eduops_notifications_sent", "Messages delivered to group robots.")
    sent.add_metric([], counts["sent"])
    failed = CounterMetricFamily("eduops_notification_failures", "Failed attempts at sending to a group robot "
                                 "(each is retried with backoff).")
    failed.add_metric([], counts["failed"])
    given_up = CounterMetricFamily("eduops_notifications_given_up", "Robot messages given up after "
                                   "notify_max_attempts failures.")
    given_up.add_metric([], counts["gave_up"])
    pending = GaugeMetricFamily("eduops_notifications_pending", "Robot messages waiting to be sent or retried.")
    pending.add_metric([], counts["pending"])
    return iter((sessions, receivers, held, seconds, recordings, sent, failed, given_up, pending))


class HubCollector(Collector):
    """Collects every section from a fresh connection and measures its own scrape."""

    def __init__(self, config: Config, sections: list[tuple[str, Section]],
                 clock: Callable[[], datetime]):
        self.config = config
        self.sections = sections
        self.clock = clock
        self.errors = dict.fromkeys((name for name, _ in sections), 0)

    def collect(self) -> Iterator[Metric]:
        started = time.perf_counter()
        info = GaugeMetricFamily("eduops_build_info", "The running hub's version and county.",
                                 labels=["version", "county"])
        info.add_metric([__version__, self.config.county_name], 1)
        yield info
        database = dbmod.connect(self.config.db_path)
        now = self.clock()
        try:
            for name, section in self.sections:
                try:
                    families = list(section(database, self.config, now))
                except sqlite3.Error:
                    log.exception("metrics section %s failed", name)
                    self.errors[name] += 1
                    continue
                yield from families
        finally:
            database.conn.close()
        errors = CounterMetricFamily("eduops_scrape_errors", "Metric sections that failed during a scrape.",
                                     labels=["section"])
        for name, count in self.errors.items():
            errors.add_metric([name], count)
        yield errors
        duration = GaugeMetricFamily("eduops_scrape_duration_seconds",
                                     "Time this scrape took to compute the metrics.")
        duration.add_metric([], time.perf_counter() - started)
        yield duration


class StorageCollector(Collector):
    """Storage faults seen by this process (they cannot be counted in the database that fails)."""

    def __init__(self, health: dbmod.StorageHealth):
        self.health = health

    def collect(self) -> Iterator[Metric]:
        errors = CounterMetricFamily("eduops_storage_errors", "Writes refused because the disk was full or "
                                     "failing (counted by this hub process since it started).")
        errors.add_metric([], self.health.errors_total)
        degraded = GaugeMetricFamily("eduops_storage_degraded", "1 while the hub cannot write its database.")
        degraded.add_metric([], 1 if self.health.problem else 0)
        return iter((errors, degraded))


SECTIONS: list[tuple[str, Section]] = [("inventory", inventory_section), ("fleet", fleet_section),
                                       ("jobs", jobs_section), ("coverage", coverage_section),
                                       ("delivery", delivery_section)]

bp = Blueprint("metrics", __name__)


@bp.get("/metrics")
def metrics() -> Response:
    registry = current_app.extensions["eduops_metrics"]
    return Response(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)


def init_app(app: Flask, config: Config, clock: Callable[[], datetime]) -> CollectorRegistry:
    registry = CollectorRegistry()
    registry.register(HubCollector(config, SECTIONS, clock))
    registry.register(StorageCollector(app.extensions["eduops_storage"]))
    disable_created_metrics()  # *_created series only double the output; Prometheus does not need them
    # Request timings are about this process, not the county: the one thing kept in memory.
    ingest = Histogram("eduops_ingest_duration_seconds", "Time to answer a batch of agent reports, "
                       "commit included.", registry=registry,
                       buckets=(.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10))
    app.extensions["eduops_ingest_duration"] = ingest  # observed by the report route (eduops/fleet/api.py)
    app.extensions["eduops_metrics"] = registry
    app.register_blueprint(bp)
    return registry
