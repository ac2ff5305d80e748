"""Render the coverage overview, the gap list and a /metrics scrape for 4,000 classes and 20,000 terminals.

Builds a county of that size (every terminal with an agent and ``--days`` days of
agent_days; every tenth school's own Wi-Fi never seen), starts a real hub process and
times the pages over HTTP, signed in as a county-wide viewer: the median of ``--runs``
requests each and the hub process's CPU time per request, beside two baselines measured in
the same run on the same server: a static file (a view that does nothing) and /healthz
(which opens the database). It runs
at 30 and at 365 days of history: the cost must not grow with the age of the database.
Target: overview and gap list under 200 ms, a /metrics scrape under 100 ms.

    .venv/bin/python bench/coverage.py [--runs 20] [--days 30,365]
"""
from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import psutil
import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script from anywhere: reuse the tests' hub launcher

from eduops import county  # noqa: E402
from eduops import db as dbmod  # noqa: E402
from eduops.coverage import snapshots  # noqa: E402
from eduops.config import load  # noqa: E402
from tests.support.accounts_helpers import create_user, login  # noqa: E402
from tests.support.hubprocess import HubProcess  # noqa: E402

CLASSES, TERMINALS, SCHOOLS = 4000, 20000, 320
AREAS = ["main_urban", "zhehai", "nagu", "daibu", "yiche"]


def build_inventory(rng: random.Random) -> dict[str, list[dict]]:
    """320 schools in 25 townships; one home room per class (92% with a terminal); labs hold the rest."""
    sheets: dict[str, list[dict]] = {t: [] for t in county.TABLES}
    sheets["townships"] = [{"code": f"T{n:02d}", "name": f"乡镇{n:02d}", "area_code": AREAS[n % 5]} for n in range(25)]
    for n in range(SCHOOLS):
        code = f"S{n:03d}"
        sheets["schools"].append({
            "code": code, "name": f"学校{n:03d}", "township_code": f"T{n % 25:02d}",
            "stage": rng.choice(["primary", "primary", "junior", "senior", "kindergarten"]), "pupils": 500,
            "small_scale": int(rng.random() < 0.2), "uplink_mbps": 200, "wired_planned": int(rng.random() < 0.95),
            "wireless_planned": int(rng.random() < 0.8), "wifi_ssid": f"HZJY-{code}"})
    for n in range(CLASSES):
        school, room = f"S{n % SCHOOLS:03d}", f"R{n:05d}"
        sheets["rooms"].append({"code": room, "school_code": school, "name": f"{n}教室", "kind": "ordinary",
                                "seats": 50, "wired_planned": int(rng.random() < 0.9),
                                "wireless_planned": int(rng.random() < 0.8)})
        sheets["classes"].append({"code": f"C{n:05d}", "school_code": school, "grade": 1 + n % 6,
                                  "name": f"{1 + n % 6}年级({n})班", "room_code": room})
        if rng.random() < 0.92:
            sheets["terminals"].append({"code": f"M{n:05d}", "school_code": school, "room_code": room,
                                        "kind": "interactive_display", "asset_tag": ""})
    lab = 0
    while len(sheets["terminals"]) < TERMINALS:
        school, room = f"S{lab % SCHOOLS:03d}", f"L{lab:04d}"
        sheets["rooms"].append({"code": room, "school_code": school, "name": f"机房{lab}", "kind": "digital",
                                "seats": 50, "wired_planned": 1, "wireless_planned": 1})
        for k in range(min(50, TERMINALS - len(sheets["terminals"]))):
            sheets["terminals"].append({"code": f"{room}-P{k:02d}", "school_code": school, "room_code": room,
                                        "kind": "pc", "asset_tag": ""})
        lab += 1
    return sheets


def own_ssid(school: str) -> str:
    """What a school's agents see: its own SSID, except at every tenth school, whose agents only
    ever see a carrier's network that many schools share (the inventory's Wi-Fi is never seen there)."""
    return "ChinaNet" if int(school[1:]) % 10 == 0 else f"HZJY-{school}"


