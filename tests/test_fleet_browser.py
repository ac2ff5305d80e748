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

from tests.support.accounts_helpers import create_user
from tests.support.fleet_kit import build_county
from tests.support.hubprocess import HubProcess

pytestmark = pytest.mark.e2e  # real processes: a hub, agents, a browser or Prometheus

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "fleet"


@pytest.fixture
def hub(db_path):
    build_county(db_path)
    process = HubProcess(db_path)
    process.staff = create_user(db_path, "it_staff", ["S1"])
    yield process
    process.stop()


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_it_staff_create_a_token_and_the_enroll_command_works(hub, page, tmp_path):
    page.goto(hub.url + "/fleet/tokens")
    page.fill("input[name=username]", hub.staff.username)
    page.fill("input[name=password]", hub.staff.password)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(hub.url + "/fleet/tokens")
    assert page.locator("h1").inner_text() == "注册令牌"
    page.fill("input[name=max_uses]", "40")
    page.get_by_role("button", name="创建令牌").click()
    command = page.get_by_label("注册命令").input_value()
    assert command.startswith(f"eduops-agent enroll --hub {hub.url} --token et_") and command.endswith("--room ROOM")
    shot(page, "1-new-token")

    args = shlex.split(command.replace("ROOM", "S1-R2"))[1:] + ["--state-dir", str(tmp_path / "agent")]
    enrolled = subprocess.run([sys.executable, "-m", "agents", *args], capture_output=True, text=True, timeout=60)
    assert enrolled.returncode == 0, enrolled.stderr
    assert "school S1, room S1-R2, terminal S1-T3" in enrolled.stdout

    page.get_by_role("link", name="完成").click()
    assert "1 / 40" in page.locator("table.tokens tbody tr").first.inner_text()
    page.get_by_role("link", name="终端").click()
    row = page.locator("table.fleet tbody tr")
    assert row.count() == 1 and "S1-T3" in row.inner_text() and "在线" in row.inner_text()
    shot(page, "2-terminals")
