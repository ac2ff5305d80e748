"""The inventory is read once and kept until it changes (migration 0011's mark): an import, from
the hub or from another process, and a row fixed by hand in the sqlite3 shell are seen at once,
and nothing else makes coverage read the inventory's tables again."""
import sqlite3
import subprocess
import sys

import pytest
from prometheus_client.parser import text_string_to_metric_families

from eduops import county
from eduops import db as dbmod
from eduops.coverage import store
from tests.support import inventory_files
from tests.support.accounts_helpers import Visitor, create_user
from tests.support.hubprocess import HubProcess


def statements(db, call):
    ran: list[str] = []
    db.conn.set_trace_callback(ran.append)
    try:
        call()
    finally:
        db.conn.set_trace_callback(None)
    return ran


def test_the_inventory_is_read_again_only_after_a_write_to_it(fresh_db, db_path, tmp_path):
    book = inventory_files.make_xlsx(tmp_path / "county.xlsx", inventory_files.GOOD)
    inventory_files.run_import(fresh_db, book)
    first = store.inventory(fresh_db)
    assert [c.code for c in first.classes] == ["S1-C1", "S2-C1"]
    again = statements(fresh_db, lambda: store.inventory(fresh_db))
    assert again == ["BEGIN", "SELECT value FROM meta WHERE key = 'inventory_version'", "COMMIT"]  # only the mark
    assert store.inventory(fresh_db) is first

    inventory_files.run_import(fresh_db, book)  # the same workbook writes nothing
    assert store.inventory(fresh_db) is first

    changed = dict(inventory_files.GOOD, 班级=inventory_files.CLASSES + [["S1-C2", "S1", 2, "二年级(1)班", "S1-B1"]])
    inventory_files.run_import(fresh_db, inventory_files.make_xlsx(tmp_path / "more.xlsx", changed))
    assert [c.code for c in store.inventory(fresh_db).classes] == ["S1-C1", "S1-C2", "S2-C1"]

    by_hand = sqlite3.connect(db_path)
    with by_hand:
        by_hand.execute("UPDATE rooms SET name = '102' WHERE code = 'S1-R1'")
    assert store.inventory(fresh_db).rooms["S1-R1"].name == "102"
    with by_hand:
        by_hand.execute("DELETE FROM classes WHERE code = 'S1-C2'")
    assert [c.code for c in store.inventory(fresh_db).classes] == ["S1-C1", "S2-C1"]
    by_hand.close()


def test_the_mark_and_what_it_marks_are_read_in_one_snapshot(fresh_db, db_path, tmp_path):
    """An import committed while the inventory is being read is not half seen (kept under the old mark)."""
    book = inventory_files.make_xlsx(tmp_path / "county.xlsx", inventory_files.GOOD)
    inventory_files.run_import(fresh_db, book)
    other = dbmod.connect(db_path)
    with dbmod.snapshot(fresh_db):
        mark = county.get_meta(fresh_db, "inventory_version")
        with dbmod.write(other):
            other.execute("DELETE FROM classes WHERE code = 'S2-C1'")
        assert [c for (c,) in fresh_db.execute("SELECT code FROM classes ORDER BY code")] == ["S1-C1", "S2-C1"]
        assert county.get_meta(fresh_db, "inventory_version") == mark
    assert [c.code for c in store.inventory(fresh_db).classes] == ["S1-C1"]
    other.conn.close()


def test_each_write_to_any_inventory_table_changes_the_mark(fresh_db):
    marks = {county.get_meta(fresh_db, "inventory_version")}
    writes = ["INSERT INTO townships (code, name, area_code) VALUES ('T9', 't', 'main_urban')",
              "UPDATE townships SET name = 'u' WHERE code = 'T9'",
              "INSERT INTO schools (code, name, township_code, stage) VALUES ('S9', 's', 'T9', 'primary')",
              "INSERT INTO rooms (code, school_code, name, kind) VALUES ('R9', 'S9', 'r', 'ordinary')",
              "INSERT INTO classes (code, school_code, grade, name, room_code) VALUES ('C9', 'S9', 1, 'c', 'R9')",
              "INSERT INTO terminals (code, school_code, room_code, kind) VALUES ('X9', 'S9', 'R9', 'pc')",
              "DELETE FROM terminals", "DELETE FROM classes", "DELETE FROM rooms", "DELETE FROM schools",
              "DELETE FROM townships", "UPDATE areas SET name_en = name_en || '.'"]
    for sql in writes:
        with fresh_db.conn:
            fresh_db.conn.execute(sql)
        mark = county.get_meta(fresh_db, "inventory_version")
        assert mark not in marks, sql
        marks.add(mark)


@pytest.mark.e2e
def test_a_running_hub_shows_an_import_made_by_another_process_at_the_next_request(db_path, fresh_db, tmp_path):
    book = inventory_files.make_xlsx(tmp_path / "county.xlsx", inventory_files.GOOD)
    inventory_files.run_import(fresh_db, book)
    viewer = create_user(db_path, "viewer")
    hub = HubProcess(db_path)
    try:
        visitor = Visitor(hub.url, viewer)

        def figures():
            answer = visitor.get("/api/v1/coverage")
            assert answer.status_code == 200, answer.text
            return answer.json()["figures"]

        def classes_in_metrics():
            answer = visitor.session.get(hub.url + "/metrics", timeout=30)
            [family] = [f for f in text_string_to_metric_families(answer.text) if f.name == "eduops_inventory_classes"]
            return sum(sample.value for sample in family.samples)

        assert figures()["classes"] == 2 and classes_in_metrics() == 2
        assert figures()["class_wireless"]["inventory"] == 1  # S1-R1 plans Wi-Fi, S2-R1 does not
        changed = dict(inventory_files.GOOD, 班级=inventory_files.CLASSES + [["S1-C2", "S1", 2, "二年级(1)班", "S1-B1"]])
        done = subprocess.run([sys.executable, "-m", "eduops", "import", "--db", str(db_path),
                               str(inventory_files.make_xlsx(tmp_path / "more.xlsx", changed))],
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        assert figures()["classes"] == 3 and classes_in_metrics() == 3
        assert figures()["class_wireless"]["inventory"] == 2  # the broadcast room plans Wi-Fi too
    finally:
        hub.stop()
