"""`eduops enroll-token` and `eduops terminals`: the fleet on the command line."""
from __future__ import annotations

from datetime import timedelta

import click

from eduops.audit import COMMAND_LINE
from eduops.cli_common import Duration, with_db
from eduops.clock import local_text, utcnow
from eduops.config import Config
from eduops.fleet import agents, commands, store, tokens
from scheduler.states import STATES


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
@with_db
def create(config: Config, database, school: str, expires_in: timedelta | None, uses: int | None) -> None:
    """Make a token for one school and print it once.

    Example: eduops enroll-token create --school S001 --expires 7d --uses 60
    """
    new = tokens.create_token(database, school, utcnow(), expires_in or timedelta(days=config.enroll_token_days),
                              uses, COMMAND_LINE)
    _print_new(new, config)


@enroll_token.command("list")
@click.option("--school", help="Only this school's tokens. Example: --school S001")
@with_db
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
@with_db
def revoke(config: Config, database, token_id: int) -> None:
    """Stop a token at once; agents already enrolled with it keep working.

    Example: eduops enroll-token revoke 12
    """
    tokens.revoke_token(database, token_id, utcnow(), COMMAND_LINE)
    click.echo(f"token {token_id} revoked")


@enroll_token.command("rotate")
@click.argument("token_id", type=int)
@EXPIRES
@with_db
def rotate(config: Config, database, token_id: int, expires_in: timedelta | None) -> None:
    """Make a new token for the same school; the old one keeps working until it expires.

    Example: eduops enroll-token rotate 12 --expires 14d
    """
    new = tokens.rotate_token(database, token_id, utcnow(),
                              expires_in or timedelta(days=config.enroll_token_days), COMMAND_LINE)
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
@with_db
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
@with_db
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
@with_db
def retire(config: Config, database, agent_id: str) -> None:
    """Confirm a terminal is gone: it leaves the fleet and its key stops working.

    It can come back only by enrolling again with a token.

    Example: eduops terminals retire ag_0123456789abcdef
    """
    done = agents.retire(database, agent_id, utcnow(), COMMAND_LINE)
    click.echo(f"{agent_id} retired" if done["was"] != "retired" else f"{agent_id} was already retired")


@terminals.command("command")
@click.argument("agent_id")
@click.argument("kind", type=click.Choice(commands.KINDS))
@click.option("--expires", "expires_in", type=Duration(), help="How long the command waits for the agent "
              "(default: command_ttl_s). Example: --expires 2h")
@with_db
def command(config: Config, database, agent_id: str, kind: str, expires_in: timedelta | None) -> None:
    """Queue a command; the agent gets it with its next answer and acknowledges it.

    Example: eduops terminals command ag_0123456789abcdef send_inventory
    """
    queued = commands.queue_command(database, agent_id, kind, utcnow(),
                                    expires_in or timedelta(seconds=config.command_ttl_s))
    click.echo(f"{queued['id']} queued for {agent_id}, expires {local_text(queued['expires_at'], config.timezone)}")
