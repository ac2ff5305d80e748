"""The agent's docs, example settings, service files and catalogue stay true to the code, and agents/ stands
alone: its own distribution, psutil and requests only, Python 3.8 and later."""
from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from agents import config, i18n
from agents.cli import COMMANDS

ROOT = Path(__file__).resolve().parents[2]
GUIDE = (ROOT / "docs/agent.md").read_text(encoding="utf-8")
EXAMPLE = ROOT / "agents/agent.example.toml"
UNIT = ROOT / "agents/service/eduops-agent.service"
ALLOWED_IMPORTS = {"psutil", "requests", "agents"} | set(sys.stdlib_module_names)
WINDOWS_SCRIPT = ROOT / "agents/service/install-windows.ps1"
CATALOGUE = i18n.LOCALE_DIR / "zh_CN/LC_MESSAGES"


def test_every_setting_is_in_the_guide_with_its_flag_and_help():
    for name, f in config.SETTINGS.items():
        assert f"| `{name}` | `{config.flag_of(name)}` |" in GUIDE, f"{name} is not in docs/agent.md"
        assert f.metadata["help"] in GUIDE, f"{name}'s help differs from docs/agent.md"


def test_the_example_file_sets_every_setting_validly():
    assert tomllib.loads(EXAMPLE.read_text(encoding="utf-8")).keys() == config.SETTINGS.keys()
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
    script = WINDOWS_SCRIPT.read_text(encoding="utf-8-sig")
    for needed in ("New-ScheduledTaskTrigger -AtStartup", "-RestartCount", "-RepetitionInterval",
                   "-MultipleInstances IgnoreNew", "Register-ScheduledTask", "icacls", "/inheritance:r",
                   "run --config", "enroll --hub"):
        assert needed in script, needed
    assert "install-windows.ps1" in GUIDE


def test_the_windows_installer_is_utf8_with_a_byte_order_mark_and_no_smart_quotes():
    # Windows PowerShell 5.1 reads a script without a BOM in the ANSI code page (GBK on Chinese Windows),
    # and takes curly quotes for string quotes, so Chinese text must not hold them.
    raw = WINDOWS_SCRIPT.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    text = raw[3:].decode("utf-8")
    assert re.search(r"[\u4e00-\u9fff]", text)  # there is Chinese to protect
    assert not set(text) & set("\u2018\u2019\u201a\u201b\u201c\u201d\u201e"), "smart quotes in the script"


def test_the_windows_installer_finds_or_installs_python_and_survives_an_unreachable_hub():
    script = WINDOWS_SCRIPT.read_text(encoding="utf-8-sig")
    for needed in ("py.exe", "-3 -c", "HKLM:\\SOFTWARE\\Python\\PythonCore", "python-3.*-amd64.exe",
                   '"/quiet", "InstallAllUsers=1", "PrependPath=1"', "sys.version_info < (3, 8)",
                   "Python 3.8 or later needed", "$LASTEXITCODE -eq 75"):
        assert needed in script, needed
    # The task is registered after enrollment whatever enrollment said, short of a refusal.
    assert script.index("$LASTEXITCODE -eq 75") < script.index("Register-ScheduledTask -TaskName")
    assert "Program Files\\Python311" not in script


def test_the_linux_installer_checks_python_first_and_is_valid_sh():
    script = ROOT / "agents/service/install-linux.sh"
    assert subprocess.run(["sh", "-n", str(script)], capture_output=True, timeout=30).returncode == 0
    text = script.read_text(encoding="utf-8")
    assert text.index("Python 3.8 or later needed") < text.index("-m venv")
    assert "install-linux.sh" in GUIDE


def test_the_hub_does_not_install_the_agents_command():
    # A terminal installs eduops-agent alone; the hub's own distribution must not pretend to be it.
    with open(ROOT / "pyproject.toml", "rb") as fh:
        hub = tomllib.load(fh)["project"]
    assert set(hub["scripts"]) == {"eduops"}
    with open(ROOT / "agents/pyproject.toml", "rb") as fh:
        agent = tomllib.load(fh)["project"]
    assert agent["requires-python"] == ">=3.8"
    assert [re.split(r"[<>=!~ ]", d)[0] for d in agent["dependencies"]] == ["psutil", "requests"]


def test_vermin_says_the_agent_needs_python_3_8_at_most():
    vermin = str(Path(sys.executable).with_name("vermin"))
    checked = subprocess.run([vermin, "--no-tips", "--violations", "--target=3.8-",
                              str(ROOT / "agents")], capture_output=True, text=True, timeout=120)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    found = subprocess.run([vermin, "--no-tips", str(ROOT / "agents")],
                           capture_output=True, text=True, timeout=120)
    assert re.search(r"Minimum required versions: (3\.[0-8]|~2)", found.stdout), found.stdout


def test_every_agent_text_has_a_chinese_translation_and_the_catalogue_is_compiled():
    with open(CATALOGUE / "eduops-agent.po", "rb") as fh:
        po = read_po(fh)
    with open(CATALOGUE / "eduops-agent.mo", "rb") as fh:
        mo = read_mo(fh)
    used = {msg[2] for msg in extract_from_dir(str(ROOT / "agents"), method_map=[("**.py", "python")],
                                               keywords={"_": None})}
    untranslated = sorted(m for m in used if not (po.get(m) and po.get(m).string))
    assert not untranslated, f"agent texts without a Chinese translation: {untranslated}"
    stale = sorted(m.id for m in po if m.id and (mo.get(m.id) is None or mo.get(m.id).string != m.string))
    assert not stale, f"eduops-agent.mo is stale; run pybabel compile (docs/development.md): {stale}"
    unused = sorted(m.id for m in po if m.id and m.id not in used)
    assert not unused, f"translations of texts no longer used: {unused}"


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


def test_the_agents_wheel_carries_its_files_and_asks_for_psutil_requests_and_python_3_8(tmp_path):
    # Built from a clean copy: a build/ or *.egg-info/ left in the tree would supply files whatever pyproject says.
    source = tmp_path / "agents"
    shutil.copytree(ROOT / "agents", source, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(tmp_path), str(source)],
                           capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stderr
    [wheel] = tmp_path.glob("eduops_agent-*.whl")
    archive = zipfile.ZipFile(wheel)
    names = set(archive.namelist())
    wanted = {f"agents/{p.relative_to(ROOT / 'agents').as_posix()}"
              for p in [EXAMPLE, *(ROOT / "agents/service").iterdir(), CATALOGUE / "eduops-agent.mo",
                        *(ROOT / "agents").rglob("*.py")]}
    assert wanted <= names, sorted(wanted - names)
    assert not [n for n in names if n.startswith(("eduops/", "scheduler/"))]
    [metadata] = [n for n in names if n.endswith(".dist-info/METADATA")]
    lines = archive.read(metadata).decode().splitlines()
    assert [line for line in lines if line.startswith(("Requires-Dist", "Requires-Python"))] == [
        "Requires-Python: >=3.8", "Requires-Dist: psutil>=5.9", "Requires-Dist: requests>=2.31"]
