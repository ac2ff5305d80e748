"""Accounts for tests: users made straight in the hub's database, signed in through the real form."""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import requests
from flask.testing import FlaskClient

from eduops import county
from eduops.accounts import store as accounts
from eduops import db as dbmod
from eduops.audit import COMMAND_LINE
from eduops.clock import utcnow

CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass(frozen=True)
class Account:
    """A user made for a test, with the password it signs in with."""
    id: int
    username: str
    password: str
    role: str
    schools: frozenset[str]


def create_user(db_path: Path, role: str, schools: Iterable[str] = (), username: str | None = None,
                password: str | None = None) -> Account:
    database = dbmod.connect(db_path)
    try:
        dbmod.migrate(database)
        count = database.execute("SELECT COUNT(*) FROM users").fetchone()[0]
        username = username or f"{role.replace('_', '-')}{count + 1}"
        password = password or f"pw-{username}-long-enough"
        user = accounts.add_user(database, username, role, schools, password, COMMAND_LINE, utcnow())
    finally:
        database.conn.close()
    return Account(user.id, username, password, role, user.school_codes)


def add_schools(db_path: Path, codes: Iterable[str]) -> tuple[str, ...]:
    """Schools (in one township of the main urban area) for users to work for."""
    codes = tuple(codes)
    database = dbmod.connect(db_path)
    try:
        dbmod.migrate(database)
        county.apply_inventory(database, {
            "townships": [{"code": "T01", "name": "古城街道", "area_code": "main_urban"}],
            "schools": [{"code": code, "name": f"测试学校{code}", "township_code": "T01", "stage": "primary",
                         "pupils": 100, "small_scale": 0, "uplink_mbps": 100.0, "wired_planned": 1,
                         "wireless_planned": 1, "wifi_ssid": ""} for code in codes]})
    finally:
        database.conn.close()
    return codes


def csrf_from(html: str) -> str:
    match = CSRF_INPUT.search(html)
    assert match, "the page has no CSRF token"
    return match.group(1)


def login(client: FlaskClient | requests.Session, user: Account, base_url: str = "") -> str:
    """Sign in through the login form; later requests of this client send the CSRF token by themselves.

    Works with a Flask test client or, with ``base_url`` (a HubProcess's url), a requests.Session.
    Returns the session's CSRF token.
    """
    if isinstance(client, requests.Session):
        form = client.get(base_url + "/login", timeout=10)
        answer = client.post(base_url + "/login", timeout=10, allow_redirects=False, data={
            "username": user.username, "password": user.password, "csrf_token": csrf_from(form.text)})
        assert answer.status_code == 303, answer.text
        token = csrf_from(client.get(base_url + "/account", timeout=10).text)
        client.headers["X-CSRF-Token"] = token
        return token
    form = client.get("/login")
    answer = client.post("/login", data={"username": user.username, "password": user.password,
                                         "csrf_token": csrf_from(form.text)})
    assert answer.status_code == 303, answer.text
    token = csrf_from(client.get("/account").text)
    client.environ_base["HTTP_X_CSRF_TOKEN"] = token
    return token


class Visitor:
    """Someone signed in to the hub (or not), asking for pages and API answers."""

    def __init__(self, url: str, account=None):
        self.url, self.session = url, requests.Session()
        if account is not None:
            login(self.session, account, base_url=url)

    def get(self, path: str, **kw) -> requests.Response:
        return self.session.get(self.url + path, timeout=10, **kw)
