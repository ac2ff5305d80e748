"""The fleet's pure rules: timetable, terminal state, job start times, durations, hardware facts, skew."""
import json
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from eduops import clock
from eduops.config import load
from eduops.fleet.agents import hardware_facts
from eduops.fleet.api import next_report_in_s
from eduops.fleet.ingest import report_rows
from eduops.fleet.protocol import EnrollRequest, ReportBatch
from scheduler.service import first_run
from scheduler.states import STATES, AgentClock, StatePolicy, judge, missed_periods
from scheduler.timetable import Timetable, parse_class_hours, parse_holidays, parse_school_days
from tests.support.fleet_kit import iso, report_body

UTC = timezone.utc
TIMETABLE = Timetable.parse("Asia/Shanghai", "07:30-12:00,14:00-18:00", "mon,tue,wed,thu,fri",
                            "2026-10-01..2026-10-07")
POLICY = StatePolicy(interval_s=60, jitter=0.1, offline_after_missed=3, retire_after=timedelta(days=30),
                     timetable=TIMETABLE)
# Monday 30 November 2026, 10:00 in Huize is 02:00 UTC.
MONDAY_10 = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)


def local(day: int, hour: int, minute: int = 0) -> datetime:
    """A moment in Huize in November 2026 (30 November is a Monday), as UTC."""
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC) - timedelta(hours=8)


@pytest.mark.parametrize("text, periods", [
    ("07:30-12:00,14:00-18:00", ((450, 720), (840, 1080))),
    ("14:00-18:00, 07:30-12:00", ((450, 720), (840, 1080))),
    ("00:00-24:00", ((0, 1440),)),
    ("", ()),
])
def test_class_hours_parse(text, periods):
    assert parse_class_hours(text) == periods


@pytest.mark.parametrize("text, problem", [
    ("7-12", "not a time"), ("07:30", "not a period"), ("12:00-07:30", "ends before"),
    ("07:00-12:00,11:00-13:00", "overlap"), ("25:00-26:00", "between 00:00 and 24:00"), ("07:61-08:00", "between"),
])
def test_bad_class_hours_say_what_is_wrong(text, problem):
    with pytest.raises(ValueError, match=problem):
        parse_class_hours(text)


@pytest.mark.parametrize("parse, text, problem", [
    (parse_school_days, "mon,funday", "not a day"),
    (parse_holidays, "2026-13-01", "not a date"),
    (parse_holidays, "2026-10-07..2026-10-01", "ends before"),
])
def test_bad_days_say_what_is_wrong(parse, text, problem):
    with pytest.raises(ValueError, match=problem):
        parse(text)


def test_a_bad_timetable_setting_stops_the_configuration_naming_the_key():
    with pytest.raises(ValueError, match="^holidays: "):
        load(env={"EDUOPS_HOLIDAYS": "National Day"})


@pytest.mark.parametrize("moment, on", [
    (local(30, 7, 29), False), (local(30, 7, 30), True), (local(30, 11, 59), True), (local(30, 12, 0), False),
    (local(30, 13, 0), False), (local(30, 14, 0), True), (local(30, 17, 59), True), (local(30, 18, 0), False),
    (local(28, 10), False),                                              # Saturday
    (datetime(2026, 10, 5, 2, 0, tzinfo=UTC), False),                    # National Day holidays
    (datetime(2026, 10, 8, 2, 0, tzinfo=UTC), True),
])
def test_expected_on_follows_class_hours_school_days_and_holidays(moment, on):
    assert TIMETABLE.expected_on(moment) is on


def test_period_start_is_the_start_of_the_current_class_period():
    assert TIMETABLE.period_start(local(30, 15, 10)) == local(30, 14, 0)
    assert TIMETABLE.period_start(local(30, 13, 10)) is None


def agent(state: str = "online", silent: timedelta = timedelta(0), at: datetime = MONDAY_10,
          proposed: bool = False) -> tuple[AgentClock, datetime]:
    return AgentClock("ag_1", state, at - silent, proposed), at


@pytest.mark.parametrize("state, silent, at, expected", [
    ("online", timedelta(seconds=30), MONDAY_10, "online"),
    ("stale", timedelta(seconds=30), MONDAY_10, "online"),             # it reported again
    ("offline", timedelta(seconds=10), MONDAY_10, "online"),
    ("expected_off", timedelta(seconds=10), local(28, 22), "online"),   # on at a weekend night: online
    ("online", timedelta(seconds=65), MONDAY_10, "online"),            # late by less than the jitter
    ("online", timedelta(seconds=67), MONDAY_10, "stale"),             # one period missed
    ("online", timedelta(seconds=197), MONDAY_10, "stale"),
    ("online", timedelta(seconds=198), MONDAY_10, "offline"),          # three periods of 66 s
    ("stale", timedelta(minutes=10), MONDAY_10, "offline"),
    ("online", timedelta(minutes=5), local(30, 19), "expected_off"),    # after class hours
    ("offline", timedelta(hours=2), local(30, 12, 1), "expected_off"),  # lunch break
    ("online", timedelta(days=1), local(28, 10), "expected_off"),       # Saturday
    ("expected_off", timedelta(hours=14), local(30, 7, 30, ), "expected_off"),  # class just began
    ("expected_off", timedelta(hours=14), local(30, 7, 32), "stale"),   # missed since 07:30
    ("expected_off", timedelta(hours=14), local(30, 7, 34), "offline"),
    ("retired", timedelta(days=90), MONDAY_10, "retired"),
    ("retired", timedelta(seconds=1), MONDAY_10, "retired"),
])
def test_judge_moves_terminals_between_states(state, silent, at, expected):
    clock_, now = agent(state, silent, at)
    assert judge(clock_, now, POLICY).state == expected


