"""`eduops enroll-token`, `eduops terminals` and `eduops jobs`: the fleet on the command line."""
from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Callable

import click

from eduops import jobs as hubjobs
from eduops.audit import COMMAND_LINE
from eduops.clock import from_iso, local_text, parse_duration, utcnow
from eduops.config import Config
from eduops.fleet import agents, commands, store, tokens
from scheduler.jobs import run_job
from scheduler.states import STATES


def _with_db(command: Callable[..., Any]) -> Callable[..., Any]:
    """Add --db and --config, and hand the command (config, database) instead."""
    @click.option("--db", "db_path", type=click.Path(dir_okay=False, path_type=Path),
                  help="SQLite database file of the hub (default: eduops.db, or db_path in the config). "
                       "Example: --db /var/lib/eduops/eduops.db")
    @click.option("--config", "config_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                  help="TOML configuration file; EDUOPS_* environment variables override it. "
                       "Example: --config /etc/eduops.toml")
    def wrapper(db_path: Path | None, config_file: Path | None, **kwargs: Any) -> Any:
        from eduops.cli import load_config, open_db  # here, not above: eduops.cli imports this module

        config = load_config(config_file, db_path=db_path)
        database = open_db(config)
        try:
            return command(config, database, **kwargs)
        finally:
            database.conn.close()
    wrapper.__name__, wrapper.__doc__ = command.__name__, command.__doc__
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


class Moment(click.ParamType):
    name = "time"

    def convert(self, value: Any, param: Any, ctx: Any) -> datetime:
        try:
            return from_iso(value)
        except ValueError:
            self.fail(f"{value!r} is not an ISO 8601 time with an offset, such as 2026-11-30T08:00:00Z", param, ctx)


EXPIRES = click.option("--expires", "expires_in", type=Duration(),
                       help="How long the token lasts (default: enroll_token_days). Example: --expires 7d")


@click.group("enroll-token")
def enroll_token() -> None:
    """Enrollment tokens: one school each; agents exchange them for their own keys.

    Example: eduops enroll-token create --school S001 --expires 7d --uses 60
    """


def _print_new(new: tokens.NewToken, config: Config) -> None:
    uses = f", {new.max_uses} uses" if new.max_uses else ""
    click.echo(f"token {new.id} for school {new.school_code}, valid until "
               f"{local_text(new.expires_at, config.timezone)}{uses}:")
    click.echo(new.secret)
    click.echo("Copy it now: it is shown only this once.", err=True)


@enroll_token.command("create")
@click.option("--school", required=True, help="School code from the inventory. Example: --school S001")
@EXPIRES
@click.option("--uses", type=click.IntRange(min=1), help="How many agents may enroll with it (default: any "
              "number until it expires). Example: --uses 60")
@_with_db
def create(config: Config, database, school: str, expires_in: timedelta | None, uses: int | None) -> None:
    """Make a token for one school and print it once.

    Example: eduops enroll-token create --school S001 --expires 7d --uses 60
    """
    try:
        new = tokens.create_token(database, school, utcnow(), expires_in or timedelta(days=config.enroll_token_days),
                                  uses, COMMAND_LINE)
    except tokens.TokenError as exc:
        raise click.ClickException(str(exc)) from None
    _print_new(new, config)


@enroll_token.command("list")
@click.option("--school", help="Only this school's tokens. Example: --school S001")
@_with_db
def list_(config: Config, database, school: str | None) -> None:
    """List tokens with their state and when and by which machine each was last used.

    Example: eduops enroll-token list --school S001
    """
    now = utcnow()
    for t in tokens.list_tokens(database, [school] if school else None):
        uses = f"{t['uses']}/{t['max_uses']}" if t["max_uses"] else str(t["uses"])
        replaced = f" replaced by {t['replaced_by']}" if t["replaced_by"] else ""
        click.echo(f"{t['id']:>5}  {t['school_code']:<10} {tokens.token_status(t, now):<8} "
                   f"until {local_text(t['expires_at'], config.timezone)}  uses {uses:<7} "
                   f"last used {local_text(t['last_used_at'], config.timezone)} by {t['last_used_by'] or '-'}"
                   f"{replaced}")


@enroll_token.command("revoke")
@click.argument("token_id", type=int)
@_with_db
def revoke(config: Config, database, token_id: int) -> None:
    """Stop a token at once; agents already enrolled with it keep working.

    Example: eduops enroll-token revoke 12
    """
    try:
        tokens.revoke_token(database, token_id, utcnow(), COMMAND_LINE)
    except tokens.TokenError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"token {token_id} revoked")


@enroll_token.command("rotate")
@click.argument("token_id", type=int)
@EXPIRES
@_with_db
def rotate(config: Config, database, token_id: int, expires_in: timedelta | None) -> None:
    """Make a new token for the same school; the old one keeps working until it expires.

    Example: eduops enroll-token rotate 12 --expires 14d
    """
    try:
        new = tokens.rotate_token(database, token_id, utcnow(),
                                  expires_in or timedelta(days=config.enroll_token_days), COMMAND_LINE)
    except tokens.TokenError as exc:
        raise click.ClickException(str(exc)) from None
    _print_new(new, config)


@click.group()
def terminals() -> None:
    """The enrolled terminals: their state, history, commands, and retirement.

    Example: eduops terminals list --school S001 --state offline
    """


@terminals.command("list")
@click.option("--school", help="Only this school. Example: --school S001")
@click.option("--state", type=click.Choice(STATES), help="Only terminals in this state. Example: --state offline")
@click.option("--proposed", is_flag=True, help="Only terminals proposed for retirement (long silent). "
              "Example: --proposed")
