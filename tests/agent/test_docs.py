"""The agent's docs, example settings and service files stay true to the code, and agents/ stands alone."""
import ast
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

from agents import config
from agents.cli import COMMANDS

ROOT = Path(__file__).resolve().parents[2]
GUIDE = (ROOT / "docs/agent.md").read_text(encoding="utf-8")
EXAMPLE = ROOT / "agents/agent.example.toml"
UNIT = ROOT / "agents/service/eduops-agent.service"
ALLOWED_IMPORTS = {"psutil", "requests", "agents"} | set(sys.stdlib_module_names)


def test_every_setting_is_in_the_guide_with_its_flag_and_help():
    for name, f in config.SETTINGS.items():
        assert f"| `{name}` | `{config.flag_of(name)}` |" in GUIDE, f"{name} is not in docs/agent.md"
        assert f.metadata["help"] in GUIDE, f"{name}'s help differs from docs/agent.md"


def test_the_example_file_sets_every_setting_validly():
    assert set(tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))) == set(config.SETTINGS)
    assert config.load(EXAMPLE) == config.load(overrides={"state_dir": "/var/lib/eduops-agent"})


def test_every_command_is_in_the_guide():
    for name in COMMANDS:
        assert f"eduops-agent {name}" in GUIDE, name
    assert "eduops-agent --version" in GUIDE


def test_the_unit_restarts_always_and_is_hardened():
    directives = dict(line.split("=", 1) for line in UNIT.read_text().splitlines()
                      if "=" in line and not line.startswith("#"))
    assert directives["Restart"] == "always"
    assert directives["ExecStart"].split()[1:3] == ["run", "--config"]
    assert directives["User"] == "eduops-agent"
    for key, value in {"NoNewPrivileges": "yes", "ProtectSystem": "strict", "PrivateTmp": "yes",
                       "ProtectHome": "yes", "ReadWritePaths": "/var/lib/eduops-agent",
                       "CapabilityBoundingSet": ""}.items():
        assert directives[key] == value, key
    assert "ProtectProc" not in directives  # it would hide the teacher's teaching software


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="needs systemd-analyze (Debian's systemd)")
def test_systemd_accepts_the_unit_and_rates_its_exposure_ok(tmp_path):
    unit = tmp_path / "eduops-agent.service"
    unit.write_text(UNIT.read_text().replace("/opt/eduops-agent/bin/eduops-agent", "/bin/true"))
    verify = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, timeout=60)
    assert verify.returncode == 0 and "Unknown" not in verify.stderr, verify.stderr
    security = subprocess.run(["systemd-analyze", "security", "--offline=true", str(unit)],
                              capture_output=True, text=True, timeout=60)
    exposure = float(re.search(r"Overall exposure level for \S+: ([\d.]+)", security.stdout).group(1))
    assert exposure < 3.0, security.stdout


def test_the_windows_installer_registers_a_start_up_task_that_restarts():
    script = (ROOT / "agents/service/install-windows.ps1").read_text(encoding="utf-8")
    for needed in ("New-ScheduledTaskTrigger -AtStartup", "-RestartCount", "-RepetitionInterval",
                   "-MultipleInstances IgnoreNew", "Register-ScheduledTask", "icacls", "/inheritance:r",
                   "run --config", "enroll --hub"):
        assert needed in script, needed
    assert "install-windows.ps1" in GUIDE


def test_agents_import_only_psutil_requests_and_the_standard_library():
    for path in (ROOT / "agents").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            for name in names:
                assert name.split(".")[0] in ALLOWED_IMPORTS, f"{path} imports {name}"


def test_running_the_agent_loads_nothing_from_the_hub():
    code = ("import sys, agents.cli, agents.loop; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('eduops', 'scheduler', 'flask')))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "[]", done.stdout + done.stderr


def test_the_wheel_carries_the_example_settings_and_the_service_files(tmp_path):
    # docs/agent.md installs a terminal from the wheel; these files are what it copies from the bundle.
    # Built from a clean copy: a build/ or *.egg-info/ left in the tree would supply them whatever pyproject says.
    source = tmp_path / "source"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(".*", "build", "*.egg-info", "__pycache__", "*.db*"))
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(tmp_path), str(source)],
                           capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stderr
    [wheel] = tmp_path.glob("eduops-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    wanted = {f"agents/{p.relative_to(ROOT / 'agents').as_posix()}"
              for p in [EXAMPLE, *(ROOT / "agents/service").iterdir()]}
    assert wanted <= names, sorted(wanted - names)
