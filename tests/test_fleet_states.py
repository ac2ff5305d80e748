"""Every terminal state transition on a real hub, driven with injected time through `eduops jobs run sweep --now`."""
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from eduops.clock import from_iso
from tests.support.fleet_kit import Agent, build_county, create_token, eduops, query
from tests.support.hubprocess import HubProcess

pytestmark = pytest.mark.e2e  # real processes: a hub, agents, a browser or Prometheus

HUIZE = ZoneInfo("Asia/Shanghai")
# A long interval keeps the hub's own sweep (every half interval, on the real clock) out of the way:
# here only the sweeps these tests run with --now move terminals.
INTERVAL = 600
PERIOD = timedelta(seconds=INTERVAL * 1.1)
ALWAYS_CLASS = {"EDUOPS_REPORT_INTERVAL_S": str(INTERVAL), "EDUOPS_CLASS_HOURS": "00:00-24:00",
                "EDUOPS_SCHOOL_DAYS": "mon,tue,wed,thu,fri,sat,sun"}
TIMETABLE = {"EDUOPS_REPORT_INTERVAL_S": str(INTERVAL)}   # the default class hours and school days


def start(db_path, env):
    build_county(db_path)
    hub = HubProcess(db_path, env=env)
    agent = Agent(hub.url, room="S1-R2")
    assert agent.enroll(create_token(db_path)).status_code == 201
    assert agent.send().status_code == 200
    return hub, agent


@pytest.fixture
def always_class(db_path):
    hub, agent = start(db_path, ALWAYS_CLASS)
    yield agent
    hub.stop()


@pytest.fixture
def with_timetable(db_path):
    hub, agent = start(db_path, TIMETABLE)
    yield agent
    hub.stop()


def last_report(db_path) -> datetime:
    return from_iso(query(db_path, "SELECT last_report_at FROM agents")[0][0])


def sweep(db_path, now: datetime, env) -> str:
    result = eduops("jobs", "run", "sweep", "--now", now.isoformat(), "--write", "--db", str(db_path), env=env)
    assert result.returncode == 0, result.stderr
    return result.stdout


def state(db_path) -> str:
    return query(db_path, "SELECT state FROM agents")[0][0]


def history(db_path) -> list[tuple[str, str, str]]:
    return query(db_path, "SELECT from_state, to_state, at FROM agent_states ORDER BY id")


def next_local(after: datetime, weekday: int, hour: int, minute: int = 0) -> datetime:
    """The first moment after ``after`` that is this weekday and time in Huize (Monday is 0)."""
    day = after.astimezone(HUIZE).date() + timedelta(days=1)
    while day.weekday() != weekday:
        day += timedelta(days=1)
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=HUIZE)


def test_online_goes_stale_then_offline_then_online_again_each_change_recorded(always_class, db_path):
    last = last_report(db_path)
    assert "changed 0" in sweep(db_path, last + PERIOD * 0.9, ALWAYS_CLASS)
    assert state(db_path) == "online"
    stale_at = last + PERIOD * 1.1
    assert "changed 1" in sweep(db_path, stale_at, ALWAYS_CLASS)
    assert state(db_path) == "stale"
    offline_at = last + PERIOD * 3.1
    sweep(db_path, offline_at, ALWAYS_CLASS)
    assert state(db_path) == "offline"
    assert always_class.send().status_code == 200
    assert state(db_path) == "online"
    changes = history(db_path)
    assert [(f, t) for f, t, _ in changes] == [(None, "online"), ("online", "stale"), ("stale", "offline"),
                                               ("offline", "online")]
    assert [from_iso(at) for _, _, at in changes[1:3]] == [stale_at, offline_at]
    back_since = query(db_path, "SELECT state_since FROM agents")[0][0]
    assert back_since == changes[3][2]  # online since the report that brought it back ...
    assert always_class.send().status_code == 200
    assert query(db_path, "SELECT state, state_since FROM agents") == [("online", back_since)]  # ... not since the last
    shown = eduops("terminals", "show", always_class.agent_id, "--db", str(db_path)).stdout
    assert "stale -> offline" in shown and "offline -> online  (reported)" in shown


def test_a_long_silence_goes_straight_to_offline(always_class, db_path):
    sweep(db_path, last_report(db_path) + PERIOD * 10, ALWAYS_CLASS)
    assert state(db_path) == "offline"
    assert history(db_path)[-1][:2] == ("online", "offline")
    assert always_class.agent_id in eduops("terminals", "list", "--state", "offline", "--db", str(db_path)).stdout


