"""A real agent in a broadcast room records on time from its cached schedule while the hub is stopped,
records at once (and once) when restarted inside a session, and tells the hub when it is back."""
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone

import pytest

from eduops import db as dbmod
from tests.support.delivery_kit import add_session, add_user, build_county
from tests.support.fleet_kit import create_token, query, wait_for
from tests.support.hubprocess import HubProcess

RECORDER = """
import sys, time
open(sys.argv[1], "a").write("%s %.3f\\n" % (sys.argv[2], time.time()))
"""


def starts(log) -> dict[str, list[float]]:
    found: dict[str, list[float]] = {}
    for line in (log.read_text().splitlines() if log.exists() else []):
        session, at = line.split()
        found.setdefault(session, []).append(float(at))
    return found


@pytest.mark.e2e
def test_a_broadcast_room_records_on_time_without_the_hub_and_never_twice(tmp_path, db_path):
    build_county(db_path)
    database = dbmod.connect(db_path)
    host = add_user(database, "demo-teacher", "teacher", ["S1"])
    t0 = datetime.now(timezone.utc)
    first_start, second_start = t0 + timedelta(seconds=20), t0 + timedelta(seconds=44)
    # Sessions of 20 s: a test of timing, not of the booking rules (which want 10 minutes at least).
    first = add_session(database, host, first_start, 1, seconds=20)
    second = add_session(database, host, second_start, 1, seconds=20, title="四年级语文公开课", receivers=("S2-R2",))
    not_recorded = add_session(database, host, t0 + timedelta(seconds=25), 1, recorded=False, receivers=("S1-R1",))
    database.conn.close()
    script, log, state = tmp_path / "rec.py", tmp_path / "recorded.log", tmp_path / "state"
    script.write_text(RECORDER)
    hub = HubProcess(db_path)
    enrolled = subprocess.run([sys.executable, "-m", "agents", "enroll", "--hub", hub.url, "--token",
                               create_token(db_path), "--room", "S1-B", "--state-dir", str(state)],
                              capture_output=True, text=True, timeout=60)
    assert enrolled.returncode == 0, enrolled.stderr
    args = [sys.executable, "-m", "agents", "run", "--state-dir", str(state), "--start-delay-max-s", "0",
            "--interval", "10", "--backoff-cap-s", "5", "--recorder-mode", "returns",
            "--recorder-start", f"{sys.executable} {script} {log} {{session_id}}"]

    def start_agent() -> subprocess.Popen:
        return subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)

    def stop_agent(process: subprocess.Popen) -> str:
        process.send_signal(signal.SIGTERM)
        output = process.communicate(timeout=30)[0]
        assert "Traceback" not in output, output
        return output

    agent = start_agent()
    try:
        assert wait_for(lambda: (state / "schedule.json").exists(), 20), "the schedule was not fetched"
        hub.stop()                                                       # the hub goes away before the start
        assert wait_for(lambda: str(first) in starts(log), 40), "the first session did not start"
        late = starts(log)[str(first)][0] - first_start.timestamp()
        assert -0.5 < late < 2.0, f"started {late:.2f} s after the session's start"
        stop_agent(agent)                                                # restarted inside the first session
        agent = start_agent()
        time.sleep(3)
        assert len(starts(log)[str(first)]) == 1, "restarted inside the window, it started the session again"
        stop_agent(agent)                                                # down through the second one's start
        while datetime.now(timezone.utc) < second_start + timedelta(seconds=3):
            time.sleep(0.2)
        restarted_at = time.time()
        agent = start_agent()
        assert wait_for(lambda: str(second) in starts(log), 10), "a session already begun did not start"
        assert starts(log)[str(second)][0] - restarted_at < 2.0          # at once (the agent starts in ~1 s)
        stop_agent(agent)
        agent = start_agent()
        time.sleep(3)
        assert len(starts(log)[str(second)]) == 1 and len(starts(log)[str(first)]) == 1
        assert str(not_recorded) not in starts(log)
        hub = HubProcess(db_path, extra_args=("--port", hub.url.rsplit(":", 1)[1]))  # back, where it was
        assert wait_for(lambda: dict(query(db_path, "SELECT session_id, state FROM recordings")).get(first)
                        == "finished", 60), query(db_path, "SELECT * FROM recordings")
        assert dict(query(db_path, "SELECT session_id, state FROM recordings"))[second] in ("recording", "finished")
    finally:
        if agent.poll() is None:
            stop_agent(agent)
        hub.stop()
