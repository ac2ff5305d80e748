"""Signing in: password check, rate limits per account and per address, and the new session.

Failures count per typed username (known or not, so the answers do not tell
which names exist) and per client address, within a sliding window. An
account's count restarts at its last successful sign-in; an address's does not.
While a limit holds, the password is not even checked.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlite_utils

from eduops import audit
from eduops.accounts import passwords
from eduops.accounts import store as accounts
from eduops.accounts.store import User
from eduops.config import Config
from eduops.clock import from_iso


class RateLimitedError(Exception):
    def __init__(self, retry_after: int):
        super().__init__(f"too many failed sign-ins; retry after {retry_after} s")
        self.retry_after = retry_after


class BadCredentialsError(Exception):
    """Unknown username, wrong password or disabled account: deliberately not told apart."""


@dataclass(frozen=True)
class SessionPolicy:
    idle: timedelta
    lifetime: timedelta

    @classmethod
    def of(cls, config: Config) -> "SessionPolicy":
        return cls(timedelta(minutes=config.session_idle_minutes), timedelta(hours=config.session_max_hours))


def retry_after(db: sqlite_utils.Database, config: Config, username: str, address: str,
                last_login: str | None, now: datetime) -> int:
    """Seconds until this username may try from this address again; 0 when it may now."""
    window = timedelta(minutes=config.login_window_minutes)
    account_since = max(now - window, from_iso(last_login)) if last_login else now - window
    waits = [0.0]
    for column, value, since, limit in (
            ("username", username, account_since, config.login_max_failures_per_account),
            ("address", address, now - window, config.login_max_failures_per_address)):
        nth = audit.nth_latest_failure(db, column, value, since, limit)
        if nth is not None:  # locked until the limit-th latest failure leaves the window
            waits.append((from_iso(nth) + window - now).total_seconds())
    return max(1, math.ceil(max(waits))) if max(waits) > 0 else 0


def check_password(db: sqlite_utils.Database, config: Config, username: str, password: str, address: str,
                   now: datetime) -> User:
    """The active user with this username and password, within the rate limits."""
    username = username.strip()[:64]
    found = accounts.credentials(db, username)
    wait = retry_after(db, config, username, address, found[2] if found else None, now)
    if wait:
        raise RateLimitedError(wait)
    # Verify even for unknown names, so the time taken does not tell which names exist.
    if not passwords.verify_password(found[1] if found else passwords.dummy_hash(), password) or not found:
        audit.record_failed_login(db, now, username, address, timedelta(minutes=config.login_window_minutes))
        raise BadCredentialsError()
    if passwords.needs_rehash(found[1]):
        accounts.rehash_password(db, found[0], password)
    return found[0]


def sign_in(db: sqlite_utils.Database, config: Config, username: str, password: str, address: str,
            now: datetime) -> tuple[User, str]:
    """Check the password within the rate limits; return the user and a new session id."""
    user = check_password(db, config, username, password, address, now)
    policy = SessionPolicy.of(config)
    return user, accounts.start_session(db, user, address, now, policy.idle, policy.lifetime)
