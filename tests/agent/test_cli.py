"""`eduops-agent` as a real process: once, enroll, status, run; plus help and configuration errors."""
from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from agents import __version__
from agents.cli import COMMANDS, build_parser, main
from agents.clock import to_iso, utc_now
from agents.spool import peek_status
from agents.state import State
from tests.agent.cannedhub import Canned
from tests.agent.reportshape import assert_report

AGENT = Path(sys.executable).with_name("eduops-agent")  # the installed console script


def agent(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([str(AGENT), *args], capture_output=True, text=True, timeout=timeout)


def test_once_prints_a_valid_report_without_enrollment(tmp_path):
    this_test = psutil.Process().name()  # a program sure to be running while once looks
    done = agent("once", "--state-dir", str(tmp_path / "never-made"), "--teaching-software", f"EasiNote,{this_test}")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert_report(report)
    assert report["seq"] == 0
    assert report["body"]["host"]["agent_version"] == __version__
    assert report["body"]["software"] == [{"name": "EasiNote", "running": False},
                                          {"name": this_test, "running": True}]
    assert not (tmp_path / "never-made").exists()  # once changes nothing


def test_enroll_keeps_the_key_owner_only_and_status_shows_it_without_the_key(tmp_path, canned_hub):
    state_dir = tmp_path / "state"
    done = agent("enroll", "--hub", canned_hub.url, "--token", "et_school", "--room", "R-530326-0001-101",
                 "--state-dir", str(state_dir))
    assert done.returncode == 0, done.stderr
    assert "Enrolled as ag_1" in done.stdout
    sent = canned_hub.seen[0].body
    assert sent["token"] == "et_school" and sent["room"] == "R-530326-0001-101"
    assert sent["instance_id"] == (state_dir / "instance-id").read_text().strip()
    assert set(sent["hardware"]) == {"hostname", "machine_id", "macs", "display_serials"}
    assert sent["agent_version"] == __version__ and sent["os"]
    assert stat.S_IMODE((state_dir / "agent.key").stat().st_mode) == 0o600
    assert stat.S_IMODE(state_dir.stat().st_mode) == 0o700
    assert (state_dir / "agent.key").read_text().strip() == "ak_secret"

    status = agent("status", "--json", "--state-dir", str(state_dir))
    assert status.returncode == 0
    info = json.loads(status.stdout)
    assert (info["enrolled"], info["revoked"], info["agent_id"], info["room"]) == (
        True, False, "ag_1", "R-530326-0001-101")
    assert "ak_secret" not in status.stdout

    again = agent("enroll", "--hub", canned_hub.url, "--token", "et_school", "--room", "R-2",
                  "--state-dir", str(state_dir))
    assert again.returncode == 0
    assert canned_hub.seen[1].body["instance_id"] == sent["instance_id"]  # the same machine, re-enrolled


@pytest.mark.parametrize("canned, code, says", [
    (Canned(400, {"error": "invalid", "message": "enrollment token expired; ask for a new one"}), 1,
     "token expired"),
    (Canned(503, {"error": "busy", "message": "hub starting"}, {"Retry-After": "5"}), 75, "hub starting")])
def test_enroll_refused_or_busy_says_why_and_keeps_nothing(tmp_path, canned_hub, canned, code, says):
    canned_hub.then(canned)
    done = agent("enroll", "--hub", canned_hub.url, "--token", "et_old", "--room", "R-1",
                 "--state-dir", str(tmp_path))
    assert done.returncode == code and says in done.stderr
    assert not (tmp_path / "agent.key").exists()


def test_enroll_rejects_a_hub_that_is_not_a_url(tmp_path, capsys):
    assert main(["enroll", "--hub", "10.53.0.5", "--token", "t", "--room", "r", "--state-dir", str(tmp_path)]) == 2
    assert "--hub: '10.53.0.5' is not an http:// or https:// address" in capsys.readouterr().err


def test_status_says_when_the_key_was_revoked(tmp_path, canned_hub, capsys):
    assert agent("enroll", "--hub", canned_hub.url, "--token", "t", "--room", "R-1",
                 "--state-dir", str(tmp_path)).returncode == 0
    State(tmp_path).mark_revoked(to_iso(utc_now()))
    assert main(["status", "--state-dir", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "REVOKED by the hub" in out and "reports are kept" in out


def test_status_before_enrollment_says_how_to_enroll(tmp_path, capsys):
    assert main(["status", "--state-dir", str(tmp_path)]) == 1
    assert "no: run `eduops-agent enroll --hub" in capsys.readouterr().out


def test_a_bad_setting_stops_with_a_message_naming_it(tmp_path, capsys):
    path = tmp_path / "agent.toml"
    path.write_text("spool_max_reports = 5\n")
    assert main(["run", "--config", str(path), "--state-dir", str(tmp_path)]) == 2
    assert "spool_max_reports: 5 is below the minimum 100" in capsys.readouterr().err
    assert main(["once", "--interval", "fast"]) == 2
    assert "interval_s: 'fast' is not a valid number" in capsys.readouterr().err


def test_run_reports_to_the_hub_and_stops_cleanly_on_sigterm(tmp_path, canned_hub):
    assert agent("enroll", "--hub", canned_hub.url, "--token", "t", "--room", "R-1",
                 "--state-dir", str(tmp_path)).returncode == 0
    proc = subprocess.Popen([str(AGENT), "run", "--state-dir", str(tmp_path), "--start-delay-max-s", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 30
        while not canned_hub.held and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
        assert canned_hub.held, "no report reached the hub"
        proc.send_signal(signal.SIGTERM)
        output, _ = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, output
    assert "eduops-agent stopped" in output
    status = peek_status(tmp_path / "spool.db")
    assert (status.sent, status.pending) == (1, 0)
    assert canned_hub.seen[-1].body["reports"][0]["body"]["host"]["hostname"]


def test_every_command_and_option_has_help_with_an_example():
    parser = build_parser()
    subparsers = next(a for a in parser._actions if a.dest == "command").choices
    assert set(subparsers) == set(COMMANDS)
    for name, sub in subparsers.items():
        assert "Example:" in sub.description, name
        for action in sub._actions:
            if action.dest != "help":
                assert action.help and "Example:" in action.help, (name, action.dest)


def test_version(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0 and capsys.readouterr().out.strip() == f"eduops-agent {__version__}"


def test_module_entry_point_matches_the_console_script():
    done = subprocess.run([sys.executable, "-m", "agents", "--version"], capture_output=True, text=True,
                          timeout=60, env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])})
    assert done.stdout.strip() == f"eduops-agent {__version__}"


def test_a_log_file_that_cannot_be_opened_is_named(tmp_path, capsys):
    assert main(["once", "--log-file", str(tmp_path / "no" / "such" / "dir" / "agent.log")]) == 2
    assert "log_file: cannot open" in capsys.readouterr().err
