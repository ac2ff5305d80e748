"""What a request handler needs from the running hub: its configuration, its clock and a database connection."""
from __future__ import annotations

from datetime import datetime

import sqlite_utils
from flask import current_app, g

from eduops import db as dbmod
from eduops.config import Config


def hub_config() -> Config:
    return current_app.config["EDUOPS"]


def now() -> datetime:
    """The hub's one clock, given to create_app (tests give a fake); views, pages and /metrics read it."""
    return current_app.config["EDUOPS_CLOCK"]()


def get_db() -> sqlite_utils.Database:
    """The request's own connection to the hub database, opened on first use, closed at teardown."""
    if "db" not in g:
        g.db = dbmod.connect(hub_config().db_path)
    return g.db


def close_db(_exc: BaseException | None = None) -> None:
    database = g.pop("db", None)
    if database is not None:
        database.conn.close()
