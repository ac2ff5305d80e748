from pathlib import Path

import pytest

from eduops import config as configmod
from eduops.config import ConfigError


def test_defaults_then_file_then_environment_then_overrides(tmp_path: Path):
    toml = tmp_path / "eduops.toml"
    toml.write_text('port = 9000\nthreads = 4\nlog_level = "DEBUG"\n', encoding="utf-8")
    config = configmod.load(toml, env={"EDUOPS_PORT": "9100"}, overrides={"threads": 8})
    assert config.port == 9100          # environment beats file
    assert config.threads == 8          # flag beats environment
    assert config.log_level == "DEBUG"  # file beats default
    assert config.max_body_bytes == configmod.Config().max_body_bytes


@pytest.mark.parametrize("env, key", [
    ({"EDUOPS_PORT": "eighty"}, "port"),
    ({"EDUOPS_PORT": "70000"}, "port"),
    ({"EDUOPS_THREADS": "0"}, "threads"),
    ({"EDUOPS_LOG_LEVEL": "LOUD"}, "log_level"),
    ({"EDUOPS_DEMO": "perhaps"}, "demo"),
])
def test_bad_value_is_refused_naming_the_key(env, key):
    with pytest.raises(ConfigError, match=rf"^{key}:"):
        configmod.load(env=env)


def test_unknown_key_in_file_is_refused(tmp_path: Path):
    toml = tmp_path / "eduops.toml"
    toml.write_text("prot = 80\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="^prot: unknown setting"):
        configmod.load(toml, env={})


def test_wrong_type_in_file_is_refused(tmp_path: Path):
    toml = tmp_path / "eduops.toml"
    toml.write_text('port = "8080"\nthreads = 2.5\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="^threads:"):
        configmod.load(toml, env={})


def test_demo_and_tests_get_a_generated_secret_but_a_given_one_is_kept():
    generated = configmod.with_generated_secret(configmod.load(env={}))
    assert generated.secret_key and len(generated.secret_key) >= 32
    kept = configmod.with_generated_secret(configmod.load(env={"EDUOPS_SECRET_KEY": "s3cret"}))
    assert kept.secret_key == "s3cret"
