import sqlite3

import pytest

from eduops import county
from eduops import db as dbmod


def test_migrate_creates_the_county_model_and_is_idempotent(db_path):
    database = dbmod.connect(db_path)
    version = dbmod.migrate(database)
    assert version == max(n for n, _, _ in dbmod.migrations())
    assert {"areas", "townships", "schools", "rooms", "classes", "terminals"} <= set(database.table_names())
    assert dbmod.migrate(database) == version
    assert [a["code"] for a in database["areas"].rows_where(order_by="sort")] == \
        ["main_urban", "zhehai", "nagu", "daibu", "yiche"]


def test_connection_rules(fresh_db):
    assert fresh_db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert fresh_db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert fresh_db.execute("PRAGMA busy_timeout").fetchone()[0] == dbmod.BUSY_TIMEOUT_MS


def test_a_failed_write_leaves_nothing_behind(fresh_db):
    with pytest.raises(sqlite3.IntegrityError):
        with dbmod.write(fresh_db):
            fresh_db.execute("INSERT INTO townships (code, name, area_code) VALUES ('T1', 'x', 'nagu')")
            fresh_db.execute("INSERT INTO townships (code, name, area_code) VALUES ('T2', 'y', 'atlantis')")
    assert county.table_counts(fresh_db, ["townships"]) == {"townships": 0}


def test_meta_values_are_replaced_not_duplicated(fresh_db):
    county.set_meta(fresh_db, "demo", "1")
    county.set_meta(fresh_db, "demo", "0")
    assert county.get_meta(fresh_db, "demo") == "0"
    assert county.get_meta(fresh_db, "missing", "default") == "default"
