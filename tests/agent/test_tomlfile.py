"""The agent's settings reader: the flat TOML its settings use, on every Python from 3.8."""
from __future__ import annotations

from pathlib import Path

import pytest

from agents import config, tomlfile

EXAMPLE = Path(__file__).resolve().parents[2] / "agents/agent.example.toml"


def test_the_example_file_reads_as_every_setting():
    values = tomlfile.loads(EXAMPLE.read_text(encoding="utf-8"))
    assert set(values) == set(config.SETTINGS)
    assert values["teaching_software"] == ["EasiNote"] and values["interval_s"] == 60
    assert values["jitter"] == 0.1 and values["ca_bundle"] == ""


def test_the_windows_installers_settings_keep_their_backslashes():
    # install-windows.ps1 writes exactly this, with CRLF line ends; Notepad may add a byte-order mark.
    text = "\ufeff# EduOps agent settings\r\nstate_dir = 'C:\\ProgramData\\EduOps\\agent'\r\n" \
           "log_file = 'C:\\ProgramData\\EduOps\\agent\\agent.log'\r\n"
    assert tomlfile.loads(text) == {"state_dir": r"C:\ProgramData\EduOps\agent",
                                    "log_file": r"C:\ProgramData\EduOps\agent\agent.log"}


@pytest.mark.parametrize("text, value", [
    ('a = "x\\ty\\u00e9\\U0001F600 # not a comment"  # a comment', "x\tyé\U0001F600 # not a comment"),
    ("a = 1_000", 1000), ("a = -5", -5), ("a = +2.5e3", 2500.0), ("a = 1e06", 1e6), ("a = 0.001", 0.001),
    ("a = true", True), ("a = false", False), ('a = [ "x", \'y\', ]', ["x", "y"]), ("a = []", []),
    ('a="希沃白板"', "希沃白板"), ("\ta\t=\t3\t", 3),
])
def test_values(text, value):
    assert tomlfile.loads(text) == {"a": value}


@pytest.mark.parametrize("text, said", [
    ("[agent]\ninterval_s = 60", "line 1: tables ([...]) are not used"),
    ("\n\na = '''x'''", "line 3: multi-line strings"),
    ('a = "C:\\ProgramData"', "unknown escape (for a Windows path use '...'"),
    ('a = "open', 'not closed'),
    ("a = 1\na = 2", "line 2: a is set twice"),
    ("a = [\n 'x' ]", "a list must close with ] on the same line"),
    ("a = 07", "expected a value"), ("a = 1.", "expected a value"), ("a = inf", "expected a value"),
    ("a = 2026-11-29", "expected a value"), ("a.b = 1", "expected `=` after a"), ("a = 1 2", "after the value"),
    ('"a" = 1', "expected `key = value`"), ("a = 'x\x01'", "control character"),
])
def test_what_it_does_not_read_is_refused_with_the_line(text, said):
    with pytest.raises(tomlfile.TomlError, match=None) as refused:
        tomlfile.loads(text)
    assert said in str(refused.value), str(refused.value)


def test_a_bad_file_stops_the_agent_naming_the_file_and_line(tmp_path):
    path = tmp_path / "agent.toml"
    path.write_text("interval_s = 60\nlog_file = \"C:\\ProgramData\\agent.log\"\n", encoding="utf-8")
    with pytest.raises(config.ConfigError, match=r"agent.toml: line 2: a backslash"):
        config.load(path)
    path.write_bytes("interval_s = 60 # 六十\n".encode("gbk"))
    with pytest.raises(config.ConfigError, match="not UTF-8 text"):
        config.load(path)
