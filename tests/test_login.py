"""Signing in, rate limits, sessions and tokens as storage and policy, with the clock passed in."""
from datetime import datetime, timedelta, timezone

import argon2
import pytest

from eduops import audit
from eduops.accounts import login, passwords
from eduops.accounts import store as accounts
from eduops.audit import COMMAND_LINE, Actor

T0 = datetime(2024, 9, 2, 0, 30, tzinfo=timezone.utc)  # 08:30 in Huize


@pytest.fixture
def config(hub_config):
    return hub_config.replace(login_max_failures_per_account=3, login_max_failures_per_address=5,
                              login_window_minutes=15)


@pytest.fixture
def alice(fresh_db, two_schools):
    return accounts.add_user(fresh_db, "alice", "teacher", ["S1"], "alice-password-1", COMMAND_LINE, T0)


def fail(db, config, username, address="10.0.0.1", at=T0):
    with pytest.raises(login.BadCredentialsError):
        login.sign_in(db, config, username, "wrong password!", address, at)


def test_password_hashes_are_argon2id_at_or_above_owasp_parameters():
    params = argon2.extract_parameters(passwords.hash_password("correct horse battery"))
    assert params.type is argon2.Type.ID
    assert params.memory_cost >= 19_456 and params.time_cost >= 2 and params.parallelism >= 1
    assert passwords.verify_password(passwords.hash_password("x" * 12), "x" * 12)
    assert not passwords.verify_password(passwords.hash_password("x" * 12), "y" * 12)
    assert not passwords.verify_password("not a hash", "x")


def test_a_weak_old_hash_is_upgraded_at_sign_in(fresh_db, config, alice):
    weak = argon2.PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash("alice-password-1")
    fresh_db.execute("UPDATE users SET password_hash = ? WHERE id = ?", [weak, alice.id])
    login.sign_in(fresh_db, config, "alice", "alice-password-1", "10.0.0.1", T0)
    stored = fresh_db.execute("SELECT password_hash FROM users WHERE id = ?", [alice.id]).fetchone()[0]
    assert argon2.extract_parameters(stored).memory_cost == passwords.HASHER.memory_cost
    login.sign_in(fresh_db, config, "alice", "alice-password-1", "10.0.0.1", T0)


def test_sign_in_returns_the_user_and_a_session_that_only_its_hash_is_stored_of(fresh_db, config, alice):
    user, raw = login.sign_in(fresh_db, config, "ALICE", "alice-password-1", "10.0.0.1", T0)
    assert user == alice
    stored = [r[0] for r in fresh_db.execute("SELECT id_hash FROM sessions")]
    assert stored == [passwords.secret_hash(raw)] and raw not in stored
    assert accounts.session_user(fresh_db, raw, T0, timedelta(hours=1), timedelta(hours=12)) == alice


def test_the_account_limit_refuses_even_the_right_password_until_the_window_passes(fresh_db, config, alice):
    for minute in range(3):
        fail(fresh_db, config, "alice", at=T0 + timedelta(minutes=minute))
    with pytest.raises(login.RateLimitedError) as refused:
        login.sign_in(fresh_db, config, "alice", "alice-password-1", "10.0.0.9", T0 + timedelta(minutes=3))
    # locked until the 3rd latest failure (minute 0) is 15 minutes old
    assert refused.value.retry_after == 12 * 60
    later = T0 + timedelta(minutes=15, seconds=1)
    assert login.sign_in(fresh_db, config, "alice", "alice-password-1", "10.0.0.9", later)[0] == alice


def test_a_locked_account_is_not_even_checked_so_guessing_on_gains_nothing(fresh_db, config, alice):
    for _ in range(3):
        fail(fresh_db, config, "alice")
    for _ in range(10):
        with pytest.raises(login.RateLimitedError):
            login.sign_in(fresh_db, config, "alice", "whatever", "10.0.0.1", T0 + timedelta(minutes=1))
    assert fresh_db.execute("SELECT COUNT(*) FROM login_failures").fetchone()[0] == 3


