"""Coverage's SQL where the hand-built county does not reach: an SSID many schools share, and the plan
that keeps the "ever seen" question independent of how long agent_days has grown."""
from eduops.coverage import store
from tests.support import coverage_county
from tests.support.fleet_tables import add_agent


def test_a_schools_wifi_counts_as_seen_only_by_its_own_agents_on_any_day_at_any_strength(fresh_db):
    coverage_county.build(fresh_db)  # A's agents saw A-WIFI; C's saw C-WIFI below the threshold; D's never
    assert store.schools_ssid_ever_seen(fresh_db, None) == {"A", "C"}
    fresh_db.execute("UPDATE schools SET wifi_ssid = 'A-WIFI' WHERE code = 'D'")  # D now shares A's SSID
    assert store.schools_ssid_ever_seen(fresh_db, None) == {"A", "C"}
    add_agent(fresh_db, "ag-9", "D", "D-R1", last_report_at="2025-01-01T00:00:00.000000Z",
              days=[("2025-01-01", 0, "A-WIFI", -95)])  # long ago, very weak
    assert store.schools_ssid_ever_seen(fresh_db, None) == {"A", "C", "D"}
    assert store.schools_ssid_ever_seen(fresh_db, frozenset({"C", "D"})) == {"C", "D"}


def test_each_agent_is_one_probe_of_the_ssid_index_not_a_walk_through_its_days(fresh_db):
    ran: list[str] = []
    fresh_db.conn.set_trace_callback(ran.append)
    store.schools_ssid_ever_seen(fresh_db, None)
    fresh_db.conn.set_trace_callback(None)
    [sql] = ran
    plan = [row[3] for row in fresh_db.execute("EXPLAIN QUERY PLAN " + sql)]
    assert "SEARCH d USING COVERING INDEX agent_days_ssid (wifi_ssid=? AND agent_id=?)" in plan, plan
