"""Migrations carry databases forward: 0006 and 0010 those built at schemas 0005 and 0009 (agent_days rows
keep counting), 0011 an inventory of schema 0010 (marked, so it is kept in memory only until it changes)."""
from datetime import datetime, timedelta, timezone

from eduops import county
from eduops import db as dbmod
from eduops.coverage import report
from tests.support import coverage_county
from tests.support.fleet_tables import ENROLLED_AT

NOW = coverage_county.NOW  # 2026-03-10 12:00 in Huize


def test_agent_days_of_schema_0005_keep_counting_after_0006(db_path, hub_config):
    database = dbmod.connect(db_path)
    assert dbmod.migrate(database, up_to=5) == 5
    coverage_county.build_inventory(database)
    # Written as 0005's ingest wrote them: one row per agent and day, the day's strongest SSID only.
    # ag-1 (A-R1): yesterday wired up, A's own A-WIFI at -60.   -> A-R1 working, wired, wireless
    # ag-8 (D-R1): today a phone hotspot, the strongest it saw. -> D-R1 working, not wireless
    # ag-5 (B-R1): 8 days ago, wired up: outside the window.    -> nothing, but B-R1 did report once
    with dbmod.write(database):
        for agent, school, room in (("ag-1", "A", "A-R1"), ("ag-8", "D", "D-R1"), ("ag-5", "B", "B-R1")):
            database.execute("INSERT INTO agents (id, instance_id, school_code, room_code, state, last_report_at, "
                             "enrolled_at, state_since, hostname) VALUES (?, ?, ?, ?, 'online', ?, ?, ?, ?)",
                             [agent, agent, school, room, ENROLLED_AT, ENROLLED_AT, ENROLLED_AT, agent])
        database.conn.executemany(
            "INSERT INTO agent_days (agent_id, day, reports, wired_up_reports, wifi_ssid, wifi_best_dbm) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [("ag-1", "2026-03-09", 50, 50, "A-WIFI", -60), ("ag-8", "2026-03-10", 20, 0, "Phone-Hotspot", -40),
             ("ag-5", "2026-03-02", 10, 10, None, None)])

    assert dbmod.migrate(database) >= 6
    assert database.execute("SELECT agent_id, day, room_code, reports, first_report_at, first_wired_at, "
                            "wifi_ssid, school_wifi_reports, school_wifi_best_dbm FROM agent_days "
                            "ORDER BY agent_id").fetchall() == [
        ("ag-1", "2026-03-09", "A-R1", 50, "2026-03-08T00:00:00.000000Z", "2026-03-08T00:00:00.000000Z",
         "A-WIFI", 1, -60),
        ("ag-5", "2026-03-02", "B-R1", 10, "2026-03-01T00:00:00.000000Z", "2026-03-01T00:00:00.000000Z", None, 0, None),
        ("ag-8", "2026-03-10", "D-R1", 20, "2026-03-09T00:00:00.000000Z", None, "Phone-Hotspot", 0, None)]
    rep = report.load(database, hub_config, NOW, None)
    seen = {measure: {r.code for r in rep.rooms.values() if getattr(r, measure)}
            for measure in ("working", "wired", "wireless")}
    assert seen == {"working": {"A-R1", "D-R1"}, "wired": {"A-R1"}, "wireless": {"A-R1"}}
    # The carried days count from the start of their day: a snapshot at 08:00 on 03-10 sees ag-8's day.
    early = report.load(database, hub_config, NOW - timedelta(hours=4), None)
    assert early.rooms["D-R1"].working
    kinds = {(d.kind, d.room.code if d.room else d.school.code) for d in report.disagreements(database, rep)}
    assert ("terminal_unseen", "B-R1") not in kinds and ("wifi_unseen", "A") not in kinds
    assert ("wifi_unseen", "D") in kinds
    indexes = {name for (name,) in database.execute("SELECT name FROM sqlite_master WHERE type = 'index' "
                                                    "AND tbl_name = 'agent_days' AND sql IS NOT NULL")}
    assert indexes == {"agent_days_agent"}  # 0010 dropped agent_days_room_school_wifi for room_firsts
    database.conn.close()


