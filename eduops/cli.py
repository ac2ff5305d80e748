"""The `eduops` command: serve the hub, set up its database, import and export the inventory, run the demo."""
from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import click

from eduops import __version__, county, inventory
from eduops import config as configmod
from eduops import db as dbmod
from eduops.config import Config, ConfigError
from eduops.fleet.cli import enroll_token, jobs_group, terminals
from eduops.jobs import job_service
from eduops.clock import utcnow
from eduops.user_cli import user

if TYPE_CHECKING:
    from eduops.server import Service

CONFIG_HELP = "TOML configuration file; EDUOPS_* environment variables override it. Example: --config /etc/eduops.toml"
DB_HELP = "SQLite database file of the hub (default: eduops.db, or db_path in the config). Example: --db /var/lib/eduops/eduops.db"


def load_config(config_file: Path | None, **overrides) -> Config:
    try:
        config = configmod.load(config_file, overrides=overrides)
    except ConfigError as exc:
        raise click.UsageError(f"configuration: {exc}") from None
    logging.basicConfig(level=config.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return config


def open_db(config: Config):
    database = dbmod.connect(config.db_path)
    dbmod.migrate(database)
    return database


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="eduops")
def main() -> None:
    """EduOps: the county's operations hub for digital classrooms (measure nine).

    \b
    Start here:   eduops demo                  (a demo county with live agents)
    For real:     eduops init --db /var/lib/eduops/eduops.db
                  eduops import --db /var/lib/eduops/eduops.db inventory.xlsx
                  EDUOPS_SECRET_KEY=... eduops hub --db /var/lib/eduops/eduops.db
    """


for group in (user, enroll_token, terminals, jobs_group):
    main.add_command(group)


def hub_services(config: Config) -> Callable[[str], list[Service]]:
    """What runs beside the web server in the hub process: the scheduled jobs."""
    return lambda url: [job_service(config)]


@main.command()
@click.option("--db", "db_path", type=click.Path(dir_okay=False, path_type=Path), help=DB_HELP)
@click.option("--config", "config_file", type=click.Path(exists=True, dir_okay=False, path_type=Path), help=CONFIG_HELP)
def init(db_path: Path | None, config_file: Path | None) -> None:
    """Create the hub database, or bring an existing one up to the current schema.

    Example: eduops init --db /var/lib/eduops/eduops.db
    """
    from eduops.server import prepare_database

    config = load_config(config_file, db_path=db_path)
    version = prepare_database(config)
    click.echo(f"{config.db_path}: schema version {version}")


@main.command()
@click.option("--db", "db_path", type=click.Path(dir_okay=False, path_type=Path), help=DB_HELP)
@click.option("--host", help="Address to listen on (default 127.0.0.1). Example: --host 0.0.0.0")
@click.option("--port", type=int, help="TCP port (default 8080; 0 picks a free one). Example: --port 8080")
@click.option("--config", "config_file", type=click.Path(exists=True, dir_okay=False, path_type=Path), help=CONFIG_HELP)
def hub(db_path: Path | None, host: str | None, port: int | None, config_file: Path | None) -> None:
    """Serve the hub with a production WSGI server until SIGTERM or Ctrl-C.

    Needs a secret key (EDUOPS_SECRET_KEY or secret_key in the config file).

    Example: EDUOPS_SECRET_KEY=$(openssl rand -hex 32) eduops hub --db eduops.db --port 8080
    """
    from eduops import server

    config = load_config(config_file, db_path=db_path, host=host, port=port)
    if not config.secret_key:
        raise click.UsageError("configuration: secret_key: required; set EDUOPS_SECRET_KEY "
                               "or secret_key in the config file (only `eduops demo` makes one up)")
    server.serve(config, services=hub_services(config))


