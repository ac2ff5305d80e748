"""Real `eduops-agent` processes against a real hub process on loopback: enrollment, reporting, the hub
down and back, the spool bound, a revoked key, and a SIGKILL mid-send. Every test ends by checking that
each report the agent spooled is at the hub exactly once (or was dropped as the oldest, and counted).

The hub will not let an agent report more often than every 10 s, so a backlog of hours cannot be made
in seconds by the agent alone: tests that need one write it with the agent's own spool code
(`Spool.add`, as `run` does) while the agent process runs or before it starts.
"""
from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from agents.clock import utc_now
from agents.loop import make_report
from agents.spool import Spool, peek_status
from tests.support.fleet_kit import build_county, create_token, eduops, query, wait_for
from tests.support.hubprocess import HubProcess

pytestmark = pytest.mark.e2e  # real processes: a hub, agents, a browser or Prometheus

HUB_ENV = {"EDUOPS_REPORT_INTERVAL_S": "10", "EDUOPS_REPORT_JITTER": "0"}
# The shortest waits the agent's settings allow, so a test takes seconds.
FAST = ("--start-delay-max-s", "0", "--interval", "10", "--jitter", "0", "--backoff-base-s", "0.2",
        "--backoff-cap-s", "1", "--probe-timeout-s", "0.2", "--ping-count", "1", "--http-timeout-s", "5")


def agent(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "agents", *args], capture_output=True, text=True, timeout=60)


class Hub:
    """The hub process, stopped and started again on the same port (the agent keeps the URL it enrolled with)."""

    def __init__(self, db_path: Path):
        self.db_path = db_path
        self.process = HubProcess(db_path, env=HUB_ENV)
        self.url = self.process.url

    def stop(self) -> None:
        self.process.stop()
        assert "Traceback" not in self.process.output, self.process.output

    def start(self) -> None:
        self.process = HubProcess(self.db_path, extra_args=("--port", self.url.rsplit(":", 1)[1]), env=HUB_ENV)
        assert self.process.url == self.url


class Agent:
    """One machine's agent: its state directory, and `eduops-agent run` started and stopped as a service would."""

    def __init__(self, tmp_path: Path):
        self.state = tmp_path / "state"
        self.log = tmp_path / "agent.log"
        self.proc: subprocess.Popen | None = None

    def enroll(self, hub: Hub, token: str, room: str = "S1-R2") -> subprocess.CompletedProcess:
        return agent("enroll", "--hub", hub.url, "--token", token, "--room", room, "--state-dir", str(self.state))

    def run(self, *extra: str) -> None:
        with open(self.log, "a") as log:  # a file, not a pipe: a chatty agent can never block on it
            self.proc = subprocess.Popen([sys.executable, "-m", "agents", "run", "--state-dir", str(self.state),
                                          *FAST, *extra], stdout=log, stderr=subprocess.STDOUT)

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(30)
        assert "Traceback" not in self.log.read_text(), self.log.read_text()

    def spool(self):
        """The spool's counters as `status` reads them (cheap enough to poll)."""
        return peek_status(self.state / "spool.db")

    def status(self) -> dict:
        done = agent("status", "--json", "--state-dir", str(self.state))
        return json.loads(done.stdout)

    def seed(self, count: int) -> None:
        """Spool a backlog as `run` would have while the hub was away (see the module docstring)."""
        body = json.loads(agent("once", "--state-dir", str(self.state)).stdout)["body"]
        spool = Spool(self.state / "spool.db", 1_000_000, 10_000_000_000)
        try:
            for _ in range(count):
                spool.add(make_report(body, utc_now()))
        finally:
            spool.close()


@pytest.fixture
def hub(db_path):
    build_county(db_path)
    running = Hub(db_path)
    yield running
    running.stop()


@pytest.fixture
def machine(tmp_path):
    one = Agent(tmp_path)
    yield one
    if one.proc and one.proc.poll() is None:
        one.proc.kill()
        one.proc.wait()


def hub_seqs(db_path: Path) -> list[int]:
    """The sequence numbers of the reports the hub holds, in the order it received them."""
    return [seq for (seq,) in query(db_path, "SELECT seq FROM reports ORDER BY id")]


def assert_each_report_at_the_hub_once(db_path: Path, machine: Agent) -> dict:
    """Every report the agent spooled is at the hub once, in order, except the oldest it dropped and counted."""
    info = machine.status()
    assert info["pending"] == 0
    assert hub_seqs(db_path) == list(range(info["dropped"] + 1, info["spooled"] + 1))
    assert info["sent"] == info["spooled"] - info["dropped"]
    # The daily rollup counts each accepted report once: a duplicate would show here.
    assert query(db_path, "SELECT total(reports) FROM agent_days")[0][0] == info["sent"]
    return info


def test_an_agent_enrolls_with_a_token_and_its_reports_arrive(hub, db_path, machine):
    refused = machine.enroll(hub, create_token(db_path, "S2"))
    assert refused.returncode == 1 and "belongs to school S1" in refused.stderr   # S1-R2 is not S2's room
    enrolled = machine.enroll(hub, create_token(db_path))
    assert enrolled.returncode == 0, enrolled.stderr
    [(agent_id, room, terminal, hostname)] = query(db_path, "SELECT id, room_code, terminal_code, hostname FROM agents")
    assert f"Enrolled as {agent_id}" in enrolled.stdout
    info = machine.status()
    assert (info["enrolled"], info["revoked"], info["agent_id"], info["room"], info["terminal"]) == (
        True, False, agent_id, "S1-R2", terminal)
    assert terminal == "S1-T3"
    assert "key" not in info  # the key never leaves its file

    machine.run()
    assert wait_for(lambda: len(hub_seqs(db_path)) >= 1 and machine.spool().pending == 0), "no report arrived"
    machine.stop()
    assert machine.proc.returncode == 0
    assert_each_report_at_the_hub_once(db_path, machine)
    body = json.loads(query(db_path, "SELECT body FROM reports")[0][0])
    assert body["host"]["hostname"] == hostname
    assert query(db_path, "SELECT state FROM agents") == [("online",)]
    assert machine.status()["last_success"] is not None


