"""Report ingest through the real HTTP endpoint of a real `eduops hub`, beside the same hub's no-op rate.

Many simulated agents (client processes x threads, keep-alive connections on
loopback, each thread cycling through its own agents' keys) hit GET /healthz for
a fixed time, then post live reports (batches of one), then spooled backlogs
(batches of 50) for the same time. Printed: rate, p50 and p99 latency of each,
live reports against the no-op rate, and the hub's CPU time per report. This runs
twice: with 1,000 and with 100,000 registered terminals (the larger database also
holds older raw reports), to show the cost per report does not grow with the
fleet or the age of the database.

    .venv/bin/python bench/ingest.py [--seconds 5] [--processes 2] [--threads 16]
"""
from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from eduops import county, inventory  # noqa: E402
from eduops import db as dbmod  # noqa: E402
from eduops.clock import to_iso  # noqa: E402
from eduops.fleet.tokens import hash_secret  # noqa: E402
from tests.support.fleet_kit import report_body  # noqa: E402

ROOMS = 1000
BACKLOG_BATCH = 50    # reports per request when agents send their spooled backlog
BODY = json.dumps(report_body())


def build_database(path: Path, terminals: int, old_reports: int) -> None:
    """A county of 1,000 rooms with ``terminals`` agents registered directly, keys `ak_bench_<n>`."""
    database = dbmod.connect(path)
    dbmod.migrate(database)
    schools = [{"code": f"S{i:03d}", "name": f"School {i}", "township_code": "T01", "stage": "primary",
                "pupils": 500, "small_scale": 0, "uplink_mbps": 100, "wired_planned": 1, "wireless_planned": 1,
                "wifi_ssid": ""} for i in range(ROOMS // 10)]
    records = {"townships": [{"code": "T01", "name": "T", "area_code": "main_urban"}], "schools": schools,
               "rooms": [{"code": f"R{i:04d}", "school_code": f"S{i // 10:03d}", "name": "r", "kind": "digital",
                          "seats": 50, "wired_planned": 1, "wireless_planned": 1} for i in range(ROOMS)]}
    raw = [inventory.RawSheet(inventory.SHEETS[n], list(rows[0]), [(k, list(r.values())) for k, r in
                                                                  enumerate(rows, 2)]) for n, rows in records.items()]
    county.apply_inventory(database, inventory.validate(raw, county.existing_codes(database)))
    now = to_iso(datetime.now(timezone.utc))
    with dbmod.write(database):
        database.conn.executemany(
            "INSERT INTO agents (id, instance_id, school_code, room_code, state, key_hash, enrolled_at, hostname, "
            "state_since) VALUES (?, ?, ?, ?, 'online', ?, ?, 'bench', ?)",
            ((f"ag_{n}", f"i{n}", f"S{(n % ROOMS) // 10:03d}", f"R{n % ROOMS:04d}", hash_secret(f"ak_bench_{n}"),
              now, now) for n in range(terminals)))
        old = datetime.now(timezone.utc) - timedelta(days=2)
        database.conn.executemany(
            "INSERT INTO reports (uuid, agent_id, seq, agent_time, report_at, received_at, body) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            ((str(uuid.uuid4()), f"ag_{n % terminals}", n, t, t, t, BODY)
             for n in range(old_reports) for t in [to_iso(old + timedelta(milliseconds=n))]))
    database.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    database.conn.close()


def start_hub(db_path: Path) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen([sys.executable, "-m", "eduops", "hub", "--db", str(db_path), "--port", "0"],
                            env={**os.environ, "EDUOPS_SECRET_KEY": "bench"}, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    for line in proc.stdout:
        if "serving on http://" in line:
            # keep draining the log so the hub never blocks on a full pipe
            threading.Thread(target=proc.stdout.read, daemon=True).start()
            return proc, line.split("serving on ")[1].split()[0]
    raise RuntimeError("the hub did not start")


def client(args: tuple[str, str, float, int, list[int]]) -> list[float]:
    """One client process: threads posting until the deadline; returns every request's latency."""
    host_port, mode, deadline, threads, agents = args
    host, port = host_port.rsplit(":", 1)
    latencies: list[float] = []

    def run(mine: list[int]) -> None:
        conn = http.client.HTTPConnection(host, int(port), timeout=30)
        n = 0
        while time.time() < deadline:
            if mode == "noop":
                conn.request("GET", "/healthz")
            else:
                agent = mine[n % len(mine)]
                now = datetime.now(timezone.utc).isoformat()
                reports = ",".join('{"id":"%s","seq":%d,"agent_time":"%s","body":%s}' % (uuid.uuid4(), n, now, BODY)
                                   for _ in range(BACKLOG_BATCH if mode == "backlog" else 1))
                body = ('{"sent_at":"%s","reports":[%s]}' % (now, reports)).encode()
                conn.request("POST", "/api/v1/reports", body=body, headers={
                    "Content-Type": "application/json", "Authorization": f"Bearer ak_bench_{agent}"})
            started = time.perf_counter()
            answer = conn.getresponse()
            answer.read()
            latencies.append(time.perf_counter() - started)
            if answer.status != 200:
                raise SystemExit(f"{mode}: HTTP {answer.status}")
            n += 1
        conn.close()

    workers = [threading.Thread(target=run, args=(agents[i::threads],)) for i in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return latencies


def measure(url: str, mode: str, seconds: float, processes: int, threads: int, agents: int,
            hub: psutil.Process) -> dict[str, float]:
    host_port = url.removeprefix("http://")
    deadline = time.time() + seconds
    cpu_before = sum(hub.cpu_times()[:2])
    ids = list(range(agents))
    with multiprocessing.Pool(processes) as pool:
        results = pool.map(client, [(host_port, mode, deadline, threads, ids[p::processes])
                                    for p in range(processes)])
    cpu = sum(hub.cpu_times()[:2]) - cpu_before
    latencies = sorted(x for r in results for x in r)
    count = len(latencies) * (BACKLOG_BATCH if mode == "backlog" else 1)   # requests, or reports
    return {"rate": count / seconds, "p50": statistics.median(latencies) * 1000,
            "p99": latencies[int(len(latencies) * 0.99)] * 1000, "cpu_ms": cpu * 1000 / count}


def run_size(terminals: int, old_reports: int, opts: argparse.Namespace) -> dict[str, dict[str, float]]:
    with tempfile.TemporaryDirectory() as tmp:
        db_path = Path(tmp) / "bench.db"
        started = time.perf_counter()
        build_database(db_path, terminals, old_reports)
        print(f"\n{terminals:,} registered terminals, {old_reports:,} older raw reports "
              f"(built in {time.perf_counter() - started:.0f} s)")
        proc, url = start_hub(db_path)
        try:
            hub = psutil.Process(proc.pid)
            agents = min(terminals, opts.agents)
            measure(url, "report", 1.0, opts.processes, opts.threads, agents, hub)  # warm up: caches, key lookups
            found = {mode: measure(url, mode, opts.seconds, opts.processes, opts.threads, agents, hub)
                     for mode in ("noop", "report", "backlog")}
        finally:
            proc.terminate()
            proc.wait(10)
        for mode, label, unit in (("noop", "no-op GET /healthz", "requests"),
                                  ("report", "live reports (1/request)", "reports"),
                                  ("backlog", f"backlog ({BACKLOG_BATCH}/request)", "reports")):
            f = found[mode]
            print(f"  {label:<26} {f['rate']:7,.0f} {unit}/s  p50 {f['p50']:6.1f} ms  p99 {f['p99']:6.1f} ms "
                  f"(per request)  hub CPU {f['cpu_ms']:.3f} ms per {unit[:-1]}")
        print(f"  live reports/s as a share of the no-op rate: {found['report']['rate'] / found['noop']['rate']:.0%}")
        return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5, help="length of each measurement")
    parser.add_argument("--processes", type=int, default=2, help="client processes")
    parser.add_argument("--threads", type=int, default=16, help="threads (connections) per client process")
    parser.add_argument("--agents", type=int, default=1000, help="distinct simulated agents")
    parser.add_argument("--old-reports", type=int, default=300_000, help="older raw reports in the large database")
    opts = parser.parse_args()
    print(f"{opts.processes} client processes x {opts.threads} connections, {opts.agents} simulated agents, "
          f"{opts.seconds:g} s per measurement, {os.cpu_count()} cores shared by hub and clients")
    small = run_size(1_000, 0, opts)
    large = run_size(100_000, opts.old_reports, opts)
    print(f"\ncost per report, 100,000 vs 1,000 terminals: hub CPU "
          f"{large['report']['cpu_ms'] / small['report']['cpu_ms']:.2f}x, p50 latency "
          f"{large['report']['p50'] / small['report']['p50']:.2f}x, reports/s "
          f"{large['report']['rate'] / small['report']['rate']:.2f}x")


if __name__ == "__main__":
    main()
