from __future__ import annotations

from pathlib import Path

import pytest

from eduops import config as configmod
from eduops import db as dbmod
from eduops.app import create_app
from tests.hubprocess import HubProcess


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
