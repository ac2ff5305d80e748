"""Soak: many simulated terminals reporting at their real interval for a long while, against a real hub.

Each terminal posts one live report (the agent's size) every interval (plus or minus 10%), first at
a random moment of its first interval, from client processes with keep-alive connections. Every
window the hub's memory (RSS), the window's p50/p99 latency and the database's size are printed:
memory and latency must stay flat, and the database must grow by what the reports take (its size
at the keeping time, raw_report_days, is printed as retention predicts it).

    .venv/bin/python bench/soak.py [--terminals 20000] [--seconds 600] [--interval 60]
"""
from __future__ import annotations

import argparse
import heapq
import http.client
import multiprocessing
import os
import random
import statistics
import sys
import tempfile
import threading
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.ingest import BODY, build_database, start  # noqa: E402
from eduops.config import load  # noqa: E402

THREADS = 16


def terminals(args: tuple[str, list[int], float, float, int]) -> list[tuple[float, float, int]]:
    """One client process: its terminals, each on its own schedule; (time, latency, status) per report."""
    host_port, mine, interval, deadline, seed = args
    host, port = host_port.rsplit(":", 1)
    rng = random.Random(seed)
    start_at = time.time()
    due = [(start_at + rng.uniform(0, interval), n) for n in mine]
    heapq.heapify(due)
    lock = threading.Lock()
    results: list[tuple[float, float, int]] = []

    def run() -> None:
        conn = http.client.HTTPConnection(host, int(port), timeout=30)
        while True:
            with lock:
                at, n = heapq.heappop(due)
                heapq.heappush(due, (at + interval * rng.uniform(0.9, 1.1), n))
            if at >= deadline:
                return
            time.sleep(max(0.0, at - time.time()))
            now = datetime.now(timezone.utc).isoformat()
            body = ('{"sent_at":"%s","reports":[{"id":"%s","seq":1,"agent_time":"%s","body":%s}]}'
                    % (now, uuid.uuid4(), now, BODY)).encode()
            started = time.perf_counter()
            try:
                conn.request("POST", "/api/v1/reports", body=body, headers={
                    "Content-Type": "application/json", "Authorization": f"Bearer ak_bench_{n}"})
                answer = conn.getresponse()
                answer.read()
                status = answer.status
            except OSError:
                conn.close()
                conn = http.client.HTTPConnection(host, int(port), timeout=30)
                status = 0
            results.append((time.time(), time.perf_counter() - started, status))

    workers = [threading.Thread(target=run) for _ in range(THREADS)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return results


def size(db_path: Path) -> int:
    return sum(p.stat().st_size for p in db_path.parent.glob(db_path.name + "*"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--terminals", type=int, default=20_000, help="simulated terminals")
    parser.add_argument("--seconds", type=float, default=600, help="how long to run")
    parser.add_argument("--interval", type=float, default=60, help="seconds between a terminal's reports")
    parser.add_argument("--window", type=float, default=60, help="seconds per printed line")
    parser.add_argument("--processes", type=int, default=2, help="client processes")
    opts = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db_path = Path(tmp) / "soak.db"
        build_database(db_path, opts.terminals, 0)
        before = size(db_path)
        proc, url = start([sys.executable, "-m", "eduops", "hub", "--db", str(db_path), "--port", "0"],
                          {"EDUOPS_SECRET_KEY": "soak"})
        hub = psutil.Process(proc.pid)
        samples: list[tuple[float, int, int]] = []
        stop = threading.Event()

        def sample() -> None:
            while not stop.wait(opts.window / 4):
                samples.append((time.time(), hub.memory_info().rss, size(db_path)))

        threading.Thread(target=sample, daemon=True).start()
        began = time.time()
        deadline = began + opts.seconds
        ids = list(range(opts.terminals))
        print(f"{opts.terminals:,} terminals every {opts.interval:g} s (about {opts.terminals / opts.interval:,.0f} "
              f"reports/s) for {opts.seconds:g} s; {os.cpu_count()} cores shared by hub and clients", flush=True)
        try:
            with multiprocessing.Pool(opts.processes) as pool:
                parts = pool.map(terminals, [(url.removeprefix("http://"), ids[p::opts.processes], opts.interval,
                                              deadline, p) for p in range(opts.processes)])
        finally:
            stop.set()
            proc.terminate()
            proc.wait(30)
        results = sorted(r for part in parts for r in part)
        after = size(db_path)
    bad = sum(1 for _, _, status in results if status != 200)
    print(f"{'window':>8} {'reports/s':>10} {'p50 ms':>8} {'p99 ms':>8} {'hub RSS MB':>11} {'database MB':>12}")
    windows = int(opts.seconds // opts.window)
    for w in range(windows):
        lo, hi = began + w * opts.window, began + (w + 1) * opts.window
        lat = sorted(x[1] for x in results if lo <= x[0] < hi)
        mem = [s for s in samples if lo <= s[0] < hi]
        if not lat or not mem:
            continue
        print(f"{w + 1:>8} {len(lat) / opts.window:>10.0f} {statistics.median(lat) * 1000:>8.1f} "
              f"{lat[int(len(lat) * 0.99)] * 1000:>8.1f} {mem[-1][1] / 2**20:>11.1f} {mem[-1][2] / 2**20:>12.1f}")
    per_report = (after - before) / max(1, len(results) - bad)
    config = load(env={})
    day = opts.terminals * (10 * 3600 / opts.interval)  # ten school hours a day
    print(f"{len(results):,} reports, {bad} not 200; the database grew {(after - before) / 2**20:.1f} MB, "
          f"{per_report:,.0f} bytes per report: at raw_report_days={config.raw_report_days} retention "
          f"predicts {day * config.raw_report_days * per_report / 2**30:.1f} GB of raw reports "
          f"(ten school hours a day)")


if __name__ == "__main__":
    main()
