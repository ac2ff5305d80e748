"""Settings: defaults < TOML file < flags; every bad value is refused with a message naming its key."""
from __future__ import annotations

from pathlib import Path

import pytest

from agents import config


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "agent.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_are_valid_and_bounded():
    settings = config.load()
    assert settings.interval_s == 60 and settings.teaching_software == ("EasiNote",)
    for name, f in config.SETTINGS.items():
        value = getattr(settings, name)
        if f.metadata["min"] is not None:
            assert f.metadata["min"] <= value <= f.metadata["max"], name


def test_flags_override_the_file_which_overrides_defaults(tmp_path):
    path = write(tmp_path, 'interval_s = 120\nbatch_size = 20\nteaching_software = ["EasiNote", "ClassIn"]\n')
    settings = config.load(path, {"interval_s": "90", "state_dir": str(tmp_path)})
    assert settings.interval_s == 90.0
    assert settings.batch_size == 20
    assert settings.teaching_software == ("EasiNote", "ClassIn")
    assert settings.state_dir == tmp_path


def test_a_list_flag_is_comma_separated():
    assert config.load(overrides={"teaching_software": "EasiNote, ClassIn,"}).teaching_software == (
        "EasiNote", "ClassIn")


@pytest.mark.parametrize("text, message", [
    ("interval_s = 5", "interval_s: 5.0 is below the minimum 10"),
    ("interval_s = 'soon'", "interval_s: 'soon' is not a valid number"),
    ("interval_s = true", "interval_s: True is not a valid number"),
    ("batch_size = 2.5", "batch_size: 2.5 is not a valid whole number"),
    ("batch_size = 5000", "batch_size: 5000 is above the maximum 1000"),
    ("log_level = 'LOUD'", "log_level: 'LOUD' is not one of DEBUG, INFO, WARNING, ERROR"),
    ("teaching_software = 3", "teaching_software: 3 is not a valid list of names"),
    ("ca_bundle = 7", "ca_bundle: 7 is not a valid text"),
    ("intervall_s = 60", "intervall_s: unknown setting in"),
    ("backoff_base_s = 60\nbackoff_cap_s = 30", "backoff_cap_s: 30.0 is below backoff_base_s 60.0"),
])
def test_a_bad_value_in_the_file_names_its_key(tmp_path, text, message):
    with pytest.raises(config.ConfigError, match="^" + message.replace(".", r"\.").replace("(", r"\(")):
        config.load(write(tmp_path, text))


def test_a_bad_flag_names_its_key():
    with pytest.raises(config.ConfigError, match="^spool_max_reports: 'many' is not a valid whole number"):
        config.load(overrides={"spool_max_reports": "many"})


def test_a_broken_or_missing_file_is_named(tmp_path):
    with pytest.raises(config.ConfigError, match="agent.toml"):
        config.load(write(tmp_path, "interval_s = = 3"))
    with pytest.raises(config.ConfigError, match="missing.toml"):
        config.load(tmp_path / "missing.toml")


def test_every_setting_has_help_an_example_and_a_flag():
    for name, f in config.SETTINGS.items():
        assert f.metadata["help"].endswith("."), name
        assert f.metadata["example"], name
        assert config.load(overrides={name: f.metadata["example"]}), name  # the example is valid
    assert config.flag_of("interval_s") == "--interval"
    assert config.flag_of("state_dir") == "--state-dir"
