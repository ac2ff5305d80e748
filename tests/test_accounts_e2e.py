"""Accounts end to end: the `eduops user` command, then a real hub process over HTTP on loopback."""
import re
import subprocess
import sys

import pytest

import requests

from tests.support.accounts_helpers import Account, csrf_from, login
from tests.support.hubprocess import HubProcess

pytestmark = pytest.mark.e2e  # real processes: a hub, agents, a browser or Prometheus

PASSWORD = "county-admin-pass-1"


def eduops(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "eduops", *args], capture_output=True, text=True,
                          input=stdin, timeout=120)


def add_admin(db_path, username="root", password=PASSWORD) -> Account:
    result = eduops("user", "add", username, "--role", "admin", "--password-stdin", "--db", str(db_path),
                    stdin=password + "\n")
    assert result.returncode == 0, result.stderr
    return Account(0, username, password, "admin", frozenset())


def post_login(hub, session, username, password, **headers):
    form = session.get(hub.url + "/login", timeout=10, headers=headers)
    # handed over by hand: requests keeps a Secure cookie from plain http, and the proxy is pretend
    form_cookie = form.cookies.get("eduops_login") or session.cookies["eduops_login"]
    return session.post(hub.url + "/login", timeout=10, allow_redirects=False, headers=headers,
                        cookies={"eduops_login": form_cookie},
                        data={"username": username, "password": password, "csrf_token": csrf_from(form.text)})


def test_the_first_admin_made_on_the_command_line_signs_in_and_out(db_path):
    admin = add_admin(db_path)
    hub = HubProcess(db_path)
    try:
        assert hub.get("/", allow_redirects=False).headers["Location"] == "/login?next=/"
        browser = requests.Session()
        answer = post_login(hub, browser, admin.username, admin.password)
        assert answer.status_code == 303
        cookie = answer.headers["Set-Cookie"]
        assert "eduops_session=" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
        captured = browser.cookies["eduops_session"]
        browser.headers["X-CSRF-Token"] = csrf_from(browser.get(hub.url + "/account", timeout=10).text)
        assert "总览" in browser.get(hub.url + "/", timeout=10).text
        # a forged cross-site form has the cookie but not the token
        assert browser.post(hub.url + "/logout", headers={"X-CSRF-Token": ""}, timeout=10).status_code == 403
        assert browser.get(hub.url + "/api/v1/me", timeout=10).json()["username"] == "root"
        assert browser.post(hub.url + "/logout", timeout=10, allow_redirects=False).status_code == 303
        replay = requests.Session()
        replay.cookies.set("eduops_session", captured)
        assert replay.get(hub.url + "/api/v1/me", timeout=10).status_code == 401
        assert replay.get(hub.url + "/account", timeout=10, allow_redirects=False).status_code == 303
    finally:
        hub.stop()


def test_brute_force_sign_in_gets_429_with_retry_after(db_path):
    admin = add_admin(db_path)
    hub = HubProcess(db_path, env={"EDUOPS_LOGIN_MAX_FAILURES_PER_ACCOUNT": "3"})
    try:
        attacker = requests.Session()
        statuses = [post_login(hub, attacker, admin.username, f"guess-{n}-guess").status_code for n in range(3)]
        assert statuses == [401, 401, 401]
        refused = post_login(hub, attacker, admin.username, admin.password)
        assert refused.status_code == 429
        assert 0 < int(refused.headers["Retry-After"]) <= 15 * 60
        assert "eduops_session" not in refused.headers.get("Set-Cookie", "")
    finally:
        hub.stop()


def test_behind_a_trusted_https_proxy_cookies_are_secure_and_addresses_are_the_clients(db_path):
    admin = add_admin(db_path)
    hub = HubProcess(db_path, env={"EDUOPS_TRUSTED_PROXY": "127.0.0.1", "EDUOPS_LOGIN_MAX_FAILURES_PER_ADDRESS": "2"})
    try:
        via_https = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "10.8.0.11"}
        answer = post_login(hub, requests.Session(), admin.username, admin.password, **via_https)
        assert answer.status_code == 303 and "Secure" in answer.headers["Set-Cookie"]
        assert answer.headers["Strict-Transport-Security"]
        for n in range(2):
            post_login(hub, requests.Session(), f"nobody{n}", "wrong-password", **via_https)
        locked = post_login(hub, requests.Session(), admin.username, admin.password, **via_https)
        assert locked.status_code == 429
        other_school = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "10.8.0.12"}
        assert post_login(hub, requests.Session(), admin.username, admin.password, **other_school).status_code == 303
    finally:
        hub.stop()


