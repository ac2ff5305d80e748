"""`eduops user`: accounts on the command line, where the county's first admin is made."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Callable

import click

from eduops import accounts
from eduops.accounts import ROLES, AccountError
from eduops.audit import COMMAND_LINE
from eduops.clock import utcnow


def _db_options(command: Callable[..., Any]) -> Callable[..., Any]:
    command = click.option(
        "--config", "config_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
        help="TOML configuration file naming the database. Example: --config /etc/eduops.toml")(command)
    return click.option("--db", "db_path", type=click.Path(dir_okay=False, path_type=Path),
                        help="SQLite database file of the hub (default: eduops.db). "
                             "Example: --db /var/lib/eduops/eduops.db")(command)


def _open(db_path: Path | None, config_file: Path | None):
    from eduops.cli import load_config, open_db  # here, not above: eduops.cli imports this module

    return open_db(load_config(config_file, db_path=db_path))


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
@_db_options
def add(username: str, role: str, schools: tuple[str, ...], password_stdin: bool,
        db_path: Path | None, config_file: Path | None) -> None:
    """Add a user; asks for the password twice (or reads it with --password-stdin).

    Example: eduops user add wang.li --role it_staff --school S001 --db eduops.db
    """
    db = _open(db_path, config_file)
    try:
        accounts.add_user(db, username, role, schools, _password(password_stdin), COMMAND_LINE, utcnow())
    except AccountError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"added {username} ({role})")


@user.command("passwd")
@click.argument("username")
@PASSWORD_STDIN
@_db_options
def passwd(username: str, password_stdin: bool, db_path: Path | None, config_file: Path | None) -> None:
    """Set a user's password; their sessions end, so they sign in again.

    Example: eduops user passwd wang.li --db eduops.db
    """
    db = _open(db_path, config_file)
    try:
        accounts.set_password(db, _user(db, username), _password(password_stdin), COMMAND_LINE, utcnow())
    except AccountError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"password of {username} changed; their sessions are signed out")


@user.command("role")
@click.argument("username")
@click.argument("role", type=click.Choice(ROLES))
@SCHOOLS
@_db_options
def role(username: str, role: str, schools: tuple[str, ...], db_path: Path | None, config_file: Path | None) -> None:
    """Change a user's role and schools (the schools given replace the old ones).

    Example: eduops user role wang.li teacher --school S001 --db eduops.db
    """
    db = _open(db_path, config_file)
    try:
        accounts.set_access(db, _user(db, username), role, schools, COMMAND_LINE, utcnow())
    except AccountError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{username} is now {role}" + (f" for {', '.join(sorted(schools))}" if schools else ""))


@user.command("list")
@_db_options
def list_(db_path: Path | None, config_file: Path | None) -> None:
    """List every user with role, schools, last sign-in and status.

    Example: eduops user list --db eduops.db
    """
    for row in accounts.user_rows(_open(db_path, config_file)):
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
@_db_options
def token_create(username: str, name: str, db_path: Path | None, config_file: Path | None) -> None:
    """Create an API token acting as USERNAME; prints it once (only its hash is kept).

    Example: TOKEN=$(eduops user token create wang.li --name nightly-export --db eduops.db)
    """
    db = _open(db_path, config_file)
    try:
        token_id, raw = accounts.create_token(db, _user(db, username), name, COMMAND_LINE, utcnow())
    except AccountError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"token {token_id} for {username}; send it as 'Authorization: Bearer TOKEN'", err=True)
    click.echo(raw)


@token.command("list")
@click.argument("username", required=False)
@_db_options
def token_list(username: str | None, db_path: Path | None, config_file: Path | None) -> None:
    """List API tokens (of one user, or all): number, owner, name, first characters, status.

    Example: eduops user token list wang.li --db eduops.db
    """
    db = _open(db_path, config_file)
    for row in accounts.user_tokens(db, _user(db, username).id if username else None):
        status = f"revoked {row['revoked_at']}" if row["revoked_at"] else f"last used {row['last_used_at'] or 'never'}"
        click.echo(f"{row['id']:>5} {row['username']:<24} {row['name']:<24} {row['hint']}…  {status}")


@token.command("revoke")
@click.argument("token_id", type=int)
@_db_options
def token_revoke(token_id: int, db_path: Path | None, config_file: Path | None) -> None:
    """Revoke an API token by its number (see `eduops user token list`); it stops working at once.

    Example: eduops user token revoke 12 --db eduops.db
    """
    try:
        accounts.revoke_token(_open(db_path, config_file), token_id, COMMAND_LINE, utcnow())
    except AccountError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"token {token_id} revoked")