def test_agent_days_of_schema_0009_keep_counting_after_0010(db_path, hub_config):
    database = dbmod.connect(db_path)
    assert dbmod.migrate(database, up_to=9) == 9
    coverage_county.build_inventory(database)
    # As 0009's ingest wrote them, per agent, day and room. Two agents in A-R1 (one yesterday wired with
    # A-WIFI at -70 first seen at 09:00, one today at -60 first seen at 10:00), ag-4 retired (its day in
    # A-R4 no longer counts, yet A-R4 did report once), ag-5 in B-R1 long ago.
    agent_rows = [("ag-1", "A", "A-R1", "online", None), ("ag-9", "A", "A-R1", "online", None),
                  ("ag-4", "A", "A-R4", "retired", "2026-03-09T12:00:00.000000Z"),
                  ("ag-5", "B", "B-R1", "offline", None)]
    day_rows = [("ag-1", "2026-03-09", "A-R1", "2026-03-09T01:00:00.000000Z", "2026-03-09T01:00:00.000000Z", -70,
                 "2026-03-09T01:00:00.000000Z"),
                ("ag-9", "2026-03-09", "A-R1", "2026-03-09T00:30:00.000000Z", None, -60, "2026-03-09T02:00:00.000000Z"),
                ("ag-4", "2026-03-09", "A-R4", "2026-03-09T00:00:00.000000Z", "2026-03-09T00:00:00.000000Z", -50,
                 "2026-03-09T00:00:00.000000Z"),
                ("ag-5", "2025-01-02", "B-R1", "2025-01-02T00:00:00.000000Z", None, None, None)]
    with dbmod.write(database):
        for agent, school, room, state, retired_at in agent_rows:
            database.execute("INSERT INTO agents (id, instance_id, school_code, room_code, state, retired_at, "
                             "enrolled_at, state_since, hostname) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                             [agent, agent, school, room, state, retired_at, ENROLLED_AT, ENROLLED_AT, agent])
        for agent, day, room, first, wired, dbm, wifi_at in day_rows:
            database.execute(
                "INSERT INTO agent_days (agent_id, day, room_code, reports, first_report_at, wired_up_reports, "
                "first_wired_at, wifi_ssid, wifi_best_dbm, school_wifi_reports, school_wifi_best_dbm, "
                "first_school_wifi_at) VALUES (?, ?, ?, 5, ?, ?, ?, ?, ?, ?, ?, ?)",
                [agent, day, room, first, int(wired is not None), wired, "A-WIFI" if dbm else None, dbm,
                 5 if dbm else 0, dbm, wifi_at])

    assert dbmod.migrate(database) >= 10
    assert database.execute("SELECT * FROM room_days ORDER BY room_code, day").fetchall() == [
        ("A-R1", "2026-03-09", "2026-03-09T00:30:00.000000Z", "2026-03-09T01:00:00.000000Z",
         "2026-03-09T01:00:00.000000Z", -60),
        ("B-R1", "2025-01-02", "2025-01-02T00:00:00.000000Z", None, None, None)]
    assert database.execute("SELECT * FROM room_firsts ORDER BY room_code").fetchall() == [
        ("A-R1", "2026-03-09T00:30:00.000000Z", "2026-03-09T01:00:00.000000Z"),
        ("A-R4", "2026-03-09T00:00:00.000000Z", "2026-03-09T00:00:00.000000Z"),
        ("B-R1", "2025-01-02T00:00:00.000000Z", None)]
    rooms = report.load(database, hub_config, NOW, None).rooms
    assert [(code, r.working, r.wired, r.wireless, r.ever_reported) for code, r in sorted(rooms.items())
            if code in ("A-R1", "A-R4", "B-R1")] == [
        ("A-R1", True, True, True, True), ("A-R4", False, False, False, True), ("B-R1", False, False, False, True)]
    # Before ag-4's retirement its day counts again (agent_days keeps it): a backdated snapshot sees it.
    assert report.load(database, hub_config, datetime(2026, 3, 9, 6, tzinfo=timezone.utc), None).rooms["A-R4"].working
    database.conn.close()


def test_an_inventory_of_schema_0010_is_marked_by_0011_and_later_writes_change_the_mark(db_path, hub_config):
    database = dbmod.connect(db_path)
    assert dbmod.migrate(database, up_to=10) == 10
    coverage_county.build_inventory(database)
    before = report.load(database, hub_config, NOW, None)
    assert dbmod.migrate(database) >= 11
    mark = county.get_meta(database, "inventory_version")
    assert mark and len(mark) == 16
    after = report.load(database, hub_config, NOW, None)
    assert (after.schools, after.classes, after.rooms) == (before.schools, before.classes, before.rooms)
    with dbmod.write(database):
        database.execute("UPDATE classes SET name = 'renamed' WHERE code = ?", [before.classes[0].code])
    assert county.get_meta(database, "inventory_version") != mark
    assert report.load(database, hub_config, NOW, None).classes[0].name == "renamed"
    database.conn.close()
