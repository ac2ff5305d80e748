"""The reconnect storm, shared by tests/reliability/test_storm.py (CI size) and bench/storm.py (at length).

Agents are the real agent code (agents.loop.Agent with its spool, as the demo swarm runs them) with
one injected clock. The hub goes away for an outage; agents keep reporting into their spools and
back off; the hub returns and every agent reconnects with its backlog. Agents due in the same
simulated second run concurrently against the real hub.
"""
from __future__ import annotations

import heapq
import os
import statistics
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests
from requests.adapters import HTTPAdapter

from tests.support.fleet_kit import build_county, create_token, query
from tests.support.hubprocess import HubProcess
from tests.reliability.faultproxy import free_port
from tests.reliability.simagents import Clock, real_agent

WORKERS = 32


def fast_dir() -> str | None:
    """Spools on tmpfs where there is one: a thousand spools fsync every report (the bound is the test's
    own disk, not the hub)."""
    return "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None


def run_storm(db_path: Path, agents: int, outage_s: int, hub_env: dict[str, str] | None = None) -> dict:
    build_county(db_path)
    port = str(free_port())
    hub = HubProcess(db_path, extra_args=("--port", port), env=hub_env)
    clock = Clock()
    session = requests.Session()
    session.mount("http://", HTTPAdapter(pool_connections=1, pool_maxsize=WORKERS))
    statuses: Counter[int] = Counter()
    session.hooks["response"].append(lambda r, *_a, **_k: statuses.update([r.status_code]))
    token = create_token(db_path)
    spools = tempfile.TemporaryDirectory(dir=fast_dir())
    try:
        fleet = [real_agent(Path(spools.name) / f"a{n}", hub.url, token, ("S1-R1", "S1-R2")[n % 2], "S1",
                            f"pc-{n}", clock, session) for n in range(agents)]
        due = [(clock.now.timestamp() + agent.start_delay(), n) for n, agent in enumerate(fleet)]
        heapq.heapify(due)

        def step(pool: ThreadPoolExecutor | None) -> list[tuple[int, str]]:
            """Run every agent due by now; reschedule each at its own next wake-up."""
            ready = []
            while due and due[0][0] <= clock.now.timestamp():
                ready.append(heapq.heappop(due)[1])
            results = list(pool.map(lambda n: fleet[n].cycle(), ready)) if pool else [fleet[n].cycle() for n in ready]
            for n, result in zip(ready, results):
                heapq.heappush(due, (clock.now.timestamp() + max(result.next_in_s, 1.0), n))
            return [(n, r.status) for n, r in zip(ready, results)]

        with ThreadPoolExecutor(WORKERS) as pool:
            for _ in range(90):  # normal reporting first
                clock.advance(1)
                step(pool)
        hub.stop()
        with ThreadPoolExecutor(WORKERS) as pool:
            for _ in range(outage_s):
                clock.advance(1)
                step(pool)
        during = statuses.copy()
        hub = HubProcess(db_path, extra_args=("--port", port), env=hub_env)
        back_at = clock.now.timestamp()
        first_retry: dict[int, int] = {}
        pages: list[float] = []
        stop = threading.Event()

        def browse() -> None:  # someone at the county office opens a page meanwhile
            while not stop.is_set():
                started = time.perf_counter()
                requests.get(hub.url + "/login", timeout=30)
                pages.append(time.perf_counter() - started)
                stop.wait(0.2)

        browser = threading.Thread(target=browse, daemon=True)
        browser.start()
        storm_started = time.perf_counter()
        with ThreadPoolExecutor(WORKERS) as pool:
            for second in range(3600):
                clock.advance(1)
                for n, status in step(pool):
                    if status != "waiting":
                        first_retry.setdefault(n, second)
                if all(agent.spool.status().pending == 0 for agent in fleet) and len(first_retry) == agents:
                    break
        storm_s = time.perf_counter() - storm_started
        stop.set()
        browser.join(30)
        stored = dict(query(db_path, "SELECT agent_id, COUNT(*) FROM reports GROUP BY agent_id"))
        made = {agent.state.enrollment().agent_id: agent.spool.status() for agent in fleet}
    finally:
        hub.stop()
        spools.cleanup()
    per_second = Counter(first_retry.values())
    after = statuses - during
    return {"agents": agents, "outage_s": outage_s, "statuses": dict(after),
            "pending": sum(s.pending for s in made.values()), "dropped": sum(s.dropped for s in made.values()),
            "lost": sum(s.spooled for s in made.values()) - sum(stored.values()),
            "stored_match": stored == {a: s.spooled for a, s in made.items()},
            "busiest_second_share": max(per_second.values()) / agents,
            "reconnected_within_s": max(first_retry.values()) if first_retry else None,
            "drained_in_simulated_s": second, "storm_real_s": round(storm_s, 1),
            "page_p95_s": statistics.quantiles(pages, n=20)[-1] if len(pages) >= 2 else max(pages, default=0),
            "hub_output": hub.output, "back_at": back_at}