def test_reports_made_while_the_hub_is_down_arrive_exactly_once_after_it_restarts(hub, db_path, machine):
    assert machine.enroll(hub, create_token(db_path)).returncode == 0
    machine.run("--batch-size", "50")
    assert wait_for(lambda: hub_seqs(db_path) == [1]), "the first report did not arrive"

    hub.stop()
    machine.seed(250)
    assert wait_for(lambda: "cannot reach the hub" in (machine.spool().last_error or "")), \
        "the agent did not notice the hub was down"
    down = machine.status()
    assert down["pending"] >= 251 and down["dropped"] == 0 and down["spooled"] > 251  # it went on reporting

    hub.start()
    assert wait_for(lambda: machine.spool().pending == 0), "the backlog was not delivered"
    machine.stop()
    info = assert_each_report_at_the_hub_once(db_path, machine)
    assert info["dropped"] == 0 and info["last_error"] is None


def test_the_spool_bound_drops_the_oldest_counts_them_and_the_rest_arrive(hub, db_path, machine):
    assert machine.enroll(hub, create_token(db_path)).returncode == 0
    hub.stop()
    machine.seed(150)
    machine.run("--spool-max-reports", "100")  # its first report makes 151: the 51 oldest must go
    assert wait_for(lambda: machine.spool().dropped >= 51 and machine.spool().last_error), \
        "the agent did not hold to its bound"
    full = machine.status()
    assert full["pending"] == 100 and full["spooled"] - full["dropped"] == 100

    hub.start()
    assert wait_for(lambda: machine.spool().pending == 0), "the kept reports were not delivered"
    machine.stop()
    info = assert_each_report_at_the_hub_once(db_path, machine)
    assert info["dropped"] >= 51 and hub_seqs(db_path)[0] == info["dropped"] + 1  # the oldest went


def test_a_revoked_key_keeps_reports_spooled_until_the_agent_is_enrolled_again(hub, db_path, machine):
    assert machine.enroll(hub, create_token(db_path)).returncode == 0
    agent_id = query(db_path, "SELECT id FROM agents")[0][0]
    assert eduops("terminals", "retire", agent_id, "--db", str(db_path)).returncode == 0  # the key stops working

    machine.run()
    assert wait_for(lambda: machine.status()["revoked"]), "the agent did not learn its key was revoked"
    assert wait_for(lambda: machine.spool().spooled >= 2, timeout=20), "the agent stopped spooling when revoked"
    revoked = agent("status", "--state-dir", str(machine.state))
    assert revoked.returncode == 1 and "REVOKED by the hub" in revoked.stdout
    assert hub_seqs(db_path) == [] and machine.spool().dropped == 0
    assert "eduops-agent enroll --hub" in machine.log.read_text()  # the log says what to do

    again = machine.enroll(hub, create_token(db_path))  # while the service runs, as staff would
    assert again.returncode == 0, again.stderr
    assert wait_for(lambda: machine.spool().pending == 0, timeout=20), "the backlog did not follow re-enrollment"
    machine.stop()
    info = assert_each_report_at_the_hub_once(db_path, machine)
    assert not info["revoked"] and info["agent_id"] == agent_id  # the same machine to the hub
    assert query(db_path, "SELECT state FROM agents") == [("online",)]


def test_an_agent_killed_mid_send_loses_and_duplicates_nothing(hub, db_path, machine):
    assert machine.enroll(hub, create_token(db_path)).returncode == 0
    machine.seed(2000)
    machine.run("--batch-size", "20")

    def in_flight() -> bool:
        """The hub holds reports the agent has not yet removed: a batch answered but not acknowledged."""
        return len(hub_seqs(db_path)) > machine.spool().sent

    # Freeze the agent at random moments until one falls between the hub's commit and the agent's
    # acknowledgement, then kill it there: the worst moment for exactly-once.
    assert wait_for(lambda: machine.spool().sent > 0), "the backlog did not start"
    rng = random.Random()
    for _ in range(100):
        time.sleep(rng.uniform(0, 0.05))  # not a wait for anything: it picks a random moment
        machine.proc.send_signal(signal.SIGSTOP)
        if wait_for(in_flight, timeout=0.5):
            break
        machine.proc.send_signal(signal.SIGCONT)
    else:
        pytest.fail("never caught the agent between the hub's commit and its acknowledgement")
    held = len(hub_seqs(db_path))
    machine.stop(signal.SIGKILL)
    assert machine.proc.returncode == -signal.SIGKILL
    # Opened read-write, as the restarted agent will: SQLite recovers an acknowledgement the kill
    # caught mid-commit, so this is what the agent holds.
    after_kill = Spool(machine.state / "spool.db", 1_000_000, 10_000_000_000)
    left, acknowledged = after_kill.status().pending, after_kill.status().sent
    after_kill.close()
    assert left > 0 and held > 0  # killed with a backlog left

    machine.run("--batch-size", "20")
    assert wait_for(lambda: machine.spool().pending == 0), "the agent did not finish after a restart"
    machine.stop()
    assert_each_report_at_the_hub_once(db_path, machine)
    # What the hub held but the agent had not acknowledged was sent again and answered as duplicates;
    # nothing else was sent twice.
    assert query(db_path, "SELECT total(count) FROM ingest_counts WHERE outcome = 'duplicate'")[0][0] \
        == held - acknowledged
