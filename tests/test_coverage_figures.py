"""Coverage figures of the hand-built county (tests/coverage_county.py), worked out by hand."""
from datetime import datetime, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from eduops.coverage import figures, gaps, report
from eduops.coverage.figures import Room, RoomSeen, School, SchoolClass
from tests import coverage_county


def counts(classes, schools, terminal=(0, 0), wired=(0, 0), wireless=(0, 0), school_wired=(0, 0),
           school_wireless=(0, 0)):
    pairs = {"class_terminal": terminal, "class_wired": wired, "class_wireless": wireless,
             "school_wired": school_wired, "school_wireless": school_wireless}
    out = {"classes": classes, "schools": schools}
    for measure, (inventory, observed) in pairs.items():
        out[f"{measure}_inventory"], out[f"{measure}_observed"] = inventory, observed
    return out


# E's three classes and E and F themselves are in the inventory only (E's agents report in
# test_coverage_reported.py): all planned, none observed. zhehai is township T4: E and F.
EXPECTED = {
    ("county", ""): counts(12, 6, (9, 4), (9, 3), (8, 3), (5, 3), (5, 1)),
    ("area", "main_urban"): counts(6, 2, (5, 4), (5, 3), (5, 3), (2, 2), (2, 1)),
    ("area", "nagu"): counts(3, 2, (1, 0), (1, 0), (0, 0), (1, 1), (1, 0)),
    ("area", "zhehai"): counts(3, 2, (3, 0), (3, 0), (3, 0), (2, 0), (2, 0)),
    ("area", "daibu"): counts(0, 0),
    ("area", "yiche"): counts(0, 0),
    ("township", "T1"): counts(5, 1, (4, 3), (4, 2), (4, 3), (1, 1), (1, 1)),
    ("township", "T2"): counts(3, 2, (1, 0), (1, 0), (0, 0), (1, 1), (1, 0)),
    ("township", "T3"): counts(1, 1, (1, 1), (1, 1), (1, 0), (1, 1), (1, 0)),
    ("township", "T4"): counts(3, 2, (3, 0), (3, 0), (3, 0), (2, 0), (2, 0)),
    ("school", "A"): counts(5, 1, (4, 3), (4, 2), (4, 3), (1, 1), (1, 1)),
    ("school", "B"): counts(3, 1, (1, 0), (1, 0), (0, 0), (1, 0), (0, 0)),
    ("school", "C"): counts(0, 1, school_wired=(0, 1), school_wireless=(1, 0)),
    ("school", "D"): counts(1, 1, (1, 1), (1, 1), (1, 0), (1, 1), (1, 0)),
    ("school", "E"): counts(3, 1, (3, 0), (3, 0), (3, 0), (1, 0), (1, 0)),
    ("school", "F"): counts(0, 1, school_wired=(1, 0), school_wireless=(1, 0)),
}

U, M = "unobserved", "missing"
EXPECTED_GAPS = [
    ("A", "A-C3", {"class_terminal": U, "class_wired": U, "class_wireless": U}),
    ("A", "A-C4", {"class_wired": M}),
    ("A", "A-C5", {"class_terminal": U, "class_wired": U, "class_wireless": M}),
    ("D", None, {"school_wireless": U}),
    ("D", "D-C1", {"class_wireless": U}),
    ("E", None, {"school_wired": U, "school_wireless": U}),
    ("E", "E-C1", {"class_terminal": U, "class_wired": U, "class_wireless": U}),
    ("E", "E-C2", {"class_terminal": U, "class_wired": U, "class_wireless": U}),
    ("E", "E-C3", {"class_terminal": U, "class_wired": U, "class_wireless": U}),
    ("F", None, {"school_wired": U, "school_wireless": U}),
    ("B", None, {"school_wired": U, "school_wireless": M}),
    ("B", "B-C1", {"class_terminal": U, "class_wired": U, "class_wireless": M}),
    ("B", "B-C2", {"class_terminal": M, "class_wired": M, "class_wireless": M}),
    ("B", "B-C3", {"class_terminal": M, "class_wired": M, "class_wireless": M}),
    ("C", None, {"school_wireless": U}),
]


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


seen_rooms = st.builds(RoomSeen, room_code=st.sampled_from(["X1", "X2", "Y1"]), school_code=st.just("?"),
                      working=st.booleans(), wired=st.booleans(), wireless=st.booleans(),
                      ever_reported=st.booleans(), ever_school_wifi=st.booleans()).map(
    lambda r: r._replace(school_code=r.room_code[0]))


@given(st.lists(seen_rooms, max_size=8))
def test_a_room_or_school_is_observed_exactly_when_agents_showed_it_there(found):
    seen = figures.observe(found)
    assert seen.working_rooms == {r.room_code for r in found if r.working}
    assert seen.wired_rooms == {r.room_code for r in found if r.wired}
    assert seen.wireless_schools == {r.school_code for r in found if r.wireless}


flags = st.booleans()
schools = {"X": School("X", "x", "TX", "main_urban", "primary", False, 100, True, True, "X"),
           "Y": School("Y", "y", "TY", "nagu", "junior", True, 50, False, False, "")}


@given(rooms=st.fixed_dictionaries({code: st.builds(Room, code=st.just(code), school_code=st.just(code[0]),
                                                    name=st.just(code), terminals=st.integers(0, 2),
                                                    wired_planned=flags, wireless_planned=flags)
                                    for code in ("X1", "X2", "Y1")}),
       rooms_of_classes=st.lists(st.sampled_from(["X1", "X2", "Y1", None]), max_size=10),
       found=st.lists(seen_rooms, max_size=6))
def test_levels_add_up_and_a_class_is_a_gap_exactly_when_a_measure_is_not_observed(rooms, rooms_of_classes, found):
    classes = [SchoolClass(f"K{n}", (room or "X")[0], 1, "k", room) for n, room in enumerate(rooms_of_classes)]
    observed = figures.observe(found)
    totals = figures.tally(schools, rooms, classes, observed)
    for key in figures.COUNTS:
        assert totals[("county", "")][key] == sum(v[key] for (lv, _), v in totals.items() if lv == "area")
        assert totals[("county", "")][key] == sum(v[key] for (lv, _), v in totals.items() if lv == "school")
    class_gaps = [g for g in gaps.gap_list(schools, rooms, classes, observed) if g.school_class]
    for measure in figures.CLASS_MEASURES:
        short = sum(1 for g in class_gaps if measure in g.missing)
        assert short == len(classes) - totals[("county", "")][measure + "_observed"]
