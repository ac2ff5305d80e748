"""The map in docs/development.md, checked: no import cycle, the arrows between areas, no test imports a test."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CLI_MODULES = ["eduops.cli", "eduops.cli_common", "eduops.jobs", "eduops.accounts.cli", "eduops.fleet.cli",
               "eduops.coverage.cli", "eduops.demo.cli"]


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found += [node.module] + [f"{node.module}.{a.name}" for a in node.names]
    return found


def hub_modules() -> list[str]:
    # __main__ runs the command line when imported: `python -m eduops` in test_cli covers it
    return sorted(module_name(p) for p in (ROOT / "eduops").rglob("*.py") if p.name != "__main__.py")


def test_every_hub_module_imports_first_in_a_fresh_interpreter():
    """Each module imported first, with nothing of the hub loaded yet, so an import cycle fails here."""
    names = CLI_MODULES + [m for m in hub_modules() if m not in CLI_MODULES]
    code = (
        "import importlib, sys, traceback\n"
        f"failed = []\nfor name in {names!r}:\n"
        "    for loaded in [m for m in sys.modules if m.split('.')[0] in ('eduops', 'scheduler', 'agents')]:\n"
        "        del sys.modules[loaded]\n"
        "    try:\n        importlib.import_module(name)\n"
        "    except Exception:\n        failed.append(name + ': ' + traceback.format_exc(limit=3))\n"
        "print('\\n'.join(failed))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 0 and done.stdout.strip() == "", done.stdout + done.stderr
    assert len(names) > 40  # every module was tried, not an empty list


def test_each_cli_module_imports_alone():
    for name in CLI_MODULES:
        done = subprocess.run([sys.executable, "-c", f"import {name}"], capture_output=True, text=True,
                              timeout=60, cwd=ROOT)
        assert done.returncode == 0, f"{name}: {done.stderr}"


def test_scheduler_imports_neither_the_hub_nor_flask():
    paths = list((ROOT / "scheduler").rglob("*.py"))
    assert paths
    for path in paths:
        for name in imports(path):
            assert name.split(".")[0] not in ("eduops", "flask"), f"{path} imports {name}"


def test_only_the_demo_imports_the_agent_and_nothing_but_the_cli_imports_the_demo():
    for path in (ROOT / "eduops").rglob("*.py"):
        inside_demo = "demo" in path.relative_to(ROOT / "eduops").parts[:-1]
        for name in imports(path):
            if name.split(".")[0] == "agents":
                assert inside_demo, f"{path} imports {name}: only eduops/demo/ may use the agent's code"
            if name.startswith("eduops.demo") and not inside_demo:
                assert path == ROOT / "eduops" / "cli.py", f"{path} imports {name}: nothing imports the demo"


def test_no_test_module_imports_another_test_module():
    for path in (ROOT / "tests").rglob("*.py"):
        for name in imports(path):
            leaf = name.split(".")
            assert not any(part.startswith("test_") for part in leaf), \
                f"{path} imports {name}: shared helpers go in tests/support/"


def test_long_modules_say_why():
    for path in list((ROOT / "eduops").rglob("*.py")) + list((ROOT / "scheduler").rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        if text.count("\n") > 300:
            doc = ast.get_docstring(ast.parse(text)) or ""
            assert "300 lines" in doc, f"{path} is over 300 lines: split it or say why in its docstring"