def test_missed_periods_count_from_the_start_of_the_class_period():
    assert missed_periods(local(29, 20), local(30, 7, 30), POLICY) == 0
    assert missed_periods(local(29, 20), local(30, 7, 41), POLICY) == 10
    assert missed_periods(local(30, 7, 40), local(30, 7, 41), POLICY) == 0
    assert missed_periods(local(29, 20), local(30, 13), POLICY) == 0   # not class time


@pytest.mark.parametrize("silent, proposed, state, expected", [
    (timedelta(days=29), False, "offline", False),
    (timedelta(days=30), False, "offline", True),
    (timedelta(days=31), True, "offline", False),       # proposed once only
    (timedelta(days=90), False, "retired", False),
])
def test_long_silence_proposes_retirement_once(silent, proposed, state, expected):
    clock_, now = agent(state, silent, proposed=proposed)
    assert judge(clock_, now, POLICY).propose_retirement is expected


@given(state=st.sampled_from(STATES), silent_s=st.integers(0, 90 * 86400),
       at=st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)))
def test_judge_always_gives_a_known_state_and_heard_agents_are_online(state, silent_s, at):
    clock_, now = agent(state, timedelta(seconds=silent_s), at)
    verdict = judge(clock_, now, POLICY)
    assert verdict.state in STATES
    if state == "retired":
        assert verdict == judge(clock_, now, POLICY) and verdict.state == "retired"
    elif silent_s < POLICY.period_s:
        assert verdict.state == "online"
    elif not TIMETABLE.expected_on(now):
        assert verdict.state == "expected_off"


@pytest.mark.parametrize("last, expected", [
    (None, MONDAY_10),
    (MONDAY_10 - timedelta(hours=2), MONDAY_10),                        # overdue: now
    (MONDAY_10 - timedelta(minutes=4), MONDAY_10 + timedelta(minutes=6)),
    (MONDAY_10 + timedelta(days=3), MONDAY_10 + timedelta(minutes=10)),  # recorded in the future: one interval
])
def test_a_job_first_runs_one_interval_after_its_last_success(last, expected):
    assert first_run(timedelta(minutes=10), last, MONDAY_10) == expected


@pytest.mark.parametrize("text, seconds", [("90s", 90), ("15m", 900), ("12h", 43200), ("7d", 604800), ("2w", 1209600)])
def test_durations(text, seconds):
    assert clock.parse_duration(text).total_seconds() == seconds


@pytest.mark.parametrize("text", ["7", "7 days", "-1d", "d"])
def test_bad_durations(text):
    with pytest.raises(ValueError, match="not a duration"):
        clock.parse_duration(text)


def test_times_are_stored_in_one_sortable_utc_form_and_days_are_county_local():
    moment = datetime(2026, 11, 29, 17, 30, tzinfo=UTC)
    assert clock.to_iso(moment) == "2026-11-29T17:30:00.000000Z"
    assert clock.from_iso("2026-11-30T01:30:00+08:00") == moment
    assert clock.local_day(moment, "Asia/Shanghai") == "2026-11-30"
    assert clock.local_text(clock.to_iso(moment), "Asia/Shanghai") == "2026-11-30 01:30"
    with pytest.raises(ValueError):
        clock.to_iso(datetime(2026, 11, 29))


@pytest.mark.parametrize("uniform", [lambda a, b: a, lambda a, b: b, lambda a, b: 0.0])
def test_the_told_interval_varies_within_the_jitter(uniform):
    config = load(env={})
    told = next_report_in_s(config, uniform)
    assert config.report_interval_s * 0.9 <= told <= config.report_interval_s * 1.1


def enroll_request(**hardware) -> EnrollRequest:
    return EnrollRequest.model_validate_json(json.dumps({"token": "et_x", "instance_id": "i", "room": "R",
                                              "hardware": {"hostname": "h", **hardware}}))


def test_hardware_facts_keep_real_macs_and_drop_virtual_ones():
    facts = hardware_facts(enroll_request(machine_id="ABC", display_serials=["SN1", " "], macs=[
        "A4-BB-CC-DD-EE-FF", "AA:BB:CC:DD:EE:FF", "02:42:ac:11:00:02", "00:00:00:00:00:00", "not a mac", "3c:97:0e:11:22:33"]))
    assert facts == {("machine_id", "abc"), ("display_serial", "SN1"), ("mac", "a4:bb:cc:dd:ee:ff"),
                     ("mac", "3c:97:0e:11:22:33")}


def test_report_times_are_corrected_by_the_batch_skew_and_never_in_the_future():
    now = MONDAY_10
    agent_clock = now + timedelta(hours=1)        # the agent's clock runs an hour fast
    batch = ReportBatch.model_validate_json(json.dumps({
        "sent_at": iso(agent_clock),
        "reports": [{"id": "00000000-0000-4000-8000-000000000001", "seq": 1,
                     "agent_time": iso(agent_clock - timedelta(minutes=30)), "body": report_body()},
                    {"id": "00000000-0000-4000-8000-000000000002", "seq": 2,
                     "agent_time": iso(agent_clock + timedelta(minutes=5)), "body": report_body(wired_up=False)}],
    }))
    rows, skew = report_rows(batch, now, "Asia/Shanghai")
    assert skew == -3600
    assert rows[0].report_at == clock.to_iso(now - timedelta(minutes=30))
    assert rows[1].report_at == clock.to_iso(now)
    assert rows[0].agent_time == clock.to_iso(agent_clock - timedelta(minutes=30))
    assert (rows[0].day, rows[0].wired_up, rows[1].wired_up) == ("2026-11-30", 1, 0)
    assert (rows[0].wifi_ssid, rows[0].wifi_dbm) == ("HZJY-S1", -60)
