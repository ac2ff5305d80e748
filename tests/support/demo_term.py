"""The demo county with its booked term, built into a fresh database as `eduops demo` builds it."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path

import sqlite_utils

from eduops import config as configmod
from eduops import db as dbmod
from eduops.demo import bookings as demo_bookings
from eduops.demo import county as demo

# A Wednesday morning in Huize, mid-term.
NOW = datetime.fromisoformat("2026-12-02T01:00:00+00:00")


def build(path: Path, now: datetime = NOW) -> tuple[sqlite_utils.Database, int]:
    """The demo county, its accounts and its term of sessions; returns the database and the sessions booked."""
    database = dbmod.connect(path)
    dbmod.migrate(database)
    demo.ensure_demo_county(database)
    demo.ensure_demo_accounts(database, now)
    terms, holidays = demo_bookings.demo_terms(now.date())
    config = configmod.load(env={}, overrides={"db_path": path, "terms": terms, "holidays": holidays})
    return database, demo_bookings.seed_demo_sessions(database, now, config)
