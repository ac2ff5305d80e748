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
from typing import Callable, Iterable, Iterator

import sqlite_utils
from flask import Blueprint, Response, current_app
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from eduops import __version__, county
from eduops import db as dbmod
from eduops.config import Config

log = logging.getLogger(__name__)

Section = Callable[[sqlite_utils.Database], Iterable[Metric]]


def inventory_section(db: sqlite_utils.Database) -> Iterator[Metric]:
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


class HubCollector(Collector):
    """Collects every section from a fresh connection and measures its own scrape."""

    def __init__(self, config: Config, sections: list[tuple[str, Section]]):
        self.config = config
        self.sections = sections
        self.errors = dict.fromkeys((name for name, _ in sections), 0)

    def collect(self) -> Iterator[Metric]:
        started = time.perf_counter()
        info = GaugeMetricFamily("eduops_build_info", "The running hub's version and county.",
                                 labels=["version", "county"])
        info.add_metric([__version__, self.config.county_name], 1)
        yield info
        database = dbmod.connect(self.config.db_path)
        try:
            for name, section in self.sections:
                try:
                    families = list(section(database))
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


SECTIONS: list[tuple[str, Section]] = [("inventory", inventory_section)]

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