def build_agents(db, terminals: list[dict], rng: random.Random, now: datetime, days: int) -> int:
    """One agent per terminal: most report now, some went silent, a few are retired; ``days`` days of
    agent_days each (written by SQL: a year of 20,000 agents is millions of rows)."""
    agents, silent = [], []
    enrolled = (now - timedelta(days=days + 1)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    for n, t in enumerate(terminals):
        silent_for = 0 if rng.random() < 0.85 else rng.randint(1, days)
        last = now - timedelta(days=silent_for, minutes=rng.randint(0, 600))
        state = "retired" if rng.random() < 0.01 else ("online" if silent_for == 0 else "offline")
        agents.append((f"ag_{n:05d}", f"inst-{n}", t["school_code"], t["room_code"], t["code"], state,
                       last.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), enrolled, enrolled, f"pc-{n}",
                       enrolled if state == "retired" else None))
        silent.append((f"ag_{n:05d}", silent_for))
    # Each day: first report at 08:00 UTC of the day before today minus d (so always before now);
    # a wired link up on two days in three; 70% of days on the school's SSID (own_ssid) at -90 .. -40 dBm.
    days_sql = """
        WITH RECURSIVE back(d) AS (SELECT 0 UNION ALL SELECT d + 1 FROM back WHERE d < ?2 - 1),
        rows AS MATERIALIZED (SELECT a.id, a.room_code, a.school_code, back.d, abs(random()) % 3 AS wired,
                        abs(random()) % 10 < 7 AS wifi, -90 + abs(random()) % 51 AS dbm,
                        date(?1, '-' || back.d || ' days') AS day
                 FROM agents a JOIN bench_silent s ON s.id = a.id JOIN back ON back.d >= s.silent_for
                 ORDER BY a.id, back.d)
        INSERT INTO agent_days (agent_id, day, room_code, reports, first_report_at, wired_up_reports, first_wired_at,
                                wifi_ssid, wifi_best_dbm, school_wifi_reports, school_wifi_best_dbm, first_school_wifi_at)
        SELECT id, day, room_code, 400, date(day, '-1 day') || 'T08:00:00.000000Z', CASE WHEN wired THEN 400 ELSE 0 END,
               CASE WHEN wired THEN date(day, '-1 day') || 'T08:00:00.000000Z' END,
               CASE WHEN wifi THEN CASE WHEN CAST(substr(school_code, 2) AS INTEGER) % 10 = 0 THEN 'ChinaNet'
                                        ELSE 'HZJY-' || school_code END END,
               CASE WHEN wifi THEN dbm END, own, CASE WHEN own THEN dbm END,
               CASE WHEN own THEN date(day, '-1 day') || 'T08:00:00.000000Z' END
        FROM (SELECT *, wifi AND CAST(substr(school_code, 2) AS INTEGER) % 10 != 0 AS own FROM rows)"""
    with dbmod.write(db):
        db.conn.executemany("INSERT INTO agents (id, instance_id, school_code, room_code, terminal_code, state, "
                            "last_report_at, enrolled_at, state_since, hostname, retired_at) "
                            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", agents)
        db.execute("CREATE TEMP TABLE bench_silent (id TEXT PRIMARY KEY, silent_for INTEGER)")
        db.conn.executemany("INSERT INTO bench_silent VALUES (?, ?)", silent)
        db.execute(days_sql, [now.date().isoformat(), days])
    return db.execute("SELECT COUNT(*) FROM agent_days").fetchone()[0]


def cpu_seconds(hub: psutil.Process) -> float:
    times = hub.cpu_times()
    return times.user + times.system


def settle(hub: psutil.Process, limit_s: float = 120) -> None:
    """Wait until the hub is idle: its start-up jobs (the first sweep of 20,000 agents) would
    otherwise run during the first pages and count against them."""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline and hub.cpu_percent(interval=1.0) > 5:
        pass


def timed(session: requests.Session, url: str, runs: int, hub: psutil.Process) -> tuple[float, float, float]:
    """Median and worst of ``runs`` GETs, and the hub's CPU time per request, in ms, after two warm-up
    requests (CPU time is what a busy machine moves least: wall time waits for other processes too)."""
    for _ in range(2):
        session.get(url, timeout=30).raise_for_status()
    took, cpu = [], cpu_seconds(hub)
    for _ in range(runs):
        started = time.perf_counter()
        answer = session.get(url, timeout=30)
        took.append(1000 * (time.perf_counter() - started))
        answer.raise_for_status()
    return statistics.median(took), max(took), 1000 * (cpu_seconds(hub) - cpu) / runs


PAGES = [("no-op GET /static/favicon.svg", "/static/favicon.svg"), ("GET /healthz (opens the database)", "/healthz"),
         ("overview GET /coverage/", "/coverage/"), ("gap list GET /coverage/gaps", "/coverage/gaps"),
         ("API GET /api/v1/coverage", "/api/v1/coverage"),
         ("API GET /api/v1/coverage/gaps", "/api/v1/coverage/gaps?limit=10000"),
         ("disagreements page", "/coverage/disagreements"), ("Prometheus scrape GET /metrics", "/metrics")]


def run_history(days: int, runs: int) -> None:
    rng, now = random.Random(9), datetime.now(timezone.utc)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.db"
        database = dbmod.connect(path)
        # The history is written at schema 0009, then carried forward as an existing database is:
        # migration 0010 sums it into the room rollups at once (its triggers, row by row, would take
        # minutes for a year of 20,000 agents).
        dbmod.migrate(database, up_to=9)
        started = time.perf_counter()
        inventory = build_inventory(rng)
        county.apply_inventory(database, inventory)
        rows = build_agents(database, inventory["terminals"], rng, now, days)
        dbmod.migrate(database)
        snapshots.take_daily_snapshot(database, now, load(env={}, overrides={"db_path": path}))
        database.conn.close()
        viewer = create_user(path, "viewer")
        print(f"\n{days} days of history: {len(inventory['classes'])} classes, {len(inventory['terminals'])} "
              f"terminals and agents, {rows:,} agent days (built in {time.perf_counter() - started:.1f} s)")
        hub = HubProcess(path)
        try:
            session = requests.Session()
            login(session, viewer, base_url=hub.url)  # the county technology centre's view: every school
            process = psutil.Process(hub.proc.pid)
            settle(process)
            print(f"{'page':<36}{'median ms':>10}{'max ms':>9}{'hub CPU ms':>12}")
            for name, url in PAGES:
                median, worst, cpu = timed(session, hub.url + url, runs, process)
                print(f"{name:<36}{median:>10.1f}{worst:>9.1f}{cpu:>12.1f}")
        finally:
            hub.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20, help="requests per page; the median is printed")
    parser.add_argument("--days", default="30,365", help="days of agent_days history per agent, one run each "
                                                         "(comma-separated)")
    args = parser.parse_args()
    for days in (int(d) for d in args.days.split(",")):
        run_history(days, args.runs)


if __name__ == "__main__":
    main()