def test_a_success_restarts_the_accounts_count_but_not_the_addresss(fresh_db, config, alice):
    for minute in range(2):
        fail(fresh_db, config, "alice", at=T0 + timedelta(minutes=minute))
    login.sign_in(fresh_db, config, "alice", "alice-password-1", "10.0.0.1", T0 + timedelta(minutes=2))
    for minute in range(3, 5):
        fail(fresh_db, config, "alice", at=T0 + timedelta(minutes=minute))
    assert login.sign_in(fresh_db, config, "alice", "alice-password-1", "10.0.0.2",
                         T0 + timedelta(minutes=5))[0] == alice
    # the address 10.0.0.1 has 4 failures in the window; a fifth on any name locks it
    fail(fresh_db, config, "someone-else", at=T0 + timedelta(minutes=6))
    with pytest.raises(login.RateLimitedError):
        login.sign_in(fresh_db, config, "alice", "alice-password-1", "10.0.0.1", T0 + timedelta(minutes=7))


def test_unknown_usernames_are_limited_like_real_ones(fresh_db, config):
    for _ in range(3):
        fail(fresh_db, config, "nobody", address="10.0.0.3")
    with pytest.raises(login.RateLimitedError):
        login.sign_in(fresh_db, config, "NOBODY", "x", "10.0.0.4", T0)


def test_a_disabled_account_cannot_sign_in_and_its_sessions_and_tokens_end(fresh_db, config, alice):
    _user, raw = login.sign_in(fresh_db, config, "alice", "alice-password-1", "10.0.0.1", T0)
    _id, token = accounts.create_token(fresh_db, alice, "script", COMMAND_LINE, T0)
    accounts.set_disabled(fresh_db, "alice", True, COMMAND_LINE, T0)
    with pytest.raises(login.BadCredentialsError):
        login.sign_in(fresh_db, config, "alice", "alice-password-1", "10.0.0.1", T0)
    assert accounts.session_user(fresh_db, raw, T0, timedelta(hours=1), timedelta(hours=12)) is None
    assert accounts.token_user(fresh_db, token, T0) is None
    accounts.set_disabled(fresh_db, "alice", False, COMMAND_LINE, T0)
    assert accounts.token_user(fresh_db, token, T0) == alice


@pytest.mark.parametrize("later,alive", [
    (timedelta(minutes=59), True),                       # within the idle limit
    (timedelta(minutes=61), False),                      # idle too long
])
def test_sessions_end_after_idling(fresh_db, alice, later, alive):
    raw = accounts.start_session(fresh_db, alice, "10.0.0.1", T0, timedelta(hours=1), timedelta(hours=12))
    assert (accounts.session_user(fresh_db, raw, T0 + later, timedelta(hours=1), timedelta(hours=12)) == alice) == alive


def test_sessions_end_after_their_lifetime_however_active(fresh_db, alice):
    idle, lifetime = timedelta(hours=1), timedelta(hours=12)
    raw = accounts.start_session(fresh_db, alice, "10.0.0.1", T0, idle, lifetime)
    at = T0
    while at < T0 + lifetime - timedelta(minutes=30):
        at += timedelta(minutes=30)
        assert accounts.session_user(fresh_db, raw, at, idle, lifetime) == alice
    assert accounts.session_user(fresh_db, raw, T0 + lifetime, idle, lifetime) is None
    assert fresh_db.execute("SELECT COUNT(*) FROM sessions").fetchone()[0] == 0


def test_a_password_change_ends_every_other_session(fresh_db, alice):
    idle, lifetime = timedelta(hours=1), timedelta(hours=12)
    here = accounts.start_session(fresh_db, alice, "10.0.0.1", T0, idle, lifetime)
    elsewhere = accounts.start_session(fresh_db, alice, "10.0.0.2", T0, idle, lifetime)
    accounts.set_password(fresh_db, alice, "a-brand-new-password", Actor("alice", "10.0.0.1"), T0, keep_session=here)
    assert accounts.session_user(fresh_db, here, T0, idle, lifetime) == alice
    assert accounts.session_user(fresh_db, elsewhere, T0, idle, lifetime) is None
    events = [e["event"] for e in audit.search(fresh_db, user="alice")]
    assert events[0] == "password_changed"