def test_without_a_trusted_proxy_forwarded_headers_are_ignored(hub, make_user):
    user = make_user("viewer")
    answer = post_login(hub, requests.Session(), user.username, user.password, **{"X-Forwarded-Proto": "https"})
    assert answer.status_code == 303 and "Secure" not in answer.headers["Set-Cookie"]


def test_the_user_commands_manage_accounts_that_the_hub_then_honours(db_path, two_schools):
    add_admin(db_path)
    db = ("--db", str(db_path))
    assert eduops("user", "add", "zhang", "--role", "it_staff", "--school", "S1", "--password-stdin", *db,
                  stdin="zhang-password-1\n").returncode == 0
    bad = eduops("user", "add", "li", "--role", "teacher", "--school", "S9", "--password-stdin", *db,
                 stdin="li-password-12\n")
    assert bad.returncode == 1 and "Unknown school code(s): S9" in bad.stderr
    weak = eduops("user", "add", "li", "--role", "teacher", "--school", "S2", "--password-stdin", *db, stdin="li\n")
    assert weak.returncode == 1 and "at least 10 characters" in weak.stderr
    assert eduops("user", "role", "zhang", "teacher", "--school", "S2", *db).returncode == 0
    listed = eduops("user", "list", *db).stdout
    assert re.search(r"zhang\s+teacher\s+S2\s", listed) and re.search(r"root\s+admin\s", listed)
    created = eduops("user", "token", "create", "zhang", "--name", "nightly export", *db)
    token = created.stdout.strip()
    assert created.returncode == 0 and token.startswith("eduops_")
    hub = HubProcess(db_path)
    try:
        bearer = {"Authorization": f"Bearer {token}"}
        assert hub.get("/api/v1/me", headers=bearer).json()["schools"] == ["S2"]
        browser = requests.Session()
        login(browser, Account(0, "zhang", "zhang-password-1", "teacher", frozenset({"S2"})), hub.url)
        assert eduops("user", "passwd", "zhang", "--password-stdin", *db, stdin="zhang-password-2\n").returncode == 0
        assert browser.get(hub.url + "/api/v1/me", timeout=10).status_code == 401  # signed out by the reset
        token_id = re.search(r"^\s*(\d+)\s+zhang", eduops("user", "token", "list", "zhang", *db).stdout, re.M).group(1)
        assert eduops("user", "token", "revoke", token_id, *db).returncode == 0
        assert hub.get("/api/v1/me", headers=bearer).status_code == 401
    finally:
        hub.stop()
    assert eduops("user", "passwd", "nobody", "--password-stdin", *db, stdin="whatever-pass-1\n").returncode == 1


def test_no_password_token_or_session_id_appears_in_the_hubs_log(db_path, two_schools):
    admin = add_admin(db_path)
    hub = HubProcess(db_path, env={"EDUOPS_LOG_LEVEL": "DEBUG"})
    try:
        browser = requests.Session()
        secrets = [admin.password, login(browser, admin, hub.url), browser.cookies["eduops_session"]]
        page = browser.post(hub.url + "/users", data={"username": "sun", "role": "teacher", "schools": "S1"},
                            timeout=10)
        secrets.append(re.search(r'class="secret" value="([^"]+)"', page.text).group(1))
        token_page = browser.post(hub.url + "/account/tokens", data={"name": "script"}, timeout=10)
        secrets.append(re.search(r'value="(eduops_[^"]+)"', token_page.text).group(1))
        hub.get("/api/v1/me", headers={"Authorization": f"Bearer {secrets[-1]}"})
        post_login(hub, requests.Session(), "sun", "a-wrong-password-typed")
        secrets.append("a-wrong-password-typed")
        browser.post(hub.url + "/logout", timeout=10)
    finally:
        hub.stop()
    assert "root signed in" in hub.output and "failed sign-in" in hub.output
    for secret in secrets:
        assert secret not in hub.output


def test_the_demo_prints_an_account_per_role_that_signs_in(tmp_path):
    demo = HubProcess(tmp_path / "demo.db", command="demo", extra_args=("--agents", "0"))
    try:
        found = dict(re.findall(r"^\s+(demo-\S+)\s+\S+\s+password: (\S+)$", demo.output, re.M))
        assert set(found) == {"demo-admin", "demo-it", "demo-teacher", "demo-viewer"}
        expected = {"demo-admin": ("admin", []), "demo-it": ("it_staff", ["S001"]),
                    "demo-teacher": ("teacher", ["S001"]), "demo-viewer": ("viewer", [])}
        for username, password in found.items():
            browser = requests.Session()
            login(browser, Account(0, username, password, "", frozenset()), demo.url)
            me = browser.get(demo.url + "/api/v1/me", timeout=10).json()
            assert (me["role"], me["schools"]) == expected[username]
    finally:
        demo.stop()
