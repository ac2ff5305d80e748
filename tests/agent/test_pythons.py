"""The agent on the Pythons schools have: its tests pass on 3.8 and on the newest Python here, each in a
fresh venv with the agent installed offline from a bundle; 3.7 and 3.6 hear "Python 3.8 or later needed".
Python versions come from pyenv (~/.pyenv/versions); `scripts/test-agent-pythons` alone runs all of them."""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PYENV = Path.home() / ".pyenv/versions"


def pyenv_python(prefix: str) -> Path:
    found = sorted(PYENV.glob(f"{prefix}.*/bin/python"))
    if not found:
        pytest.skip(f"this machine has no Python {prefix} under {PYENV}")
    return found[-1]


def newest_python() -> Path:
    found = [p for p in PYENV.glob("3.*/bin/python") if p.parents[1].name.split(".")[1].isdigit()]
    if not found:
        pytest.skip(f"this machine has no Python 3 under {PYENV}")
    return max(found, key=lambda p: tuple(int(n) for n in p.parents[1].name.split(".")[:2]))


@pytest.mark.e2e
def test_the_agents_tests_pass_on_python_3_8_and_the_newest():
    pythons = [pyenv_python("3.8"), newest_python()]
    done = subprocess.run([str(ROOT / "scripts/test-agent-pythons"), *map(str, pythons)], cwd=ROOT,
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-5000:] + done.stderr[-3000:]
    assert "agent tests passed on 2 Python version(s)" in done.stdout
    for python in pythons:
        assert f"== Python {python.parents[1].name}: eduops-agent" in done.stdout


@pytest.mark.parametrize("version", ["3.7", "3.6"])
def test_too_old_a_python_hears_that_3_8_is_needed(version):
    python = pyenv_python(version)
    run = subprocess.run([str(python), "-m", "agents", "--version"], cwd=ROOT, capture_output=True, text=True,
                         timeout=60)
    assert run.returncode == 1
    assert f"eduops-agent: Python 3.8 or later needed; this is Python {version}" in run.stderr
    install = subprocess.run(["sh", str(ROOT / "agents/service/install-linux.sh"), "--python", str(python)],
                             capture_output=True, text=True, timeout=60)
    assert install.returncode == 2
    assert "需要 Python 3.8 或更高版本 / Python 3.8 or later needed" in install.stderr
    assert f"Python {version}" in install.stderr
