"""Signing in: password check, throttles per account and address and per address, and the new session.

Failures count per (typed username, client address) within a sliding window: the
first ``login_max_failures_per_account`` are free, then each further try from that
pair waits 1 s, 2 s, 4 s ... (up to the window) after the pair's latest failure,
without its password even being checked. So a stranger guessing the admin's
password slows down only himself: the admin, from an address that has not failed,
signs in at once. A pair's count restarts at the account's last successful
sign-in. An address that fails ``login_max_failures_per_address`` times on
usernames no account has (a script trying names) is refused for every name until
the window passes. Known and unknown names get the same answers.
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
    since = max(now - window, from_iso(last_login)) if last_login else now - window
    waits = [0.0]
    failures, latest = audit.pair_failures(db, username, address, since)
    if failures >= config.login_max_failures_per_account:
        delay = min(window.total_seconds(), 2.0 ** (failures - config.login_max_failures_per_account))
        waits.append((from_iso(latest) - now).total_seconds() + delay)
    nth = audit.nth_latest_unknown_name_failure(db, address, now - window, config.login_max_failures_per_address)
    if nth is not None:  # refused until the limit-th latest such failure leaves the window
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
