"""Coverage's SQL where the hand-built county does not reach: an SSID many schools share, and the plan
that keeps the per-room questions independent of how long the history has grown."""
from eduops.coverage import figures, store
from tests.support import coverage_county
from tests.support.fleet_tables import add_agent

WINDOW = figures.observation_window(coverage_county.NOW, 7, "Asia/Shanghai")


def wifi_ever_seen(db, scope=None):
    return {r.school_code for r in store.rooms(db, store.inventory(db).rooms, WINDOW, -75, scope).values() if r.ever_school_wifi}


def test_a_schools_wifi_counts_as_seen_only_by_its_own_agents_on_any_day_at_any_strength(fresh_db):
    coverage_county.build(fresh_db)  # A's agents saw A-WIFI; C's saw C-WIFI below the threshold; D's never
    assert wifi_ever_seen(fresh_db) == {"A", "C"}
    add_agent(fresh_db, "ag-9", "D", "D-R1", last_report_at="2025-01-01T00:00:00.000000Z",
              days=[("2025-01-01", 0, "A-WIFI", -95)])  # another school's SSID: not D's Wi-Fi
    assert wifi_ever_seen(fresh_db) == {"A", "C"}
    add_agent(fresh_db, "ag-10", "D", "D-R1", last_report_at="2025-01-01T00:00:00.000000Z",
              days=[("2025-01-01", 0, "D-WIFI", -95)])  # long ago, very weak
    assert wifi_ever_seen(fresh_db) == {"A", "C", "D"}
    assert wifi_ever_seen(fresh_db, frozenset({"C", "D"})) == {"C", "D"}


def test_each_room_is_a_few_index_probes_not_a_walk_through_its_history(fresh_db):
    listed = store.inventory(fresh_db).rooms
    ran: list[str] = []
    fresh_db.conn.set_trace_callback(ran.append)
    store.rooms(fresh_db, listed, WINDOW, -75, None)
    fresh_db.conn.set_trace_callback(None)
    sql, unlisted = ran
    plan = [row[3] for row in fresh_db.execute("EXPLAIN QUERY PLAN " + sql)]
    assert "SEARCH d USING PRIMARY KEY (room_code=? AND day>? AND day<?)" in plan, plan  # room_days, the window
    assert "SEARCH f USING PRIMARY KEY (room_code=?) LEFT-JOIN" in plan, plan  # room_firsts, one row
    assert "SEARCH a USING INDEX agents_retired (retired_at>?)" in plan, plan  # the few retired since until
    assert "SEARCH d USING INDEX agent_days_agent (agent_id=? AND day>? AND day<?)" in plan, plan  # their days
    assert not any(step.startswith(("SCAN d", "SCAN a", "SCAN f")) for step in plan), plan
    plan = [row[3] for row in fresh_db.execute("EXPLAIN QUERY PLAN " + unlisted)]
    assert "SEARCH agents USING INDEX agents_room (room_code=?)" in plan, plan  # only the rooms listing no terminal