@pytest.mark.parametrize("role,schools,problem", [
    ("teacher", [], "at least one school"),
    ("it_staff", ["S9"], "Unknown school code(s): S9"),
    ("viewer", ["S1"], "no school code"),
    ("admin", ["S1"], "no school code"),
    ("superuser", [], "Unknown role"),
])
def test_roles_and_schools_must_fit_together(fresh_db, two_schools, role, schools, problem):
    with pytest.raises(accounts.AccountError, match=problem.replace("(", r"\(").replace(")", r"\)")):
        accounts.add_user(fresh_db, "bob", role, schools, "bob-password-1", COMMAND_LINE, T0)
    assert fresh_db.execute("SELECT COUNT(*) FROM users").fetchone()[0] == 0


@pytest.mark.parametrize("username,password,problem", [
    ("b", "long-enough-1", "2 to 64"), ("bob smith", "long-enough-1", "2 to 64"),
    ("bob", "short", "at least 10"), ("bob", " padded-password ", "space"), ("bob", "x" * 257, "at most 256"),
])
def test_bad_usernames_and_passwords_are_refused(fresh_db, username, password, problem):
    with pytest.raises(accounts.AccountError, match=problem):
        accounts.add_user(fresh_db, username, "viewer", [], password, COMMAND_LINE, T0)


def test_the_last_active_admin_cannot_be_demoted_or_disabled(fresh_db):
    root = accounts.add_user(fresh_db, "root", "admin", [], "root-password-1", COMMAND_LINE, T0)
    with pytest.raises(accounts.AccountError, match="last active admin"):
        accounts.set_access(fresh_db, root, "viewer", [], COMMAND_LINE, T0)
    with pytest.raises(accounts.AccountError, match="last active admin"):
        accounts.set_disabled(fresh_db, "root", True, COMMAND_LINE, T0)
    accounts.add_user(fresh_db, "root2", "admin", [], "root-password-2", COMMAND_LINE, T0)
    accounts.set_access(fresh_db, root, "viewer", [], COMMAND_LINE, T0)
    assert accounts.user_named(fresh_db, "root").role == "viewer"


def test_tokens_act_as_their_user_today_and_stop_when_revoked(fresh_db, two_schools, alice):
    token_id, raw = accounts.create_token(fresh_db, alice, "export", COMMAND_LINE, T0)
    assert raw.startswith("eduops_") and len(raw) > 40
    assert raw not in str(list(fresh_db.execute("SELECT * FROM api_tokens")))
    accounts.set_access(fresh_db, alice, "it_staff", ["S1", "S2"], COMMAND_LINE, T0)
    assert accounts.token_user(fresh_db, raw, T0).school_codes == {"S1", "S2"}
    with pytest.raises(accounts.AccountError):  # only its owner's tokens, when an owner is given
        accounts.revoke_token(fresh_db, token_id, COMMAND_LINE, T0, owner=accounts.User(99, "x", "viewer", frozenset()))
    accounts.revoke_token(fresh_db, token_id, COMMAND_LINE, T0)
    assert accounts.token_user(fresh_db, raw, T0) is None
    with pytest.raises(accounts.AccountError):
        accounts.revoke_token(fresh_db, token_id, COMMAND_LINE, T0)


def test_every_change_is_in_the_audit_log_and_searchable(fresh_db, two_schools, config):
    day1, day2 = T0, T0 + timedelta(days=1)
    bob = accounts.add_user(fresh_db, "bob", "teacher", ["S1"], "bob-password-1", COMMAND_LINE, day1)
    accounts.set_access(fresh_db, bob, "it_staff", ["S2"], Actor("root", "10.0.0.5"), day1)
    fail(fresh_db, config, "bob", at=day2)
    login.sign_in(fresh_db, config, "bob", "bob-password-1", "10.0.0.1", day2)
    events = audit.search(fresh_db, user="BOB")
    assert [e["event"] for e in events] == ["login", "login_failed", "access_changed", "user_added"]
    assert events[2]["actor"] == "root" and "teacher → it_staff" in events[2]["detail"]
    assert [e["event"] for e in audit.search(fresh_db, since=day2 - timedelta(hours=1))] == ["login", "login_failed"]
    until_day2 = audit.search(fresh_db, until=day2 - timedelta(hours=1))
    assert [e["event"] for e in until_day2] == ["access_changed", "user_added"]
    assert [e["subject"] for e in audit.search(fresh_db, event="login_failed")] == ["bob"]
    first = audit.search(fresh_db, limit=2)
    assert [e["event"] for e in audit.search(fresh_db, before_id=first[-1]["id"])] == ["access_changed", "user_added"]
