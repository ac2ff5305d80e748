"""The room rollups coverage reads (room_days, room_firsts): kept by the ingest writer as agent_days
is, worked out afresh when an agent leaves or rejoins service, and "as of" a backdated moment."""
from collections import Counter
from datetime import timedelta

from eduops import db as dbmod
from eduops.audit import COMMAND_LINE
from eduops.clock import local_day, to_iso
from eduops.coverage import report
from eduops.fleet import agents, ingest, room_days
from eduops.fleet.agents import Identity
from eduops.fleet.protocol import EnrollRequest
from tests.support import coverage_county
from tests.support.fleet_kit import create_token
from tests.support.fleet_tables import add_agent

NOW = coverage_county.NOW  # 2026-03-10 12:00 in Huize


def rollups(db):
    return (db.execute("SELECT * FROM room_days ORDER BY room_code, day").fetchall(),
            db.execute("SELECT * FROM room_firsts ORDER BY room_code").fetchall())


def report_row(n: int, at, wired: int, ssid: str | None, dbm: int | None) -> ingest.ReportRow:
    return ingest.ReportRow(f"00000000-0000-0000-0000-{n:012d}", n, to_iso(at), to_iso(at),
                            local_day(at, "Asia/Shanghai"), wired, ssid, dbm, "{}")


def test_the_ingest_writer_keeps_the_room_rollups_as_agent_days_would_make_them(fresh_db):
    coverage_county.build(fresh_db)
    add_agent(fresh_db, "ag-9", "A", "A-R1")
    with dbmod.write(fresh_db):
        fresh_db.execute("UPDATE agents SET key_hash = 'key-' || id WHERE id IN ('ag-1', 'ag-9')")
    # Two agents in A-R1: reports out of time order, a stronger hotspot, the school's own SSID weaker
    # then stronger, a wired link only later in the day, an older day.
    ag1, ag9 = (Identity(a, "A", "A-R1", f"key-{a}") for a in ("ag-1", "ag-9"))
    t = NOW - timedelta(hours=3)
    batches = [(ag1, [report_row(1, t, 0, "A-WIFI", -80), report_row(2, t - timedelta(hours=1), 0, "Phone", -30)]),
               (ag9, [report_row(3, t + timedelta(minutes=5), 1, "A-WIFI", -65)]),
               (ag1, [report_row(4, t + timedelta(hours=1), 1, "A-WIFI", -55),
                      report_row(5, t - timedelta(days=2), 1, None, None)]),
               (ag9, [report_row(6, t + timedelta(hours=2), 0, "A-WIFI", -90)])]
    for identity, rows in batches:
        sub = ingest.Submission(identity, rows, 0.0, NOW)
        assert ingest.write_group(fresh_db, [sub], Counter(), dbmod.StorageHealth())
        assert sub.failed is None and set(sub.statuses) == {"accepted"}
    kept = rollups(fresh_db)
    [today] = [r for r in kept[0] if r[0] == "A-R1" and r[1] == "2026-03-10"]
    assert today == ("A-R1", "2026-03-10", to_iso(t - timedelta(hours=1)), to_iso(t + timedelta(minutes=5)),
                     to_iso(t), -55)
    with dbmod.write(fresh_db):
        room_days.refresh(fresh_db, None)  # worked out from agent_days alone
    assert rollups(fresh_db) == kept


def test_a_retired_agent_stops_counting_from_its_retirement_and_counts_again_once_enrolled_again(
        fresh_db, db_path, hub_config):
    coverage_county.build(fresh_db)
    observed = lambda at: report.load(fresh_db, hub_config, at, None).rooms["A-R1"]  # noqa: E731
    assert observed(NOW).working and observed(NOW).wireless  # ag-1, yesterday
    agents.retire(fresh_db, "ag-1", NOW, COMMAND_LINE)
    after = observed(NOW + timedelta(minutes=1))
    assert (after.working, after.wired, after.wireless) == (False, False, False)
    assert after.ever_reported and after.ever_school_wifi  # the disagreements still know A-R1 reported
    before = observed(NOW - timedelta(minutes=1))  # a snapshot backdated to before the retirement
    assert (before.working, before.wired, before.wireless) == (True, True, True)
    request = EnrollRequest(token=create_token(db_path, "A"), instance_id="inst-ag-1", room="A-R1",
                            hardware={"hostname": "ag-1", "machine_id": "m-1", "macs": [], "display_serials": []})
    agents.enroll(fresh_db, request, NOW + timedelta(minutes=2))
    again = observed(NOW + timedelta(minutes=3))
    assert (again.working, again.wired, again.wireless) == (True, True, True)
