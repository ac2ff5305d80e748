"""The daily coverage snapshot: idempotent within a day, kept for good, read back as the trend."""
import random
import subprocess
import sys
from datetime import timedelta

import pytest

from eduops import county
from eduops.coverage import figures, report, snapshots
from eduops.demo import history as demo_history
from tests.support import coverage_county
from tests.support.coverage_county import EXPECTED

NOW = coverage_county.NOW  # 2026-03-10 12:00 in Huize


@pytest.fixture
def hand_county(fresh_db):
    coverage_county.build(fresh_db)
    return fresh_db


def stored(db):
    return list(db.query("SELECT * FROM coverage_snapshots ORDER BY day, level, code"))


def test_a_second_run_on_the_same_day_changes_nothing(hand_county, hub_config):
    first = snapshots.take_daily_snapshot(hand_county, NOW, hub_config)
    assert first == {"day": "2026-03-10", "nodes": 16, "classes": 12}
    before = stored(hand_county)
    snapshots.take_daily_snapshot(hand_county, NOW + timedelta(hours=1), hub_config)
    after = stored(hand_county)
    assert [{k: v for k, v in r.items() if k != "taken_at"} for r in after] == \
        [{k: v for k, v in r.items() if k != "taken_at"} for r in before]
    county_row = next(r for r in after if r["level"] == "county")
    assert {k: county_row[k] for k in EXPECTED[("county", "")]} == EXPECTED[("county", "")]


def test_each_day_keeps_its_own_snapshot_and_the_days_last_run_wins(hand_county, hub_config):
    snapshots.take_daily_snapshot(hand_county, NOW - timedelta(days=1), hub_config)
    snapshots.take_daily_snapshot(hand_county, NOW, hub_config)
    county.apply_inventory(hand_county, {"terminals": [
        {"code": "B-T2", "school_code": "B", "room_code": "B-R2", "kind": "projector", "asset_tag": ""}]})
    snapshots.take_daily_snapshot(hand_county, NOW + timedelta(hours=2), hub_config)
    rows = {(r["day"], r["level"], r["code"]): r for r in stored(hand_county)}
    assert len(rows) == 32
    assert rows[("2026-03-09", "school", "B")]["class_terminal_inventory"] == 1
    assert rows[("2026-03-10", "school", "B")]["class_terminal_inventory"] == 2


def test_the_trend_by_area_reads_the_snapshots_back(hand_county, hub_config):
    for days_back in (3, 1, 0):
        snapshots.take_daily_snapshot(hand_county, NOW - timedelta(days=days_back), hub_config)
    rep = report.load(hand_county, hub_config, NOW, None)
    trend = snapshots.trend(hand_county, rep, "county", "", 30, "2026-03-10")
    assert trend["days"] == ["2026-03-07", "2026-03-09", "2026-03-10"]
    assert [(s["level"], s["code"]) for s in trend["series"]] == [
        ("county", ""), ("area", "main_urban"), ("area", "zhehai"), ("area", "nagu"), ("area", "daibu"), ("area", "yiche")]
    nagu = trend["series"][3]["counts"]
    assert nagu["classes"] == [3, 3, 3]
    # A snapshot sees only its own window, the last 7 days up to its moment: on 03-07 (03-01 .. 03-07)
    # neither B's wired day of 02-28 nor C's of 03-10; on 03-09 neither; on 03-10 C's only.
    assert nagu["school_wired_observed"] == [0, 0, 1]
    short = snapshots.trend(hand_county, rep, "county", "", 2, "2026-03-10")
    assert short["days"] == ["2026-03-09", "2026-03-10"]


def test_a_scoped_trend_shows_only_the_scopes_schools(hand_county, hub_config):
    snapshots.take_daily_snapshot(hand_county, NOW, hub_config)
    rep = report.load(hand_county, hub_config, NOW, frozenset({"B", "C"}))
    trend = snapshots.trend(hand_county, rep, "county", "", 30, "2026-03-10")
    assert [(s["level"], s["code"]) for s in trend["series"]] == [("school", "B"), ("school", "C")]


def test_the_command_line_takes_one_snapshot(hand_county, db_path):
    def run(*args):
        return subprocess.run([sys.executable, "-m", "eduops", "coverage", "snapshot", "--db", str(db_path), *args],
                              capture_output=True, text=True, timeout=60)

    done = run("--now", "2026-03-10T23:50:00+08:00")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "coverage snapshot of 2026-03-10: 16 nodes, 12 classes"
    assert run("--now", "2026-03-10T16:30:00Z").stdout.startswith("coverage snapshot of 2026-03-11")
    naive = run("--now", "2026-03-10T16:30:00")  # county time or UTC? refused, not guessed
    assert naive.returncode == 2 and "+08:00" in naive.stderr
    assert stored(hand_county) and {r["day"] for r in stored(hand_county)} == {"2026-03-10", "2026-03-11"}
    bad = run("--now", "yesterday")
    assert bad.returncode == 2 and "'yesterday' is not an ISO 8601 time" in bad.stderr


def test_the_demo_past_adds_up_and_only_grows_toward_today(hand_county, hub_config):
    demo_history.seed_demo_history(hand_county, NOW, hub_config, random.Random(3), days=30)
    rows = stored(hand_county)
    days = sorted({r["day"] for r in rows})
    assert len(days) == 31 and days[-1] == "2026-03-10"
    by_day = {d: {(r["level"], r["code"]): r for r in rows if r["day"] == d} for d in days}
    for day, nodes in by_day.items():
        for count in figures.COUNTS:
            assert nodes[("county", "")][count] == sum(r[count] for (lv, _), r in nodes.items() if lv == "area")
            assert nodes[("county", "")][count] == sum(r[count] for (lv, _), r in nodes.items() if lv == "school")
    for earlier, later in zip(days, days[1:]):
        for key, row in by_day[earlier].items():
            assert all(row[c] <= by_day[later][key][c] for c in figures.COUNTS if c.endswith("_inventory"))
    first, today = by_day[days[0]][("county", "")], by_day[days[-1]][("county", "")]
    assert sum(first[c] for c in figures.COUNTS if c.endswith("_inventory")) < \
        sum(today[c] for c in figures.COUNTS if c.endswith("_inventory"))
    assert {k: today[k] for k in EXPECTED[("county", "")]} == EXPECTED[("county", "")]


def snapshot_command(db_path, *args):
    return subprocess.run([sys.executable, "-m", "eduops", "coverage", "snapshot", "--db", str(db_path), *args],
                          capture_output=True, text=True, timeout=60)


def test_a_backdated_snapshot_counts_only_what_had_reported_by_its_now(hand_county, db_path):
    # On 2026-03-08 at noon in Huize the window is 03-02 .. 03-08. Only ag-2 had reported in it
    # (its day of 03-02 in A-R3: wired up, A-WIFI at -40), so only A-C4 is observed, on every measure.
    # ag-1, ag-4, ag-6 and ag-8 first reported on 03-09 and 03-10: nothing of theirs counts yet.
    done = snapshot_command(db_path, "--now", "2026-03-08T12:00:00+08:00")
    assert done.returncode == 0, done.stderr
    [row] = hand_county.query("SELECT * FROM coverage_snapshots WHERE level = 'county' AND day = '2026-03-08'")
    assert {k: row[k] for k in ("class_terminal_observed", "class_wired_observed", "class_wireless_observed",
                                "school_wired_observed", "school_wireless_observed")} == {
        "class_terminal_observed": 1, "class_wired_observed": 1, "class_wireless_observed": 1,
        "school_wired_observed": 1, "school_wireless_observed": 1}
