"""Migration 0006 carries a database built at schema 0005 forward: its agent_days rows keep counting."""
from datetime import timedelta

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
    assert (rep.observed.working_rooms, rep.observed.wired_rooms, rep.observed.wireless_rooms) == (
        {"A-R1", "D-R1"}, {"A-R1"}, {"A-R1"})
    # The carried days count from the start of their day: a snapshot at 08:00 on 03-10 sees ag-8's day.
    early = report.load(database, hub_config, NOW - timedelta(hours=4), None)
    assert "D-R1" in early.observed.working_rooms
    kinds = {(d.kind, d.room.code if d.room else d.school.code) for d in report.disagreements(database, rep)}
    assert ("terminal_unseen", "B-R1") not in kinds and ("wifi_unseen", "A") not in kinds
    assert ("wifi_unseen", "D") in kinds
    indexes = {name for (name,) in database.execute("SELECT name FROM sqlite_master WHERE type = 'index' "
                                                    "AND tbl_name = 'agent_days' AND sql IS NOT NULL")}
    assert indexes == {"agent_days_agent", "agent_days_room_school_wifi"}
    database.conn.close()
