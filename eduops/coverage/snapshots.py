"""The daily coverage snapshot (kept for good) and the trend toward 100% read back from it.

``take_daily_snapshot(db, now, config)`` is the job the hub's scheduler runs; it
lives here, not in ``scheduler/``, because scheduler/ must not import eduops/.
It is safe to run as often as wanted: each run rewrites the county-local day's
rows, so the day's last run wins and a day never holds two snapshots.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import sqlite_utils

from eduops.clock import local_day, to_iso
from eduops.config import Config
from eduops.coverage import figures, report, store


def take_daily_snapshot(db: sqlite_utils.Database, now: datetime, config: Config) -> dict[str, Any]:
    """Record the county-local day's figures of the county and of every area, township and school."""
    totals = report.load(db, config, now, None).totals
    day = local_day(now, config.timezone)
    store.store_snapshot(db, day, to_iso(now), totals)
    return {"day": day, "nodes": len(totals), "classes": totals[("county", "")]["classes"]}


def trend(db: sqlite_utils.Database, rep: report.CoverageReport, level: str, code: str,
          days: int, today: str) -> dict[str, Any]:
    """Daily counts of a node and its children (county-wide), or of each school in a scope.

    A day without a snapshot of some node gives None in that node's lists.
    """
    if (level, code) not in rep.totals:
        rep.node(level, code)  # raises the precise 404
    first_day = (date.fromisoformat(today) - timedelta(days=days - 1)).isoformat()
    if rep.scope is not None:
        wanted = [("school", s) for s in rep.schools
                  if (level, code) in figures.node_keys(rep.schools[s])]
    else:
        child = report.CHILD_LEVEL.get(level)
        wanted = [(level, code)] + [(lv, c) for lv, c in rep.totals
                                    if lv == child and rep.parents(lv, c)[-1] == (level, code)]
    rows: dict[tuple[str, str], dict[str, dict[str, Any]]] = {key: {} for key in wanted}
    for lv in dict.fromkeys(lv for lv, _ in wanted):
        for row in store.snapshot_series(db, lv, [c for l2, c in wanted if l2 == lv], first_day):
            rows[(lv, row["code"])][row["day"]] = row
    all_days = sorted({d for by_day in rows.values() for d in by_day})
    return {"level": level, "code": code, "days": all_days, "series": [
        {"level": lv, "code": c, **rep.names(lv, c),
         "counts": {k: [by_day[d][k] if d in by_day else None for d in all_days] for k in figures.COUNTS}}
        for (lv, c), by_day in rows.items()]}
