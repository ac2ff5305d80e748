"""The `eduops` command: composes each area's group (``eduops/<area>/cli.py``, ``eduops/jobs.py``) and keeps
the hub's own commands (init, hub, import, export). Shared options and parsers live in ``eduops/cli_common.py``."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from eduops import __version__, county, inventory, server
from eduops.accounts.cli import user
from eduops.cli_common import config_option, db_option, load_config, with_db
from eduops.config import Config
from eduops.coverage.cli import coverage
from eduops.demo.cli import demo
from eduops.fleet.cli import enroll_token, terminals
from eduops.jobs import job_service, jobs_group


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


for group in (user, enroll_token, terminals, jobs_group, coverage, demo):
    main.add_command(group)


@main.command()
@db_option
@config_option
def init(db_path: Path | None, config_file: Path | None) -> None:
    """Create the hub database, or bring an existing one up to the current schema.

    Example: eduops init --db /var/lib/eduops/eduops.db
    """
    config = load_config(config_file, db_path=db_path)
    version = server.prepare_database(config)
    click.echo(f"{config.db_path}: schema version {version}")


@main.command()
@db_option
@click.option("--host", help="Address to listen on (default 127.0.0.1). Example: --host 0.0.0.0")
@click.option("--port", type=int, help="TCP port (default 8080; 0 picks a free one). Example: --port 8080")
@config_option
def hub(db_path: Path | None, host: str | None, port: int | None, config_file: Path | None) -> None:
    """Serve the hub with a production WSGI server until SIGTERM or Ctrl-C.

    Needs a secret key (EDUOPS_SECRET_KEY or secret_key in the config file).

    Example: EDUOPS_SECRET_KEY=$(openssl rand -hex 32) eduops hub --db eduops.db --port 8080
    """
    config = load_config(config_file, db_path=db_path, host=host, port=port)
    if not config.secret_key:
        raise click.UsageError("configuration: secret_key: required; set EDUOPS_SECRET_KEY "
                               "or secret_key in the config file (only `eduops demo` makes one up)")
    server.serve(config, services=lambda url: [job_service(config)])


@main.command("import")
@click.argument("files", nargs=-1, required=True,
                type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_db
def import_(config: Config, database, files: tuple[Path, ...]) -> None:
    """Import the inventory from an XLSX workbook or CSV files (see docs/inventory.md).

    Every row is checked first; if any is wrong nothing is written and each problem
    is listed as `sheet/row N: what is wrong`. Re-importing the same file changes nothing.

    Example: eduops import --db eduops.db inventory.xlsx
    """
    try:
        raw = inventory.read_workbook(files)
        warnings: list[str] = []
        records = inventory.validate(raw, county.existing_codes(database), progress=True, warnings=warnings)
    except inventory.InventoryError as exc:
        for problem in exc.problems:
            click.echo(problem, err=True)
        click.echo(f"Nothing imported: {len(exc.problems)} problem(s). Fix them and import again.", err=True)
        sys.exit(1)
    for warning in warnings:
        click.echo(warning, err=True)
    counts = county.apply_inventory(database, records, progress=True)
    for table, c in counts.items():
        click.echo(f"{table}: {c.added} added, {c.changed} changed, {c.unchanged} unchanged")


@main.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@with_db
def export(config: Config, database, file: Path) -> None:
    """Write the inventory to an XLSX workbook in the import template.

    Example: eduops export --db eduops.db inventory.xlsx
    """
    if file.suffix.lower() != ".xlsx":
        raise click.UsageError("FILE must end in .xlsx")
    inventory.write_workbook(file, {t: county.inventory_rows(database, t) for t in county.TABLES})
    click.echo(f"wrote {file}")
