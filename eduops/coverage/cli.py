"""`eduops coverage`: measure nine's figures on the command line."""
from __future__ import annotations

from datetime import datetime

import click

from eduops.cli_common import MOMENT_EXAMPLE, Moment, with_db
from eduops.clock import utcnow
from eduops.config import Config
from eduops.coverage.snapshots import take_daily_snapshot


@click.group()
def coverage() -> None:
    """Measure nine coverage: figures, gaps and the daily snapshot.

    Example: eduops coverage snapshot --db /var/lib/eduops/eduops.db
    """


@coverage.command()
@click.option("--now", "now", type=Moment(), metavar="ISO",
              help="Take the snapshot as of this time instead of the clock; the offset is required. "
                   f"Example: --now {MOMENT_EXAMPLE}")
@with_db
def snapshot(config: Config, database, now: datetime | None) -> None:
    """Record today's coverage figures (the hub's daily job, run once); rerunning the same day replaces them.

    Example: eduops coverage snapshot --db eduops.db
    """
    taken = take_daily_snapshot(database, now or utcnow(), config)
    click.echo(f"coverage snapshot of {taken['day']}: {taken['nodes']} nodes, {taken['classes']} classes")
