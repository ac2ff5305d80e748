"""The recording duty with an injected clock and real recorder processes (small Python scripts).

No hub: the schedule is the copy on disk, as when the hub is unreachable. A real agent against a
real hub, with the hub stopped before the start, is in tests/test_delivery_recording_e2e.py."""
from __future__ import annotations

import json
import sys
import time
from datetime import datetime, timedelta, timezone

import pytest
import requests

from agents import config
from agents.client import HubClient
from agents.recorder import Recorder, RecorderSettings, WithRecordings, command_line
from agents.schedule import ScheduleCache, Slot
from agents.state import State
from tests.support.clock import Clock

T0 = datetime(2026, 12, 7, 2, 0, tzinfo=timezone.utc)
SCRIPT = """
import sys, time
open(sys.argv[1], "a").write(" ".join(sys.argv[2:]) + "\\n")
if sys.argv[2] == "fail":
    print("camera not found at rtsp://10.1.2.9/main"); sys.exit(3)
if sys.argv[2] == "run":
    time.sleep(float(sys.argv[3]))
"""


@pytest.fixture
def room(tmp_path):
    script = tmp_path / "rec.py"
    script.write_text(SCRIPT)
    log = tmp_path / "started.log"
    state = State(tmp_path / "state")
    ScheduleCache(state).save({"etag": '"1"', "room_kind": "broadcast", "sessions": [
        {"id": 41, "title": "三年级 数学\"公开课\"", "kind": "open_lesson",
         "start": "2026-12-07T02:00:00.000000Z", "end": "2026-12-07T02:45:00.000000Z"}]})

    def make(start_args: str = "{session_id} {remaining_s}", mode: str = "returns", stop: str = "",
             now: datetime = T0) -> tuple[Recorder, Clock]:
        clock = Clock(now)
        settings = RecorderSettings(f"{sys.executable} {script} {log} {start_args}",
                                    f"{sys.executable} {script} {log} {stop}" if stop else "", mode, 10, 300)
        client = HubClient(requests.Session(), 1.0)
        return Recorder(settings, state, client, clock=clock), clock

    make.log = log
    make.state = state
    return make


def started(log) -> list[str]:
    return log.read_text().splitlines() if log.exists() else []


def settle(recorder: Recorder, clock: Clock, seconds: float = 10) -> None:
    """Tick until the recorder's processes have ended (real processes take real time)."""
    deadline = time.monotonic() + seconds
    while any(p.poll() is None for p in recorder.processes.values()) and time.monotonic() < deadline:
        time.sleep(0.05)
    recorder.tick(clock.now)


def test_a_recording_starts_at_its_start_and_finishes_at_its_end(room):
    recorder, clock = room(now=T0 - timedelta(seconds=1))
    assert recorder.tick() == pytest.approx(1.0)       # wakes exactly at the start
    assert started(room.log) == [] and recorder.report(clock.now)[0]["state"] == "scheduled"
    clock.now = T0
    recorder.tick()
    settle(recorder, clock)
    assert started(room.log) == ["41 2700"]
    assert recorder.report(clock.now)[0]["state"] == "recording"
    clock.now = T0 + timedelta(minutes=45)
    recorder.tick()
    assert recorder.records["41"].state == "finished"


def test_an_agent_restarted_inside_the_window_records_at_once_and_never_twice(room):
    recorder, clock = room(now=T0 + timedelta(minutes=20))
    recorder.tick()                                     # the window was already open: at once
    settle(recorder, clock)
    assert started(room.log) == ["41 1500"]             # {remaining_s}: what is left of the session
    again, clock = room(now=T0 + timedelta(minutes=21))  # the agent restarts: a new process, same state dir
    again.tick()
    settle(again, clock)
    assert started(room.log) == ["41 1500"]
    assert json.loads(room.state.read_file("recordings.json"))["41"]["state"] == "recording"


def test_a_failing_start_command_is_reported_with_its_status_and_last_words(room):
    recorder, clock = room(start_args="fail")
    recorder.tick()
    settle(recorder, clock)
    [entry] = recorder.report(clock.now)
    assert entry["state"] == "failed"
    assert entry["reason"] == "the start command failed (status 3): camera not found at rtsp://10.1.2.9/main"
    recorder.tick()
    assert len(started(room.log)) == 1                  # a failure is not retried into a second start


def test_a_recorder_that_exits_before_the_end_is_a_failure(room):
    recorder, clock = room(start_args="run 0", mode="runs_until_end")
    recorder.tick()
    settle(recorder, clock)
    assert recorder.records["41"].state == "failed"
    assert recorder.records["41"].reason == "the recorder exited early (status 0)"


def test_a_recorder_still_running_at_the_end_is_stopped_and_the_stop_command_runs(room):
    recorder, clock = room(start_args="run 600", mode="runs_until_end", stop="stop {session_id}")
    recorder.tick()
    time.sleep(0.5)
    recorder.tick()
    assert recorder.records["41"].state == "recording"
    process = recorder.processes["41"]
    clock.now = T0 + timedelta(minutes=45)
    recorder.tick()
    assert process.poll() is not None                   # ended by the agent (SIGTERM)
    assert recorder.records["41"].state == "finished"
    assert started(room.log)[-1] == "stop 41"


def test_a_session_the_agent_slept_through_is_reported_missed(room):
    recorder, clock = room(now=T0 + timedelta(hours=1))
    recorder.tick()
    assert started(room.log) == []
    assert recorder.records["41"].state == "failed"
    assert recorder.records["41"].reason == "the agent was not running during the session"


def test_placeholders_fill_whole_arguments_so_a_title_cannot_add_one():
    slot = Slot("41", 'a" ; rm -rf / "b', T0, T0 + timedelta(minutes=45))
    assert command_line("rec start --title {title} --until {end}", slot, T0) == [
        "rec", "start", "--title", 'a" ; rm -rf / "b', "--until", "2026-12-07T02:45:00.000Z"]


def test_an_unknown_placeholder_stops_the_agent_naming_the_setting():
    with pytest.raises(config.ConfigError, match=r"recorder_start: unknown placeholder \{room\}"):
        config.load(overrides={"recorder_start": "rec {room}"})


def test_recording_states_ride_on_the_report_body(room):
    class Probes:
        def collect(self, now, hub_url):
            return {"host": {}}

    recorder, clock = room(now=T0 - timedelta(hours=1))
    body = WithRecordings(Probes(), recorder).collect(clock.now, None)
    assert body == {"host": {}, "recordings": [{"session_id": "41", "state": "scheduled", "reason": None,
                                                "at": None}]}
