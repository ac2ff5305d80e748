"""From the county's bundle to a terminal online, as school IT staff would do it: the offline bundle is
built (this machine's platform and Python only, to keep the test short: all of them take about a minute
more, see scripts/agent-bundle), the agent is installed from it with --no-index in a fresh venv that gets
nothing of the hub, IT staff make a token in headless Chromium and copy the room's command with its copy
button, the agent enrolls with exactly those flags and reports, and the terminal shows online.

The command copied is install-linux.sh's, which needs root and systemd; its flags are the agent's own
`enroll` flags, so the test runs `eduops-agent enroll` with them. The hub sends its strict
Content-Security-Policy, so an inline script or style fails the test. Screenshots go to test-artifacts/fleet/.
"""
import shlex
import subprocess
import sys
import time
import venv
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.support.accounts_helpers import create_user
from tests.support.fleet_kit import build_county
from tests.support.hubprocess import HubProcess

pytestmark = pytest.mark.e2e  # real processes: a hub, agents, a browser or Prometheus

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts" / "fleet"
FAST = ("--start-delay-max-s", "0", "--interval", "10", "--probe-timeout-s", "0.2", "--ping-count", "1")


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


def install_from_bundle(tmp_path: Path) -> Path:
    """Build the bundle for this machine, install the agent from it offline in a fresh venv; its bin/."""
    bundle = tmp_path / "bundle"
    python = "%d.%d" % sys.version_info[:2]
    built = subprocess.run([sys.executable, str(ROOT / "scripts/agent-bundle"), "--platform", "linux_x86_64",
                            "--python", python, str(bundle)], capture_output=True, text=True, timeout=600)
    assert built.returncode == 0, built.stdout + built.stderr
    assert {"install-linux.sh", "install-windows.ps1", "eduops-agent.service", "agent.example.toml",
            "agent.md", "SHA256SUMS"} <= {p.name for p in bundle.iterdir()}
    terminal = tmp_path / "terminal"
    venv.create(terminal, with_pip=True)
    installed = subprocess.run([str(terminal / "bin/python"), "-m", "pip", "install", "--no-index",
                                "--find-links", str(bundle / "wheels"), "eduops-agent"],
                               capture_output=True, text=True, timeout=300)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    hub_parts = subprocess.run([str(terminal / "bin/python"), "-c", "import importlib.util as u; print("
                                "[m for m in ('eduops', 'flask', 'click', 'scheduler') if u.find_spec(m)])"],
                               capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert hub_parts.stdout.strip() == "[]"  # the terminal gets nothing of the hub
    assert not (terminal / "bin/eduops").exists()
    return terminal / "bin"


def test_a_bundle_installs_offline_and_enrolls_with_the_command_copied_from_the_token_page(hub, page, tmp_path):
    bin_dir = install_from_bundle(tmp_path)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=hub.url)
    page.goto(hub.url + "/fleet/tokens")
    page.fill("input[name=username]", hub.staff.username)
    page.fill("input[name=password]", hub.staff.password)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(hub.url + "/fleet/tokens")
    assert page.locator("h1").inner_text() == "注册令牌"
    rooms = page.locator("table.rooms tbody tr")
    assert rooms.count() == 2 and "还没有" in rooms.nth(1).inner_text()  # S1-R1 and S1-R2, no agent yet
    page.fill("input[name=max_uses]", "40")
    page.get_by_role("button", name="创建令牌").click()
    room = page.locator('tr[data-room="S1-R2"]')
    button = room.locator('button[data-copy^="linux"]')
    button.click()
    expect(button).to_have_text("已复制")  # the clipboard answers asynchronously: wait for it
    copied = page.evaluate("navigator.clipboard.readText()")
    shot(page, "1-new-token")
    words = shlex.split(copied)
    assert words[:3] == ["sudo", "sh", "install-linux.sh"]
    assert words[3:] == ["--hub", hub.url, "--token", words[6], "--room", "S1-R2"] and words[6].startswith("et_")
    assert "-Room S1-R2" in room.locator('code[id^="windows"]').inner_text()

    state = tmp_path / "state"
    enrolled = subprocess.run([str(bin_dir / "eduops-agent"), "enroll", *words[3:], "--state-dir", str(state)],
                              capture_output=True, text=True, timeout=60)
    assert enrolled.returncode == 0, enrolled.stderr
    assert "school S1, room S1-R2." in enrolled.stdout and "Terminal: S1-T3 of the inventory." in enrolled.stdout
    log = tmp_path / "agent.log"
    with open(log, "w") as out:
        agent = subprocess.Popen([str(bin_dir / "eduops-agent"), "run", "--state-dir", str(state), *FAST],
                                 stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while "delivering: the hub at" not in log.read_text() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert "delivering: the hub at" in log.read_text(), log.read_text()
    finally:
        agent.terminate()
        agent.wait(30)
    assert "Traceback" not in log.read_text()

    page.get_by_role("link", name="完成").click()
    assert "1 / 40" in page.locator("table.tokens tbody tr").first.inner_text()
    assert "1 个中 1 个在线" in page.locator('tr[data-room="S1-R2"]').inner_text()
    page.get_by_role("link", name="终端").click()
    row = page.locator("table.fleet tbody tr")
    assert row.count() == 1 and "S1-T3" in row.inner_text() and "在线" in row.inner_text()
    shot(page, "2-terminals")