@main.command("import")
@click.argument("files", nargs=-1, required=True,
                type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--db", "db_path", type=click.Path(dir_okay=False, path_type=Path), help=DB_HELP)
@click.option("--config", "config_file", type=click.Path(exists=True, dir_okay=False, path_type=Path), help=CONFIG_HELP)
def import_(files: tuple[Path, ...], db_path: Path | None, config_file: Path | None) -> None:
    """Import the inventory from an XLSX workbook or CSV files (see docs/inventory.md).

    Every row is checked first; if any is wrong nothing is written and each problem
    is listed as `sheet/row N: what is wrong`. Re-importing the same file changes nothing.

    Example: eduops import --db eduops.db inventory.xlsx
    """
    database = open_db(load_config(config_file, db_path=db_path))
    try:
        raw = inventory.read_workbook(files)
        records = inventory.validate(raw, county.existing_codes(database), progress=True)
    except inventory.InventoryError as exc:
        for problem in exc.problems:
            click.echo(problem, err=True)
        click.echo(f"Nothing imported: {len(exc.problems)} problem(s). Fix them and import again.", err=True)
        sys.exit(1)
    counts = county.apply_inventory(database, records, progress=True)
    for table, c in counts.items():
        click.echo(f"{table}: {c.added} added, {c.changed} changed, {c.unchanged} unchanged")


@main.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--db", "db_path", type=click.Path(dir_okay=False, path_type=Path), help=DB_HELP)
@click.option("--config", "config_file", type=click.Path(exists=True, dir_okay=False, path_type=Path), help=CONFIG_HELP)
def export(file: Path, db_path: Path | None, config_file: Path | None) -> None:
    """Write the inventory to an XLSX workbook in the import template.

    Example: eduops export --db eduops.db inventory.xlsx
    """
    if file.suffix.lower() != ".xlsx":
        raise click.UsageError("FILE must end in .xlsx")
    database = open_db(load_config(config_file, db_path=db_path))
    inventory.write_workbook(file, {t: county.inventory_rows(database, t) for t in county.TABLES})
    click.echo(f"wrote {file}")


@main.command()
@click.option("--db", "db_path", type=click.Path(dir_okay=False, path_type=Path), default=Path("eduops-demo.db"),
              show_default=True, help="Demo database file; created with a synthetic county if new.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=int, default=8080, show_default=True, help="TCP port (0 picks a free one).")
@click.option("--agents", "agent_count", type=click.IntRange(0, 5000), default=300, show_default=True,
              help="Simulated classroom agents reporting over HTTP (0 for none). Example: --agents 1000")
def demo(db_path: Path, host: str, port: int, agent_count: int) -> None:
    """Serve the hub on a synthetic county in the image of Huize, clearly marked as demo data.

    Example: eduops demo --port 8080, then open http://127.0.0.1:8080/
    """
    import random
    from datetime import datetime, timezone

    from eduops import demo as demomod
    from eduops import demo_bookings, server
    from eduops.swarm import Swarm
    from eduops.coverage.demo_history import seed_demo_history
    from eduops.delivery.demo_history import seed_demo_delivery

    terms, holidays = demo_bookings.demo_terms(datetime.now(timezone.utc).date())
    config = configmod.with_generated_secret(
        load_config(None, db_path=db_path, host=host, port=port, demo=True, terms=terms, holidays=holidays))
    database = open_db(config)
    try:
        created = demomod.ensure_demo_county(database)
        if created:
            seed_demo_history(database, datetime.now(timezone.utc), config, random.Random(demomod.SEED))
        logins = demomod.ensure_demo_accounts(database, utcnow())
        if created:
            click.echo(f"Booked {demo_bookings.seed_demo_sessions(database, utcnow(), config)} sky classroom sessions")
            delivered = seed_demo_delivery(database, utcnow(), random.Random(demomod.SEED))
            click.echo(f"Made up what {delivered} past sessions delivered")
    except demomod.NotADemoDatabaseError as exc:
        raise click.UsageError(str(exc)) from None
    finally:
        database.conn.close()
    click.echo(("Built" if created else "Reusing") + f" the demo county in {db_path}")
    click.echo("Demo accounts (new passwords at every start):")
    for username, role, password in logins:
        click.echo(f"  {username:<14} {role:<9} password: {password}")
    state_root = db_path.with_name(db_path.name + ".agents")  # the simulated agents' state directories
    server.serve(config, services=lambda url: [
        *hub_services(config)(url), *([Swarm(config, url, agent_count, state_root,
                                                   home_school=demomod.DEMO_SCHOOL)] if agent_count else [])])


@main.group()
def coverage() -> None:
    """Measure nine coverage: figures, gaps and the daily snapshot.

    Example: eduops coverage snapshot --db /var/lib/eduops/eduops.db
    """


@coverage.command()
@click.option("--db", "db_path", type=click.Path(dir_okay=False, path_type=Path), help=DB_HELP)
@click.option("--config", "config_file", type=click.Path(exists=True, dir_okay=False, path_type=Path), help=CONFIG_HELP)
@click.option("--now", "now_text", metavar="ISO",
              help="Take the snapshot as of this time instead of the clock (UTC unless it has an offset). "
                   "Example: --now 2026-09-01T23:50:00+08:00")
def snapshot(db_path: Path | None, config_file: Path | None, now_text: str | None) -> None:
    """Record today's coverage figures (the hub's daily job, run once); rerunning the same day replaces them.

    Example: eduops coverage snapshot --db eduops.db
    """
    from datetime import datetime, timezone

    from eduops.coverage.snapshots import take_daily_snapshot

    try:
        now = datetime.fromisoformat(now_text) if now_text else datetime.now(timezone.utc)
    except ValueError:
        raise click.BadParameter(f"{now_text!r} is not an ISO time such as 2026-09-01T23:50:00+08:00",
                                 param_hint="--now") from None
    if now.tzinfo is None:
        now = now.replace(tzinfo=timezone.utc)
    config = load_config(config_file, db_path=db_path)
    taken = take_daily_snapshot(open_db(config), now, config)
    click.echo(f"coverage snapshot of {taken['day']}: {taken['nodes']} nodes, {taken['classes']} classes")
