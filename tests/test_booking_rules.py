"""The booking rules as plain functions: overlaps with the setup buffer, the calendar, bandwidth
pools, suggestions and weekly series; and, for any sequence of accepted bookings, no resource
is ever double-booked and no pool is ever over capacity (hypothesis)."""
from datetime import date, datetime, timedelta, timezone
from itertools import combinations
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scheduler import bookings as b
from scheduler.recurrence import RepeatError, retime, weekly
from scheduler.timetable import Timetable

TZ = ZoneInfo("Asia/Shanghai")
TIMETABLE = Timetable.parse("Asia/Shanghai", "07:30-12:00,14:00-18:00", "mon,tue,wed,thu,fri",
                            "2027-01-01,2026-12-24..2026-12-25")
RULES = b.Rules(timetable=TIMETABLE, hours=((7 * 60 + 30, 18 * 60),), buffer=timedelta(minutes=10),
                min_length=timedelta(minutes=10), max_length=timedelta(minutes=240), stream_mbps=4,
                live_share=0.6, county_mbps=40, terms=((date(2026, 9, 1), date(2027, 1, 22)),))
NOW = datetime(2026, 12, 1, 0, 0, tzinfo=timezone.utc)
MONDAY = date(2026, 12, 7)


def at(hhmm: str, day: date = MONDAY) -> datetime:
    h, m = map(int, hhmm.split(":"))
    return datetime(day.year, day.month, day.day, h, m, tzinfo=TZ)


def claim(start: str, end: str, room="R1", host=2, receivers=(), loads=(), id=None, day=MONDAY) -> b.Claim:
    return b.Claim(at(start, day), at(end, day), room, host, frozenset(receivers), tuple(loads), id, f"s{id}")


def kinds(problems):
    return [p.kind for p in problems]


HELD = claim("10:00", "10:45", room="R1", host=1, receivers={"X1"}, id=7)


@pytest.mark.parametrize("new,expected", [
    (claim("10:55", "11:40"), []),                         # back to back with exactly the buffer
    (claim("10:54", "11:40"), ["room_busy"]),              # one minute inside the buffer
    (claim("09:05", "09:50"), []),                         # ends exactly a buffer before
    (claim("09:05", "09:51"), ["room_busy"]),
    (claim("10:10", "10:20"), ["room_busy"]),              # inside
    (claim("09:00", "12:00"), ["room_busy"]),              # around
    (claim("10:00", "10:45", room="R2"), []),              # another room, another host
    (claim("10:00", "10:45", room="R2", host=1), ["host_busy"]),
    (claim("10:00", "10:45", room="R2", host=2, receivers={"X1"}), ["receiver_busy"]),
    (claim("10:00", "10:45", room="X1", host=2), ["room_busy"]),  # a held receiver cannot be a source
    (claim("10:00", "10:45", room="R2", host=2, receivers={"R1"}), ["receiver_busy"]),
    (claim("10:00", "10:45", room="R1", host=1, receivers={"X1"}, id=7), []),  # itself, when edited
    (claim("10:00", "10:45", day=date(2026, 12, 8)), []),
])
def test_a_room_host_or_receiver_is_held_with_its_setup_buffer_and_half_open(new, expected):
    ledger = b.Ledger.of([HELD], RULES.buffer)
    found = b.conflicts(new, ledger)
    assert kinds(found) == expected
    assert all(p.other is HELD for p in found)


def test_a_zero_buffer_lets_sessions_meet_end_to_start():
    ledger = b.Ledger.of([HELD], timedelta(0))
    assert b.conflicts(claim("10:45", "11:30"), ledger) == []
    assert kinds(b.conflicts(claim("10:44", "11:30"), ledger)) == ["room_busy"]


def test_every_conflict_is_listed_once_per_resource_and_session():
    other = claim("10:30", "11:00", room="R2", host=2, receivers={"X2"}, id=8)
    ledger = b.Ledger.of([HELD, other], RULES.buffer)
    found = b.conflicts(claim("10:20", "10:40", room="R1", host=2, receivers={"X1", "X2"}), ledger)
    assert sorted((p.kind, p.resource, p.other.id) for p in found) == [
        ("host_busy", "2", 8), ("receiver_busy", "X1", 7), ("receiver_busy", "X2", 8), ("room_busy", "R1", 7)]


