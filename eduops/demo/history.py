"""A made-up past for the demo county's trend charts: each school closed its inventory gaps on some day.

Demo data only (`eduops demo` calls it on a new demo database). Each school's
earlier counts are today's minus what it acquired later; the levels above are
added up from the schools, so the county always equals the sum of its areas.
Observed counts stay as they are today: only agents can make those.
"""
from __future__ import annotations

import random
from datetime import datetime, timedelta

import sqlite_utils

from eduops.clock import local_day, to_iso
from eduops.config import Config
from eduops.coverage import figures, report, snapshots, store



def _lacked(rng: random.Random, measure: str, now_has: int) -> int:
    """How much of a measure a school acquired within the made-up past."""
    if measure in figures.SCHOOL_MEASURES:
        return now_has if rng.random() < 0.3 else 0
    return round(now_has * rng.uniform(0, 0.35))


def seed_demo_history(db: sqlite_utils.Database, now: datetime, config: Config, rng: random.Random,
                      days: int = 120) -> None:
    """Snapshots for the ``days`` days before ``now``, then today's real one."""
    rep = report.load(db, config, now, None)
    today = rep.totals
    # For each school and measure: the day (counted back from today) it got what it lacked, and how much.
    acquired = {code: {m: (rng.randint(1, days), _lacked(rng, m, today[("school", code)][m + "_inventory"]))
                       for m in figures.MEASURES} for code in rep.schools}
    for back in range(days, 0, -1):
        totals: dict[tuple[str, str], dict[str, int]] = {key: dict.fromkeys(figures.COUNTS, 0) for key in today
                                                         if key[0] != "school"}
        for code, school in rep.schools.items():
            counts = dict(today[("school", code)])
            for measure, (day, amount) in acquired[code].items():
                if back >= day:
                    counts[measure + "_inventory"] -= amount
            totals[("school", code)] = counts
            for key in figures.node_keys(school)[:-1]:
                for name, value in counts.items():
                    totals[key][name] += value
        moment = now - timedelta(days=back)
        store.store_snapshot(db, local_day(moment, config.timezone), to_iso(moment), totals)
    snapshots.take_daily_snapshot(db, now, config)
