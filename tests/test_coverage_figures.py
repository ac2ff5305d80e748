"""Coverage figures of the hand-built county (tests/support/coverage_county.py), worked out by hand."""
from collections import Counter
from datetime import datetime, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from eduops.coverage import figures, gaps, report
from eduops.coverage.figures import Room, School, SchoolClass
from tests.support import coverage_county
from tests.support.coverage_county import EXPECTED, EXPECTED_GAPS


@pytest.fixture
def hand_county(fresh_db):
    coverage_county.build(fresh_db)
    return fresh_db


def load(db, hub_config, scope=None):
    return report.load(db, hub_config, coverage_county.NOW, scope)


def test_the_hand_built_county_has_the_figures_worked_out_by_hand(hand_county, hub_config):
    assert load(hand_county, hub_config).totals == EXPECTED


def test_ratios_are_against_the_goal_of_every_class_and_every_school(hand_county, hub_config):
    county_figures = load(hand_county, hub_config).node("county", "")["figures"]
    assert county_figures["class_terminal"] == {"inventory": 9, "inventory_ratio": 0.75,
                                                "observed": 4, "observed_ratio": 0.3333}
    assert county_figures["school_wireless"] == {"inventory": 5, "inventory_ratio": 0.8333,
                                                 "observed": 1, "observed_ratio": 0.1667}
    school_c = load(hand_county, hub_config).node("school", "C")["figures"]
    assert school_c["class_terminal"]["inventory_ratio"] is None  # a school with no classes


def test_the_gap_list_names_every_class_and_school_short_of_the_goal(hand_county, hub_config):
    found = [(g.school.code, g.school_class.code if g.school_class else None, g.missing)
             for g in load(hand_county, hub_config).gap_list]
    assert found == EXPECTED_GAPS


def test_the_gaps_counted_by_kind_for_metrics_are_the_gap_lists_rows(hand_county, hub_config):
    rep = load(hand_county, hub_config)
    listed = Counter((g.school.area_code, g.level, tuple(g.missing.items())) for g in rep.gap_list)
    assert gaps.gap_kinds(rep.schools, rep.rooms, rep.classes, rep.observed) == listed
    assert sum(listed.values()) == len(EXPECTED_GAPS)


def test_the_disagreements_between_inventory_and_agents(hand_county, hub_config):
    found = [(d.kind, d.school.code, d.room.code if d.room else None, d.detail)
             for d in report.disagreements(hand_county, load(hand_county, hub_config))]
    assert found == [("terminal_unseen", "A", "A-R2", {"terminals": 1}),
                     ("agent_unlisted", "A", "A-R3", {"agents": 1}),
                     ("terminal_retired", "A", "A-R4", {"terminal": "A-T4"}),  # ag-4 retired, A-T4 still listed
                     ("wifi_unseen", "D", None, {"wifi_ssid": "D-WIFI"})] + [
        ("terminal_unseen", "E", room, {"terminals": 1}) for room in ("E-R1", "E-R2", "E-R3", "E-R4")]


def test_a_scope_counts_only_its_own_schools(hand_county, hub_config):
    scoped = load(hand_county, hub_config, frozenset({"B", "C"}))
    assert scoped.totals == {("county", ""): EXPECTED[("area", "nagu")],
                             **{k: v for k, v in EXPECTED.items() if k in
                                {("area", "nagu"), ("township", "T2"), ("school", "B"), ("school", "C")}}}
    assert [g.school.code for g in scoped.gap_list] == ["B", "B", "B", "B", "C"]


def test_a_wider_window_and_a_weaker_threshold_change_what_is_observed(hand_county, hub_config):
    wide = load(hand_county, hub_config.replace(coverage_window_days=11, coverage_wifi_min_dbm=-80))
    # ag-5 (10 days ago) now counts for B-R1; ag-2's wired day 8 days ago for A-R3; C-WIFI at -80 is usable.
    assert wide.totals[("school", "B")]["class_terminal_observed"] == 1
    assert wide.totals[("school", "A")]["class_wired_observed"] == 3
    assert wide.totals[("school", "C")]["school_wireless_observed"] == 1


@pytest.mark.parametrize("inventory, observed, status", [
    (True, True, None), (False, True, None), (True, False, "unobserved"), (False, False, "missing")])
def test_gap_status(inventory, observed, status):
    assert figures.gap_status(inventory, observed) == status


def test_the_window_is_the_last_seven_county_local_days_today_included():
    late_evening = datetime(2026, 3, 10, 15, 30, tzinfo=timezone.utc)  # 23:30 in Huize
    window = figures.observation_window(late_evening, 7, "Asia/Shanghai")
    assert window == figures.Window(first_day="2026-03-04", last_day="2026-03-10",
                                    until="2026-03-10T15:30:00.000000Z")
    after_midnight = datetime(2026, 3, 10, 16, 30, tzinfo=timezone.utc)  # 00:30 on the 11th
    assert figures.observation_window(after_midnight, 7, "Asia/Shanghai").first_day == "2026-03-05"
    assert figures.observation_window(after_midnight, 1, "Asia/Shanghai").first_day == "2026-03-11"


flags = st.booleans()
schools = {"X": School("X", "x", "TX", "main_urban", "primary", False, 100, True, True, "X"),
           "Y": School("Y", "y", "TY", "nagu", "junior", True, 50, False, False, "")}
room_codes = ("X1", "X2", "Y1")


def seen_room(code):
    """A room of school X or Y with any inventory and anything seen in it."""
    return st.builds(Room, code=st.just(code), school_code=st.just(code[0]), name=st.just(code),
                     terminals=st.integers(0, 2), wired_planned=flags, wireless_planned=flags, working=flags,
                     wired=flags, wireless=flags, ever_reported=flags, ever_school_wifi=flags,
                     unlisted_agents=st.integers(0, 2))


any_rooms = st.fixed_dictionaries({code: seen_room(code) for code in room_codes})


@given(any_rooms)
def test_a_school_is_observed_exactly_when_one_of_its_rooms_is(rooms):
    seen = figures.observe(rooms.values())
    assert seen.wired_schools == {r.school_code for r in rooms.values() if r.wired}
    assert seen.wireless_schools == {r.school_code for r in rooms.values() if r.wireless}


@given(rooms=any_rooms, rooms_of_classes=st.lists(st.sampled_from([*room_codes, None]), max_size=10))
def test_levels_add_up_and_a_class_is_a_gap_exactly_when_a_measure_is_not_observed(rooms, rooms_of_classes):
    classes = [SchoolClass(f"K{n}", (room or "X")[0], 1, "k", room) for n, room in enumerate(rooms_of_classes)]
    observed = figures.observe(rooms.values())
    totals = figures.tally(schools, rooms, classes, observed)
    for key in figures.COUNTS:
        assert totals[("county", "")][key] == sum(v[key] for (lv, _), v in totals.items() if lv == "area")
        assert totals[("county", "")][key] == sum(v[key] for (lv, _), v in totals.items() if lv == "school")
    for measure, seen_in in (("class_terminal", "working"), ("class_wired", "wired"), ("class_wireless", "wireless")):
        assert totals[("county", "")][measure + "_observed"] == sum(
            1 for c in classes if c.room_code and getattr(rooms[c.room_code], seen_in))
    class_gaps = [g for g in gaps.gap_list(schools, rooms, classes, observed) if g.school_class]
    for measure in figures.CLASS_MEASURES:
        short = sum(1 for g in class_gaps if measure in g.missing)
        assert short == len(classes) - totals[("county", "")][measure + "_observed"]