@pytest.mark.parametrize("start,end,expected", [
    (at("10:00"), at("10:45"), []),
    (at("07:30"), at("18:00"), ["too_long"]),                       # longer than booking_max_minutes
    (at("10:00"), at("10:00"), ["too_short"]),                      # zero minutes
    (at("10:00"), at("10:09"), ["too_short"]),
    (at("10:00"), at("09:00"), ["ends_before_start"]),
    (at("07:00"), at("07:45"), ["outside_hours"]),
    (at("17:30"), at("18:15"), ["outside_hours"]),
    (at("17:15"), at("18:00"), []),
    (at("10:00", date(2026, 12, 5)), at("10:45", date(2026, 12, 5)), ["not_school_day"]),  # a Saturday
    (at("10:00", date(2027, 1, 1)), at("10:45", date(2027, 1, 1)), ["holiday"]),
    (at("10:00", date(2026, 11, 30)), at("10:45", date(2026, 11, 30)), ["in_past"]),
    (at("17:00"), at("09:00", date(2026, 12, 8)), ["too_long", "spans_days"]),
])
def test_a_session_runs_on_a_school_day_inside_the_booking_hours_for_an_allowed_length(start, end, expected):
    assert kinds(b.calendar_problems(start, end, RULES, NOW)) == expected


def test_a_holiday_problem_names_its_day():
    [problem] = b.calendar_problems(at("10:00", date(2026, 12, 24)), at("10:45", date(2026, 12, 24)), RULES, NOW)
    assert (problem.kind, problem.resource) == ("holiday", "2026-12-24")


def test_a_live_stream_costs_up_at_the_source_down_at_each_receiving_room_and_out_of_the_county_server():
    assert dict(b.stream_loads("A", ["B", "B", "C"], 4)) == {("school", "A"): 4, ("school", "B"): 8,
                                                             ("school", "C"): 4, b.COUNTY: 12}
    assert dict(b.stream_loads("A", ["A"], 4)) == {("school", "A"): 8, b.COUNTY: 4}
    assert b.stream_loads("A", [], 4) == ()  # a recording costs nothing


def test_capacity_is_a_share_of_each_uplink_and_the_county_egress():
    assert b.capacities({"A": 100, "B": 20, "C": 0}, RULES) == {("school", "A"): 60, ("school", "B"): 12,
                                                                ("school", "C"): 0, b.COUNTY: 40}


def test_a_school_without_uplink_cannot_receive_live_unless_the_session_is_recorded():
    receivers = {"B-R1": "B", "C-R1": "C", "C-R2": "C"}
    assert [(p.kind, p.resource) for p in b.no_uplink_problems(receivers, {"B": 20, "C": 0}, False)] == [
        ("no_uplink", "C")]
    assert b.no_uplink_problems(receivers, {"B": 20, "C": 0}, True) == []


def live(start, end, id, source="A", receivers=("B",), room=None):
    return b.Claim(at(start), at(end), room or f"room{id}", id, frozenset(f"rx{id}-{i}" for i in range(len(receivers))),
                   b.stream_loads(source, receivers, 4), id, f"s{id}")


CAPACITY = b.capacities({"A": 100, "B": 20, "D": 100}, RULES)  # B carries 3 streams of 4 Mbps


@pytest.mark.parametrize("held,new,expected", [
    ([live("10:00", "11:00", 1), live("10:00", "11:00", 2)], live("10:30", "11:30", 3), []),
    ([live("10:00", "11:00", 1), live("10:00", "11:00", 2), live("10:30", "10:40", 3)],
     live("10:35", "11:30", 4), [("bandwidth", "B", 4, 0)]),
    # three streams, but never more than two at once: the peak, not the sum, counts
    ([live("10:00", "10:30", 1), live("10:30", "11:00", 2), live("10:00", "11:00", 3)],
     live("10:00", "11:00", 4), []),
    ([live("10:00", "11:00", 1, receivers=("B", "B"))], live("10:59", "11:30", 2, receivers=("B", "B")),
     [("bandwidth", "B", 8, 4)]),
    ([live("10:00", "11:00", 1, receivers=("B", "B"))], live("11:00", "11:30", 2, receivers=("B", "B")), []),
    # the county server: 40 Mbps is ten receiving streams
    ([live("10:00", "11:00", 1, source="D", receivers=("D",) * 9)], live("10:00", "11:00", 2, source="D",
                                                                          receivers=("D", "D")),
     [("county_bandwidth", "", 8, 4)]),
])
def test_every_pool_must_carry_the_peak_of_its_live_streams(held, new, expected):
    ledger = b.Ledger.of(held, RULES.buffer)
    assert [(p.kind, p.resource, p.need, p.free) for p in b.over_capacity(new, ledger, CAPACITY)] == expected


