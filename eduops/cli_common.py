"""What every `eduops` command shares: --db/--config, the configuration, the database, durations, moments.

A leaf: it imports no command module, so area CLIs (``eduops/<area>/cli.py``) import
it at the top and ``eduops/cli.py`` only composes their groups. Domain errors
(``eduops.errors``) become a click error (exit code 1, the message on stderr) here,
in ``with_db``, and nowhere else.
"""
from __future__ import annotations

import contextlib
import functools
import logging
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Callable, Iterator

import click
import sqlite_utils

from eduops import config as configmod
from eduops import db as dbmod
from eduops.clock import from_iso, parse_duration
from eduops.config import Config, ConfigError
from eduops.errors import DomainError

CONFIG_HELP = "TOML configuration file; EDUOPS_* environment variables override it. Example: --config /etc/eduops.toml"
DB_HELP = "SQLite database file of the hub (default: eduops.db, or db_path in the config). Example: --db /var/lib/eduops/eduops.db"
MOMENT_EXAMPLE = "2026-09-01T23:50:00+08:00"

db_option = click.option("--db", "db_path", type=click.Path(dir_okay=False, path_type=Path), help=DB_HELP)
config_option = click.option("--config", "config_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                             help=CONFIG_HELP)


def load_config(config_file: Path | None, **overrides: Any) -> Config:
    try:
        config = configmod.load(config_file, overrides=overrides)
    except ConfigError as exc:
        raise click.UsageError(f"configuration: {exc}") from None
    logging.basicConfig(level=config.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return config


@contextlib.contextmanager
def open_db(config: Config) -> Iterator[sqlite_utils.Database]:
    """The hub database, migrated, closed when the block ends whatever happens."""
    database = dbmod.connect(config.db_path)
    try:
        dbmod.migrate(database)
        yield database
    finally:
        database.conn.close()


def with_db(command: Callable[..., Any]) -> Callable[..., Any]:
    """Add --db and --config, and hand the command (config, database) instead; domain errors exit 1."""
    @db_option
    @config_option
    @functools.wraps(command)
    def wrapper(db_path: Path | None, config_file: Path | None, **kwargs: Any) -> Any:
        config = load_config(config_file, db_path=db_path)
        with open_db(config) as database:
            try:
                return command(config, database, **kwargs)
            except DomainError as exc:
                raise click.ClickException(exc.message) from None
    return wrapper


class Duration(click.ParamType):
    name = "duration"

    def convert(self, value: Any, param: Any, ctx: Any) -> timedelta:
        if isinstance(value, timedelta):
            return value
        try:
            return parse_duration(value)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


def parse_moment(text: str) -> datetime:
    """An ISO 8601 time with its offset, as aware UTC. A time without an offset is refused, not
    guessed: county staff think in Asia/Shanghai, and reading it as UTC would be 8 hours off."""
    try:
        return from_iso(text)
    except ValueError:
        raise ValueError(f"{text!r} is not an ISO 8601 time with an offset, such as {MOMENT_EXAMPLE} "
                         "(county time) or 2026-09-01T15:50:00Z (UTC)") from None


class Moment(click.ParamType):
    """A --now value: see parse_moment."""
    name = "time"

    def convert(self, value: Any, param: Any, ctx: Any) -> datetime:
        if isinstance(value, datetime):
            return value
        try:
            return parse_moment(value)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)