@_with_db
def list_terminals(config: Config, database, school: str | None, state: str | None, proposed: bool) -> None:
    """One line per terminal: state, last report, clock skew, shared hardware, retirement proposal.

    Example: eduops terminals list --proposed
    """
    for a in store.list_agents(database, school, state, proposed):
        skew = a["clock_skew_s"]
        skew_text = "-" if skew is None else f"{skew:+.0f}s" + (" WRONG" if abs(skew) > config.clock_skew_warn_s else "")
        notes = ([f"shares hardware ({a['flags']})"] if a["flags"] else []) + \
            ([f"retire? (silent since {local_text(a['retire_proposed_at'], config.timezone)})"]
             if a["retire_proposed_at"] else [])
        click.echo(f"{a['id']}  {a['school_code']:<10} {a['room_code']:<18} {a['terminal_code'] or '-':<18} "
                   f"{a['state']:<12} last {local_text(a['last_report_at'], config.timezone)}  "
                   f"clock {skew_text:<12} {a['hostname']}  {'; '.join(notes)}")


@terminals.command("show")
@click.argument("agent_id")
@_with_db
def show(config: Config, database, agent_id: str) -> None:
    """A terminal's details, state history, shared hardware and commands.

    Example: eduops terminals show ag_0123456789abcdef
    """
    found = store.agent_detail(database, agent_id)
    if found is None:
        raise click.ClickException(f"no agent {agent_id}; see `eduops terminals list`")
    tz = config.timezone
    for key in ("id", "instance_id", "school_code", "room_code", "terminal_code", "hostname", "agent_version",
                "state", "clock_skew_s"):
        click.echo(f"{key:<16} {found[key]}")
    for key in ("state_since", "last_report_at", "last_contact_at", "retire_proposed_at", "retired_at"):
        click.echo(f"{key:<16} {local_text(found[key], tz)}")
    click.echo("history:")
    for h in found["history"]:
        click.echo(f"  {local_text(h['at'], tz)}  {h['from_state'] or '-'} -> {h['to_state']}  ({h['reason']})")
    for s in found["shared_hardware"]:
        click.echo(f"shares {s['fact']} {s['value']} with {s['other']} (since {local_text(s['flagged_at'], tz)})")
    for c in commands.commands_of(database, agent_id):
        click.echo(f"command {c['id']} {c['kind']} {c['status']} (expires {local_text(c['expires_at'], tz)})")


@terminals.command("retire")
@click.argument("agent_id")
@_with_db
def retire(config: Config, database, agent_id: str) -> None:
    """Confirm a terminal is gone: it leaves the fleet and its key stops working.

    It can come back only by enrolling again with a token.

    Example: eduops terminals retire ag_0123456789abcdef
    """
    try:
        done = agents.retire(database, agent_id, utcnow(), COMMAND_LINE)
    except LookupError as exc:
        raise click.ClickException(f"{exc}; see `eduops terminals list`") from None
    click.echo(f"{agent_id} retired" if done["was"] != "retired" else f"{agent_id} was already retired")


@terminals.command("command")
@click.argument("agent_id")
@click.argument("kind", type=click.Choice(commands.KINDS))
@click.option("--expires", "expires_in", type=Duration(), help="How long the command waits for the agent "
              "(default: command_ttl_s). Example: --expires 2h")
@_with_db
def command(config: Config, database, agent_id: str, kind: str, expires_in: timedelta | None) -> None:
    """Queue a command; the agent gets it with its next answer and acknowledges it.

    Example: eduops terminals command ag_0123456789abcdef send_inventory
    """
    try:
        queued = commands.queue_command(database, agent_id, kind, utcnow(),
                                        expires_in or timedelta(seconds=config.command_ttl_s))
    except LookupError as exc:
        raise click.ClickException(f"{exc}; see `eduops terminals list`") from None
    click.echo(f"{queued['id']} queued for {agent_id}, expires {local_text(queued['expires_at'], config.timezone)}")


@click.group("jobs")
def jobs_group() -> None:
    """The hub's scheduled jobs (state sweep, command expiry, retention, coverage snapshots, session expiry and
    finishing): run one now, or see their runs.

    Example: eduops jobs run sweep --db /var/lib/eduops/eduops.db
    """


@jobs_group.command("run")
@click.argument("name")
@click.option("--now", "now", type=Moment(), help="Run as if it were this time (for tests and drills; "
              "default: the real time). Example: --now 2026-11-30T08:00:00Z")
@_with_db
def run(config: Config, database, name: str, now: datetime | None) -> None:
    """Run one job once against the database, as the running hub would.

    Example: eduops jobs run sweep --now 2026-11-30T08:00:00Z --db eduops.db
    """
    found = {job.name: job for job in hubjobs.hub_jobs(config)}
    if name not in found:
        raise click.BadParameter(f"unknown job {name!r}; jobs: {', '.join(found)}", param_hint="NAME")
    summary = run_job(found[name], database, now or utcnow(), store)
    if summary is None:
        raise click.ClickException(f"job {name} failed; the log above has the traceback")
    click.echo(f"{name}: " + ", ".join(f"{k} {v}" for k, v in summary.items()))


@jobs_group.command("list")
@_with_db
def list_jobs(config: Config, database) -> None:
    """Each job's interval, last success, runs and failures.

    Example: eduops jobs list --db eduops.db
    """
    runs = {r["name"]: r for r in store.job_runs(database)}
    for job in hubjobs.hub_jobs(config):
        r = runs.get(job.name, {})
        click.echo(f"{job.name:<18} every {job.every.total_seconds():>5.0f}s  last success "
                   f"{local_text(r.get('last_success_at'), config.timezone)}  runs {r.get('runs', 0)}  "
                   f"failures {r.get('failures', 0)}" + (f"  last error at {local_text(r['last_failure_at'], config.timezone)}"
                                                         if r.get("last_failure_at") else ""))
