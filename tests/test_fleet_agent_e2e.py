"""The real agent (`eduops-agent`, as its own process) against the real hub: the two sides of protocol v1 meet."""
import json
import signal
import subprocess
import sys


import pytest

from eduops.fleet.protocol import Report
from tests.support.fleet_kit import create_token, eduops, query, wait_for

pytestmark = pytest.mark.e2e  # real processes: a hub, agents, a browser or Prometheus


def agent(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "agents", *args], capture_output=True, text=True, timeout=timeout)




def test_what_the_agent_would_send_is_a_valid_report(tmp_path):
    printed = agent("once", "--state-dir", str(tmp_path / "state"))
    assert printed.returncode == 0, printed.stderr
    report = Report.model_validate_json(printed.stdout)
    assert report.body.host.hostname


def test_a_real_agent_enrolls_reports_and_answers_a_command(county_hub, db_path, tmp_path):
    state = str(tmp_path / "state")
    enrolled = agent("enroll", "--hub", county_hub.url, "--token", create_token(db_path), "--room", "S1-R2",
                     "--state-dir", state)
    assert enrolled.returncode == 0, enrolled.stderr
    [(agent_id, room, terminal)] = query(db_path, "SELECT id, room_code, terminal_code FROM agents")
    assert (room, terminal) == ("S1-R2", "S1-T3")
    command_id = eduops("terminals", "command", agent_id, "send_inventory", "--db", str(db_path)).stdout.split()[0]
    running = subprocess.Popen([sys.executable, "-m", "agents", "run", "--state-dir", state,
                                "--start-delay-max-s", "0"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True)
    try:
        assert wait_for(lambda: query(db_path, "SELECT COUNT(*) FROM reports")[0][0] >= 1), "no report arrived"
        assert wait_for(lambda: query(db_path, "SELECT acked_at IS NOT NULL FROM commands")[0][0] == 1), \
            "the command was not acknowledged"
    finally:
        running.send_signal(signal.SIGTERM)
        output = running.communicate(timeout=30)[0]
    assert "Traceback" not in output
    [(state_now, skew)] = query(db_path, "SELECT state, clock_skew_s FROM agents")
    assert state_now == "online" and abs(skew) < 5
    assert query(db_path, "SELECT reports FROM agent_days")[0][0] >= 1
    assert query(db_path, "SELECT status FROM commands WHERE id = ?", [command_id])[0][0] in ("done", "failed")
    status = agent("status", "--json", "--state-dir", state)
    assert json.loads(status.stdout)["sent"] >= 1


def test_a_real_agent_whose_terminal_is_retired_is_told_to_enroll_again(county_hub, db_path, tmp_path):
    state = str(tmp_path / "state")
    assert agent("enroll", "--hub", county_hub.url, "--token", create_token(db_path), "--room", "S1-R2",
                 "--state-dir", state).returncode == 0
    agent_id = query(db_path, "SELECT id FROM agents")[0][0]
    assert eduops("terminals", "retire", agent_id, "--db", str(db_path)).returncode == 0
    running = subprocess.Popen([sys.executable, "-m", "agents", "run", "--state-dir", state,
                                "--start-delay-max-s", "0"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True)
    try:
        assert wait_for(lambda: json.loads(agent("status", "--json", "--state-dir", state).stdout)["revoked"]), \
            "the agent did not learn its key was revoked"
    finally:
        running.send_signal(signal.SIGTERM)
        running.communicate(timeout=30)
    assert query(db_path, "SELECT COUNT(*) FROM reports") == [(0,)]
    kept = json.loads(agent("status", "--json", "--state-dir", state).stdout)
    assert kept["pending"] >= 1 and kept["dropped"] == 0      # spooled until enrolled again
