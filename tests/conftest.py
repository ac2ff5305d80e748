from __future__ import annotations

from pathlib import Path

import pytest

from eduops import config as configmod
from eduops import db as dbmod
from eduops.app import create_app
from tests.support import accounts_helpers
from tests.support.hubprocess import HubProcess


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "hub.db"


@pytest.fixture
def fresh_db(db_path: Path):
    """A migrated, empty hub database."""
    database = dbmod.connect(db_path)
    dbmod.migrate(database)
    yield database
    database.conn.close()


@pytest.fixture
def hub_config(db_path: Path) -> configmod.Config:
    return configmod.load(env={}, overrides={"db_path": db_path, "secret_key": "test-secret"})


@pytest.fixture
def app(hub_config, fresh_db):
    return create_app(hub_config)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def hub(db_path: Path):
    """A real `eduops hub` process on a free loopback port."""
    process = HubProcess(db_path)
    yield process
    process.stop()


@pytest.fixture
def two_schools(db_path: Path) -> tuple[str, ...]:
    """Two schools, S1 and S2, in the hub database (for users bound to schools)."""
    return accounts_helpers.add_schools(db_path, ("S1", "S2"))


@pytest.fixture
def make_user(db_path: Path):
    """make_user(role, schools=(), username=None, password=None) -> Account, stored in the hub database."""
    return lambda role, schools=(), **kw: accounts_helpers.create_user(db_path, role, schools, **kw)


@pytest.fixture
def login():
    """login(client_or_session, user, base_url="") -> CSRF token; see tests/support/accounts_helpers.py."""
    return accounts_helpers.login


@pytest.fixture
def county_hub(db_path: Path):
    """A real `eduops hub` process on the small county of tests/support/fleet_kit.build_county."""
    from tests.support.fleet_kit import build_county

    build_county(db_path)
    process = HubProcess(db_path)
    yield process
    process.stop()
    assert "Traceback" not in process.output


@pytest.fixture(scope="session")
def browser():
    """Debian's headless Chromium, driven by Playwright (never `playwright install`)."""
    from playwright.sync_api import sync_playwright

    # No background networking: this machine's closed network refuses Chromium's own calls home.
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync"]
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=flags)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    """A fresh browser tab that fails the test on any console error, page error or failed load."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    tab = context.new_page()
    errors = []
    # A failed load is reported by the response handler, which knows its address.
    tab.on("console", lambda m: errors.append(m.text)
           if m.type == "error" and not m.text.startswith("Failed to load resource") else None)
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    tab.on("requestfailed", lambda r: errors.append(f"{r.url}: {r.failure}"))
    tab.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    yield tab
    context.close()
    assert errors == []

