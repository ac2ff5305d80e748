"""`eduops demo`: the hub on a synthetic county, with simulated agents reporting over HTTP."""
from __future__ import annotations

import random
from pathlib import Path

import click

from eduops import config as configmod
from eduops import server
from eduops.cli_common import load_config, open_db
from eduops.clock import utcnow
from eduops.demo import county as demomod
from eduops.demo.delivery import seed_demo_delivery
from eduops.demo.bookings import demo_terms, seed_demo_sessions
from eduops.demo.history import seed_demo_history
from eduops.demo.swarm import Swarm
from eduops.jobs import job_service


@click.command()
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
    clock = utcnow  # the one clock of the demo: its made-up past, its accounts, the hub and its jobs
    terms, holidays = demo_terms(clock().date())  # the school year holding today
    config = configmod.with_generated_secret(
        load_config(None, db_path=db_path, host=host, port=port, demo=True, terms=terms, holidays=holidays))
    with open_db(config) as database:
        try:
            created = demomod.ensure_demo_county(database)
            if created:
                seed_demo_history(database, clock(), config, random.Random(demomod.SEED))
            logins = demomod.ensure_demo_accounts(database, clock())
            booked = seed_demo_sessions(database, clock(), config) if created else 0
            delivered = seed_demo_delivery(database, clock(), random.Random(demomod.SEED)) if created else 0
        except demomod.NotADemoDatabaseError as exc:
            raise click.UsageError(str(exc)) from None
    click.echo(("Built" if created else "Reusing") + f" the demo county in {db_path}"
               + (f", with {booked} sky classroom sessions booked and what {delivered} past ones delivered"
                  if created else ""))
    click.echo("Demo accounts (new passwords at every start):")
    for username, role, password in logins:
        click.echo(f"  {username:<14} {role:<9} password: {password}")
    state_root = db_path.with_name(db_path.name + ".agents")  # the simulated agents' state directories
    server.serve(config, clock=clock, services=lambda url: [
        job_service(config, clock), *([Swarm(config, url, agent_count, state_root,
                                             home_school=demomod.DEMO_SCHOOL)] if agent_count else [])])
