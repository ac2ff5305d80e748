"""The demo comes alive: simulated agents on the real agent code path report to a real hub over HTTP."""
import html
import random
import re
import signal
import time
from types import SimpleNamespace

import psutil
import pytest
import requests

from eduops import db as dbmod
from eduops.demo import county as demomod
from eduops.demo import recorders
from eduops.demo.swarm import pick_classrooms
from tests.support.accounts_helpers import login
from tests.support.hubprocess import HubProcess

pytestmark = pytest.mark.e2e  # real processes: a hub, agents, a browser or Prometheus

AGENTS = 30


def query(db_path, sql):
    database = dbmod.connect(db_path)
    try:
        return database.execute(sql).fetchall()
    finally:
        database.conn.close()


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    db_path = tmp_path_factory.mktemp("swarm") / "demo.db"
    process = HubProcess(db_path, command="demo", extra_args=("--agents", str(AGENTS)))
    deadline = time.monotonic() + 180
    # Every agent that reports sends its week of backlog first; wait until most have.
    while time.monotonic() < deadline:
        done = query(db_path, "SELECT COUNT(DISTINCT agent_id) FROM agent_days WHERE day < date('now', '-2 days')")
        if done[0][0] >= AGENTS * 0.8:
            break
        time.sleep(1)
    yield process, db_path
    process.stop()


def test_every_simulated_agent_enrolls_through_the_hub(demo):
    _process, db_path = demo
    enrolled = query(db_path, "SELECT COUNT(*), COUNT(DISTINCT school_code) FROM agents")[0]
    assert enrolled[0] == AGENTS
    assert enrolled[1] > 5  # spread over the county
    broadcast = query(db_path, "SELECT COUNT(*) FROM agents a JOIN rooms r ON r.code = a.room_code "
                               "WHERE r.kind = 'broadcast'")[0][0]
    assert broadcast >= 5  # every broadcast room's terminal reports
    home = query(db_path, f"SELECT COUNT(*) FROM agents WHERE school_code = '{demomod.DEMO_SCHOOL}'")[0][0]
    assert home >= AGENTS // 2  # the demo IT staff's own school is alive


def test_the_demo_it_staffs_school_has_all_its_terminals_in_a_default_swarm(fresh_db):
    demomod.ensure_demo_county(fresh_db)
    terminals = {code for (code,) in fresh_db.execute("SELECT code FROM terminals WHERE school_code = ?",
                                                      [demomod.DEMO_SCHOOL])}
    assert len(terminals) > 20
    picked = pick_classrooms(fresh_db, 300, random.Random(1), demomod.DEMO_SCHOOL)
    assert len(picked) == len({r.terminal for r in picked}) == 300
    assert terminals <= {r.terminal for r in picked}
    few = pick_classrooms(fresh_db, 30, random.Random(1), demomod.DEMO_SCHOOL)
    assert len(few) == 30 and len({r.school for r in few}) > 5
    assert sum(r.school == demomod.DEMO_SCHOOL and r.kind != "pc" for r in few) == 15  # half, beside its broadcast rooms


def test_backlog_reports_keep_their_original_days(demo):
    _process, db_path = demo
    days = query(db_path, "SELECT COUNT(DISTINCT day) FROM agent_days")[0][0]
    assert days >= 5  # a week of class days, sent as a spool backlog
    recent = query(db_path, "SELECT COUNT(*) FROM reports")[0][0]
    assert recent > 0


def test_a_cloned_disk_image_is_flagged_not_merged(demo):
    _process, db_path = demo
    flags = query(db_path, "SELECT COUNT(*) FROM hardware_flags WHERE fact = 'machine_id'")[0][0]
    assert flags >= 1
    assert query(db_path, "SELECT COUNT(DISTINCT id) FROM agents")[0][0] == AGENTS


def test_observed_coverage_appears_in_the_hubs_metrics(demo):
    process, _db_path = demo
    text = process.get("/metrics").text
    observed = [line for line in text.splitlines()
                if line.startswith('eduops_coverage_classes{') and 'kind="terminal"' in line
                and 'source="observed"' in line]
    assert sum(float(line.rsplit(" ", 1)[1]) for line in observed) > 0


def signed_in_admin(process) -> requests.Session:
    password = dict(re.findall(r"^\s+(demo-\S+)\s+\S+\s+password: (\S+)$", process.output, re.M))["demo-admin"]
    browser = requests.Session()
    login(browser, SimpleNamespace(username="demo-admin", password=password), base_url=process.url)
    return browser


def recorder_processes(db_path) -> list[psutil.Process]:
    """The demo's simulated cameras: recorder commands running from its agents' settings."""
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        line = " ".join(proc.info["cmdline"] or [])
        if recorders.CAMERA.strip() in line and str(db_path) in line:
            found.append(proc)
    return found


def recording_state(browser, url, session_id) -> str:
    page = browser.get(f"{url}/bookings/{session_id}?lang=en", timeout=10)
    assert page.status_code == 200
    found = re.search(r'<ul class="recordings">\s*<li><span class="state [a-z]+">([^<]+)</span>', page.text)
    return found.group(1) if found else ""


def test_the_broadcast_rooms_simulated_recorders_record_the_demos_sessions(demo):
    process, db_path = demo
    browser = signed_in_admin(process)
    show = query(db_path, "SELECT id FROM sky_sessions WHERE title LIKE '录播机演示%' ORDER BY starts_at")
    assert len(show) == 20                                              # 5 broadcast schools, 4 rounds
    first, last = show[0], show[-1]
    seen, ahead, metrics = set(), set(), set()
    deadline = time.monotonic() + 420
    while "Recording finished" not in seen and time.monotonic() < deadline:
        seen.add(recording_state(browser, process.url, first[0]))
        ahead.add(recording_state(browser, process.url, last[0]))
        metrics |= {line.split('"')[1] for line in process.get("/metrics").text.splitlines()
                    if line.startswith("eduops_recordings{") and float(line.rsplit(" ", 1)[1]) > 0}
        time.sleep(2)
    assert {"Recording", "Recording finished"} <= seen, seen                  # scheduled -> recording -> finished
    assert "Scheduled" in ahead and ahead <= {"", "Scheduled"}, ahead  # an hour ahead: reported, not begun
    assert {"scheduled", "recording", "finished"} <= metrics, metrics
    camera = db_path.with_name(db_path.name + ".agents") / "recordings"
    assert (camera / f"{query(db_path, f'SELECT source_room_code FROM sky_sessions WHERE id = {first[0]}')[0][0]}"
                      f"-session-{first[0]}.txt").read_text().startswith("simulated recording started")
    # The made-up past: recordings of the week's sessions, one failed with the recorder's reason.
    failed = query(db_path, "SELECT session_id, reason FROM recordings WHERE state = 'failed'")
    assert len(failed) == 1 and "exited early" in failed[0][1]
    page = browser.get(f"{process.url}/bookings/{failed[0][0]}?lang=en", timeout=10).text
    assert "Recording failed" in page and html.escape(failed[0][1]) in page


def test_stopping_the_demo_ends_its_recorders(demo):
    process, db_path = demo
    deadline = time.monotonic() + 420  # the demo's first short recordings run one after another for 6 minutes
    while not recorder_processes(db_path) and time.monotonic() < deadline:
        time.sleep(1)
    running = recorder_processes(db_path)
    assert running, "no simulated recorder was recording"
    process.stop(signal.SIGINT)                                       # Ctrl-C
    gone, alive = psutil.wait_procs(running, timeout=5)
    assert not alive and not recorder_processes(db_path)