def test_peak_load_counts_an_end_before_a_start_at_the_same_instant():
    t = at("10:00")
    h = timedelta(hours=1)
    assert b.peak_load([(t, t + h, 4), (t + h, t + 2 * h, 4)], t, t + 2 * h) == 4
    assert b.peak_load([(t, t + h, 4), (t + h / 2, t + 2 * h, 4)], t, t + 2 * h) == 8
    assert b.peak_load([(t, t + h, 4)], t + h, t + 2 * h) == 0


def test_suggestions_are_the_three_nearest_free_slots_of_the_same_length_that_do_not_overlap():
    ledger = b.Ledger.of([HELD], RULES.buffer)
    asked = claim("10:00", "10:45")
    found = b.suggest(asked, ledger, CAPACITY, RULES, NOW)
    assert [(s.astimezone(TZ).strftime("%H:%M"), e - s) for s, e in found] == [
        ("10:55", timedelta(minutes=45)), ("09:05", timedelta(minutes=45)), ("11:40", timedelta(minutes=45))]
    for start, end in found:
        assert b.check(claim_at(asked, start, end), ledger, CAPACITY, RULES, NOW) == []


def claim_at(c: b.Claim, start, end) -> b.Claim:
    return b.Claim(start, end, c.source_room, c.host, c.receivers, c.loads, c.id, c.title)


def test_suggestions_skip_weekends_holidays_and_the_past():
    friday_late = b.Claim(at("17:00", date(2026, 12, 4)), at("18:00", date(2026, 12, 4)), "R1", 1)
    busy = [b.Claim(at("07:30", d) - timedelta(minutes=10), at("18:00", d), "R1", 9, id=100 + i)
            for i, d in enumerate([date(2026, 12, 4), date(2026, 12, 3), date(2026, 12, 2)])]
    found = b.suggest(friday_late, b.Ledger.of(busy, RULES.buffer), CAPACITY, RULES, NOW)
    # Wednesday to Friday are taken, the weekend is off, Tuesday 17:00 is further than Monday morning
    assert [s.astimezone(TZ).strftime("%a %H:%M") for s, _e in found] == ["Mon 07:30", "Mon 08:30", "Mon 09:30"]
    past = b.suggest(b.Claim(NOW - timedelta(days=30), NOW - timedelta(days=30, minutes=-45), "R1", 1),
                     b.Ledger.of([], RULES.buffer), CAPACITY, RULES, NOW, horizon=timedelta(days=3))
    assert past == []


def test_a_weekly_series_stays_in_its_term_skips_holidays_and_says_its_rule():
    rule, found = weekly(at("10:00"), at("10:45"), frozenset({0, 3}), date(2027, 1, 4), TIMETABLE, RULES.terms)
    assert rule == "FREQ=WEEKLY;BYDAY=MO,TH;UNTIL=20270104T155959Z"
    assert [(o.day.isoformat(), o.skip) for o in found] == [
        ("2026-12-07", None), ("2026-12-10", None), ("2026-12-14", None), ("2026-12-17", None),
        ("2026-12-21", None), ("2026-12-24", "holiday"), ("2026-12-28", None), ("2026-12-31", None),
        ("2027-01-04", None)]
    assert all(o.start.astimezone(TZ).strftime("%H:%M") == "10:00" and o.end - o.start == timedelta(minutes=45)
               for o in found)


@pytest.mark.parametrize("weekdays,until,code", [
    (frozenset(), date(2027, 1, 4), "no_weekdays"),
    (frozenset({0, 5}), date(2027, 1, 4), "weekday_not_school_day"),
    (frozenset({1}), date(2027, 1, 4), "first_day_not_repeated"),
    (frozenset({0}), date(2026, 12, 6), "until_before_start"),
    (frozenset({0}), date(2027, 1, 23), "past_term"),
])
def test_a_series_that_cannot_be_made_says_why(weekdays, until, code):
    with pytest.raises(RepeatError) as caught:
        weekly(at("10:00"), at("10:45"), weekdays, until, TIMETABLE, RULES.terms)
    assert caught.value.code == code


