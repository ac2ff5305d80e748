"""The fleet's pages in headless Chromium (Debian's) against a real hub: IT staff make an enrollment token,
copy the enroll command, run it on a "terminal" (the real agent), and find the terminal on their page.

The hub sends its strict Content-Security-Policy, so an inline script or style fails the test.
Screenshots are kept under test-artifacts/fleet/.
"""
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from tests.accounts_helpers import create_user
from tests.fleet_kit import build_county
from tests.hubprocess import HubProcess

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "fleet"


@pytest.fixture
def hub(db_path):
    build_county(db_path)
    process = HubProcess(db_path)
    process.staff = create_user(db_path, "it_staff", ["S1"])
    yield process
    process.stop()


@pytest.fixture
def tab(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    yield page
    context.close()
    assert errors == []


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_it_staff_create_a_token_and_the_enroll_command_works(hub, tab, tmp_path):
    tab.goto(hub.url + "/fleet/tokens")
    tab.fill("input[name=username]", hub.staff.username)
    tab.fill("input[name=password]", hub.staff.password)
    tab.get_by_role("button", name="登录").click()
    tab.wait_for_url(hub.url + "/fleet/tokens")
    assert tab.locator("h1").inner_text() == "注册令牌"
    tab.fill("input[name=max_uses]", "40")
    tab.get_by_role("button", name="创建令牌").click()
    command = tab.get_by_label("注册命令").input_value()
    assert command.startswith(f"eduops-agent enroll --hub {hub.url} --token et_") and command.endswith("--room ROOM")
    shot(tab, "1-new-token")

    args = shlex.split(command.replace("ROOM", "S1-R2"))[1:] + ["--state-dir", str(tmp_path / "agent")]
    enrolled = subprocess.run([sys.executable, "-m", "agents", *args], capture_output=True, text=True, timeout=60)
    assert enrolled.returncode == 0, enrolled.stderr
    assert "school S1, room S1-R2, terminal S1-T3" in enrolled.stdout

    tab.get_by_role("link", name="完成").click()
    assert "1 / 40" in tab.locator("table.tokens tbody tr").first.inner_text()
    tab.get_by_role("link", name="终端").click()
    row = tab.locator("table.fleet tbody tr")
    assert row.count() == 1 and "S1-T3" in row.inner_text() and "在线" in row.inner_text()
    shot(tab, "2-terminals")