def test_silence_outside_class_hours_is_expected_off_until_class_begins(with_timetable, db_path):
    last = last_report(db_path)
    saturday = next_local(last, 5, 10)
    sweep(db_path, saturday, TIMETABLE)
    assert state(db_path) == "expected_off"
    monday = next_local(saturday, 0, 7, 30)
    sweep(db_path, monday + timedelta(seconds=30), TIMETABLE)
    assert state(db_path) == "expected_off"            # class has just begun: one period of grace
    sweep(db_path, monday + PERIOD * 1.5, TIMETABLE)
    assert state(db_path) == "stale"
    sweep(db_path, monday + PERIOD * 3.5, TIMETABLE)
    assert state(db_path) == "offline"
    sweep(db_path, monday.replace(hour=12, minute=30), TIMETABLE)
    assert state(db_path) == "expected_off"            # lunch break
    assert [t for _, t, _ in history(db_path)] == ["online", "expected_off", "stale", "offline", "expected_off"]


def test_an_expected_off_terminal_that_reports_is_online(with_timetable, db_path):
    sweep(db_path, next_local(last_report(db_path), 5, 10), TIMETABLE)
    assert state(db_path) == "expected_off"
    assert with_timetable.send().status_code == 200
    assert state(db_path) == "online"
    assert history(db_path)[-1][:2] == ("expected_off", "online")


def test_long_silent_terminals_are_proposed_and_retired_only_when_staff_confirm(always_class, db_path):
    agent_id = always_class.agent_id
    last = last_report(db_path)
    sweep(db_path, last + timedelta(days=29), ALWAYS_CLASS)
    assert eduops("terminals", "list", "--proposed", "--db", str(db_path)).stdout == ""
    assert "proposed 1" in sweep(db_path, last + timedelta(days=31), ALWAYS_CLASS)
    assert "proposed 0" in sweep(db_path, last + timedelta(days=32), ALWAYS_CLASS)   # proposed once
    listed = eduops("terminals", "list", "--proposed", "--db", str(db_path)).stdout
    assert agent_id in listed and "retirement proposed" in listed
    assert state(db_path) == "offline"                 # a proposal is not a retirement
    retired = eduops("terminals", "retire", agent_id, "--db", str(db_path))
    assert retired.returncode == 0 and f"{agent_id} retired" in retired.stdout
    assert query(db_path, "SELECT state, key_hash, retired_at IS NOT NULL FROM agents") == [("retired", None, 1)]
    assert "retired by command line" in eduops("terminals", "show", agent_id, "--db", str(db_path)).stdout
    sweep(db_path, last + timedelta(days=90), ALWAYS_CLASS)
    assert state(db_path) == "retired"
    assert always_class.send().status_code == 401
    # The machine comes back: a new enrollment makes it online again, the same agent.
    assert always_class.enroll(create_token(db_path)).status_code == 201
    assert always_class.agent_id == agent_id
    assert state(db_path) == "online" and history(db_path)[-1][:2] == ("retired", "online")


def test_a_proposal_is_withdrawn_when_the_terminal_reports(always_class, db_path):
    sweep(db_path, last_report(db_path) + timedelta(days=31), ALWAYS_CLASS)
    assert query(db_path, "SELECT retire_proposed_at IS NOT NULL FROM agents") == [(1,)]
    assert always_class.send().status_code == 200
    assert query(db_path, "SELECT retire_proposed_at FROM agents") == [(None,)]


def test_retiring_an_unknown_terminal_says_so(db_path):
    build_county(db_path)
    result = eduops("terminals", "retire", "ag_nobody", "--db", str(db_path))
    assert result.returncode != 0 and "no agent 'ag_nobody'" in result.stderr


def test_an_unknown_job_or_a_bad_time_is_refused(db_path):
    build_county(db_path)
    unknown = eduops("jobs", "run", "dance", "--db", str(db_path))
    assert unknown.returncode != 0 and "unknown job 'dance'" in unknown.stderr and "sweep" in unknown.stderr
    bad_time = eduops("jobs", "run", "sweep", "--now", "tomorrow", "--db", str(db_path))
    assert bad_time.returncode != 0 and "ISO 8601" in bad_time.stderr
