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
from datetime import datetime, timezone
from typing import Callable, Iterable, Iterator

import sqlite_utils
from flask import Blueprint, Response, current_app
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from eduops import __version__, county
from eduops.coverage import figures, gaps, report
from eduops import db as dbmod
from eduops.config import Config

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
    gap_count = Counter((g.school.area_code, g.level, measure.split("_")[1], status)
                        for g in rep.gap_list for measure, status in g.missing.items())
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


class HubCollector(Collector):
    """Collects every section from a fresh connection and measures its own scrape."""

    def __init__(self, config: Config, sections: list[tuple[str, Section]],
                 clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc)):
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


SECTIONS: list[tuple[str, Section]] = [("inventory", inventory_section), ("coverage", coverage_section)]

bp = Blueprint("metrics", __name__)


@bp.get("/metrics")
def metrics() -> Response:
    registry = current_app.extensions["eduops_metrics"]
    return Response(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)


def init_app(app, config: Config) -> CollectorRegistry:
    registry = CollectorRegistry()
    registry.register(HubCollector(config, SECTIONS))
    app.extensions["eduops_metrics"] = registry
    app.register_blueprint(bp)
    return registry
