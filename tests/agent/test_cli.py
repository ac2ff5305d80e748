"""`eduops-agent` as a real process: once, enroll, status, run; plus help and configuration errors."""
from __future__ import annotations

import json
import os
import signal
import socket
import stat
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import psutil
import pytest

from agents import __version__
from agents.cli import COMMANDS, build_parser, main
from agents.clock import to_iso, utc_now
from agents.spool import peek_status
from agents.state import State
from tests.support.cannedhub import Canned
from tests.support.reportshape import assert_report

AGENT = Path(sys.executable).with_name("eduops-agent")  # the installed console script


def agent(*args: str, timeout: float = 60, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([str(AGENT), *args], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})})


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


def test_enroll_explains_terminal_matching_when_the_hub_cannot_tell_the_terminal(tmp_path, canned_hub):
    done = agent("enroll", "--hub", canned_hub.url, "--token", "t", "--room", "R-1", "--state-dir", str(tmp_path))
    assert done.returncode == 0, done.stderr
    assert "not matched to a terminal of the inventory (the hub's pages say 未对应" in done.stdout
    assert f"equals its hostname ({socket.gethostname()})" in done.stdout
    assert "set the hostname to the terminal's asset tag, or leave one terminal of the room free" in done.stdout
    canned_hub.then(Canned(201, {"agent_id": "ag_2", "agent_key": "ak_2", "school": "S1", "room": "R-1",
                                 "terminal": "T-0001-101-1"}))
    matched = agent("enroll", "--hub", canned_hub.url, "--token", "t", "--room", "R-1", "--state-dir", str(tmp_path))
    assert "Terminal: T-0001-101-1 of the inventory." in matched.stdout and "未对应" not in matched.stdout


def test_enroll_speaks_chinese_on_a_chinese_locale(tmp_path, canned_hub):
    done = agent("enroll", "--hub", canned_hub.url, "--token", "t", "--room", "R-1", "--state-dir", str(tmp_path),
                 env={"LANG": "zh_CN.UTF-8"})
    assert "注册成功，探针编号 ag_1：学校 S530326-0001，教室 R-1。" in done.stdout
    assert "中心页面上显示“未对应”" in done.stdout and "Enrolled" not in done.stdout
    english = agent("status", "--state-dir", str(tmp_path), env={"LANG": "en_US.UTF-8", "LANGUAGE": ""})
    assert "Enrolled:     yes, ag_1 in room R-1" in english.stdout


def test_a_wrong_room_code_is_answered_with_the_schools_closest_codes_in_the_installers_language(tmp_path,
                                                                                                  canned_hub):
    refused = Canned(400, {"error": "unknown_room", "message": "Room 015教室 is not in the inventory.",
                           "school": "S1", "closest": ["S1-R1", "S1-R2"]})
    canned_hub.then(refused, refused)
    english = agent("enroll", "--hub", canned_hub.url, "--token", "t", "--room", "015教室", "--state-dir", str(tmp_path))
    assert english.returncode == 1
    assert ("enrollment failed: room 015教室 is not in the inventory of school S1; its closest room codes are "
            "S1-R1, S1-R2") in english.stderr
    chinese = agent("enroll", "--hub", canned_hub.url, "--token", "t", "--room", "015教室", "--state-dir", str(tmp_path),
                    env={"LANG": "zh_CN.UTF-8"})
    assert "注册失败：教室 015教室 不在学校 S1 的资产清单里；该校最接近的教室编码是 S1-R1, S1-R2" in chinese.stderr


@pytest.mark.parametrize("path, says", [
    ("/fleet/tokens", "{hub}/fleet/tokens is a page of the hub, not its base address: try --hub {hub}"),
    ("", "no EduOps hub answers at {hub}: check the address and port")])
def test_a_404_from_the_hub_address_says_which_address_to_use(tmp_path, canned_hub, path, says):
    canned_hub.then(Canned(404, raw=b"<html>Not Found</html>", headers={"Content-Type": "text/html"}))
    done = agent("enroll", "--hub", canned_hub.url + path, "--token", "t", "--room", "R-1",
                 "--state-dir", str(tmp_path))
    assert done.returncode == 1
    assert "enrollment failed: hub answered 404" in done.stderr
    assert says.format(hub=canned_hub.url) in done.stderr


def test_status_explains_never_in_the_first_minutes_and_after(tmp_path, canned_hub, capsys):
    assert agent("enroll", "--hub", canned_hub.url, "--token", "t", "--room", "R-1",
                 "--state-dir", str(tmp_path)).returncode == 0
    assert main(["status", "--state-dir", str(tmp_path)]) == 0
    assert "Last success: never (normal in the first minutes: the first report waits" in capsys.readouterr().out
    record = json.loads((tmp_path / "enrollment.json").read_text())
    record["enrolled_at"] = to_iso(utc_now() - timedelta(minutes=10))
    (tmp_path / "enrollment.json").write_text(json.dumps(record))
    main(["status", "--state-dir", str(tmp_path)])
    assert "never (no report reached the hub yet: is the service running?" in capsys.readouterr().out


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
