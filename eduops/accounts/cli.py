"""`eduops user`: accounts on the command line, where the county's first admin is made."""
from __future__ import annotations

import sys

import click

from eduops.accounts import store as accounts
from eduops.accounts.store import ROLES
from eduops.audit import COMMAND_LINE
from eduops.cli_common import with_db
from eduops.clock import utcnow
from eduops.config import Config


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


def _user(db, username: str) -> accounts.User:
    user = accounts.user_named(db, username)
    if user is None:
        raise click.ClickException(f"no user is named {username}; see `eduops user list`")
    return user


PASSWORD_STDIN = click.option("--password-stdin", is_flag=True,
                              help="Read the password from the first line of standard input instead of asking. "
                                   "Example: printf '%s\\n' \"$PW\" | eduops user passwd alice --password-stdin")
SCHOOLS = click.option("--school", "schools", multiple=True, metavar="CODE",
                       help="A school the user works for; repeat for several (IT staff and teachers only). "
                            "Example: --school S001 --school S002")


@click.group()
def user() -> None:
    """Manage accounts: add users, reset passwords, change roles, API tokens.

    Example: eduops user add admin --role admin --db /var/lib/eduops/eduops.db
    """


@user.command("add")
@click.argument("username")
@click.option("--role", type=click.Choice(ROLES), required=True,
              help="admin (the county, everything), it_staff or teacher (their schools), viewer (dashboards). "
                   "Example: --role it_staff")
@SCHOOLS
@PASSWORD_STDIN
@with_db
def add(config: Config, db, username: str, role: str, schools: tuple[str, ...], password_stdin: bool) -> None:
    """Add a user; asks for the password twice (or reads it with --password-stdin).

    Example: eduops user add wang.li --role it_staff --school S001 --db eduops.db
    """
    accounts.add_user(db, username, role, schools, _password(password_stdin), COMMAND_LINE, utcnow())
    click.echo(f"added {username} ({role})")


@user.command("passwd")
@click.argument("username")
@PASSWORD_STDIN
@with_db
def passwd(config: Config, db, username: str, password_stdin: bool) -> None:
    """Set a user's password; their sessions end, so they sign in again.

    Example: eduops user passwd wang.li --db eduops.db
    """
    accounts.set_password(db, _user(db, username), _password(password_stdin), COMMAND_LINE, utcnow())
    click.echo(f"password of {username} changed; their sessions are signed out")


@user.command("role")
@click.argument("username")
@click.argument("role", type=click.Choice(ROLES))
@SCHOOLS
@with_db
def role(config: Config, db, username: str, role: str, schools: tuple[str, ...]) -> None:
    """Change a user's role and schools (the schools given replace the old ones).

    Example: eduops user role wang.li teacher --school S001 --db eduops.db
    """
    accounts.set_access(db, _user(db, username), role, schools, COMMAND_LINE, utcnow())
    click.echo(f"{username} is now {role}" + (f" for {', '.join(sorted(schools))}" if schools else ""))


@user.command("list")
@with_db
def list_(config: Config, db) -> None:
    """List every user with role, schools, last sign-in and status.

    Example: eduops user list --db eduops.db
    """
    for row in accounts.user_rows(db):
        status = "disabled" if row["disabled_at"] else "active"
        click.echo(f"{row['username']:<24} {row['role']:<9} {row['schools'] or '-':<20} "
                   f"last sign-in {row['last_login_at'] or 'never'}  {status}")


@user.group()
def token() -> None:
    """API tokens for scripts: create, list, revoke.

    Example: eduops user token create wang.li --name nightly-export --db eduops.db
    """


@token.command("create")
@click.argument("username")
@click.option("--name", required=True,
              help="What the token is for, to tell tokens apart. Example: --name nightly-export")
@with_db
def token_create(config: Config, db, username: str, name: str) -> None:
    """Create an API token acting as USERNAME; prints it once (only its hash is kept).

    Example: TOKEN=$(eduops user token create wang.li --name nightly-export --db eduops.db)
    """
    token_id, raw = accounts.create_token(db, _user(db, username), name, COMMAND_LINE, utcnow())
    click.echo(f"token {token_id} for {username}; send it as 'Authorization: Bearer TOKEN'", err=True)
    click.echo(raw)


@token.command("list")
@click.argument("username", required=False)
@with_db
def token_list(config: Config, db, username: str | None) -> None:
    """List API tokens (of one user, or all): number, owner, name, first characters, status.

    Example: eduops user token list wang.li --db eduops.db
    """
    for row in accounts.user_tokens(db, _user(db, username).id if username else None):
        status = f"revoked {row['revoked_at']}" if row["revoked_at"] else f"last used {row['last_used_at'] or 'never'}"
        click.echo(f"{row['id']:>5} {row['username']:<24} {row['name']:<24} {row['hint']}…  {status}")


@token.command("revoke")
@click.argument("token_id", type=int)
@with_db
def token_revoke(config: Config, db, token_id: int) -> None:
    """Revoke an API token by its number (see `eduops user token list`); it stops working at once.

    Example: eduops user token revoke 12 --db eduops.db
    """
    accounts.revoke_token(db, token_id, COMMAND_LINE, utcnow())
    click.echo(f"token {token_id} revoked")