def test_a_series_outside_every_term_is_refused():
    with pytest.raises(RepeatError) as caught:
        weekly(at("10:00"), at("10:45"), frozenset({0}), date(2027, 1, 4), TIMETABLE, ())
    assert caught.value.code == "no_term"


def test_retime_keeps_the_day_and_takes_the_new_times():
    assert retime(date(2026, 12, 14), at("14:00"), at("14:45"), TZ) == (at("14:00", date(2026, 12, 14)),
                                                                        at("14:45", date(2026, 12, 14)))


# --- properties ---------------------------------------------------------------------------------

ROOMS = ("R1", "R2", "R3", "R4")
SCHOOLS = ("A", "B", "C")
UPLINK = {"A": 40, "B": 20, "C": 13.4}  # 6, 3 and 2 streams of 4 Mbps at a 0.6 share
RULES_P = b.Rules(timetable=TIMETABLE, hours=((0, 24 * 60),), buffer=timedelta(minutes=10),
                  min_length=timedelta(minutes=5), max_length=timedelta(minutes=240), stream_mbps=4,
                  live_share=0.6, county_mbps=28)
SCHOOL_OF = {"R1": "A", "R2": "A", "R3": "B", "R4": "C"}


@st.composite
def requests(draw):
    start = at("08:00") + timedelta(minutes=5 * draw(st.integers(0, 80)))
    length = timedelta(minutes=5 * draw(st.integers(1, 24)))
    source = draw(st.sampled_from(ROOMS))
    receivers = draw(st.frozensets(st.sampled_from([r for r in ROOMS if r != source]), max_size=3))
    extra = draw(st.lists(st.sampled_from(SCHOOLS), max_size=3))  # rooms elsewhere that only cost bandwidth
    schools = [SCHOOL_OF[r] for r in receivers] + extra
    return b.Claim(start, start + length, source, draw(st.integers(1, 3)), receivers,
                   b.stream_loads(SCHOOL_OF[source], schools, 4))


@settings(max_examples=300, deadline=None)
@given(st.lists(requests(), max_size=25))
def test_for_any_sequence_of_accepted_bookings_nothing_is_double_booked_or_over_capacity(asked):
    capacity = b.capacities(UPLINK, RULES_P)
    ledger = b.Ledger.of([], RULES_P.buffer)
    accepted = []
    for i, c in enumerate(asked):
        c = b.Claim(c.start, c.end, c.source_room, c.host, c.receivers, c.loads, i)
        if not b.check(c, ledger, capacity, RULES_P, NOW - timedelta(days=30)):
            ledger.add(c)
            accepted.append(c)
    buffer = RULES_P.buffer
    for x, y in combinations(accepted, 2):  # checked by brute force, not by the ledger's index
        apart = x.end + buffer <= y.start or y.end + buffer <= x.start
        assert apart or (not x.rooms & y.rooms and x.host != y.host), (x, y)
    pools = {pool for c in accepted for pool, _ in c.loads}
    for pool in pools:
        for moment in {c.start for c in accepted}:
            load = sum(c.load_of.get(pool, 0) for c in accepted if c.start <= moment < c.end)
            assert load <= capacity.get(pool, 0) + 1e-9, (pool, moment, load)


@settings(max_examples=200, deadline=None)
@given(st.lists(requests(), max_size=12), requests())
def test_a_refused_claim_names_a_real_collision_and_an_accepted_one_has_none(held_asked, new):
    capacity = b.capacities(UPLINK, RULES_P)
    held = [b.Claim(c.start, c.end, c.source_room, c.host, c.receivers, c.loads, i) for i, c in enumerate(held_asked)]
    ledger = b.Ledger.of(held, RULES_P.buffer)
    for p in b.conflicts(new, ledger):
        o = p.other
        assert o.start < new.end + RULES_P.buffer and new.start < o.end + RULES_P.buffer
        assert p.resource in o.rooms | {str(o.host)}
    brute = [o for o in held if o.start < new.end + RULES_P.buffer and new.start < o.end + RULES_P.buffer
             and (o.rooms & new.rooms or o.host == new.host)]
    assert {p.other.id for p in b.conflicts(new, ledger)} == {o.id for o in brute}
