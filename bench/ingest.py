"""Report ingest through the real HTTP endpoint of a real `eduops hub`, beside a no-op Flask POST.

The baseline is a Flask view that parses the same JSON body and answers a small JSON object, served
by the hub's own server (eduops.server.create_server: its waitress settings, threads, channel and
dispatcher), measured in the same run.
The load comes from wrk (Debian's `wrk`, a C program, so the client costs the hub little CPU; its
own CPU time is printed beside the figures): 2 threads, 16 connections, each request one live
report of the size the agent sends from one of 1,000 agents (bench/ingest.lua), each server in
turn for several rounds, each round also the hub at 32 connections for its p99 (the machine is shared:
the medians of the per-round ratios and p99s are the figures). Printed: requests/s, p50/p99, server and wrk
CPU per request, and the hub's rate as a share of the no-op's (target: at least 0.6x, p99 under
100 ms at 32 connections). ``--before DIR`` measures an earlier checkout's hub in the same rounds. Then the ingest writer alone, with synchronous=FULL (what the hub runs) and NORMAL,
to show what durable acknowledgements cost. ``--large`` repeats the hub's run with 100,000 registered terminals and 300,000
older raw reports, to show the cost per report does not grow with the fleet or the database.

    apt-get install -y wrk
    .venv/bin/python bench/ingest.py [--seconds 6] [--rounds 3] [--large] [--before DIR]
"""
from __future__ import annotations

import argparse
import json
import os
import re
import resource
import statistics
import shutil
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
BODY = json.dumps(report_body())
LUA = Path(__file__).with_suffix(".lua")
RESULT = re.compile(r"RESULT (\d+) ([\d.]+) ([\d.]+) ([\d.]+) (\d+) (\d+)")


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


def serve_noop() -> None:
    """The baseline: a Flask view that parses the JSON POST, on the hub's own server."""
    from flask import Flask, jsonify, request

    from eduops.config import load
    from eduops.server import create_server

    app = Flask("noop")

    @app.post("/api/v1/reports")
    def reports():
        batch = json.loads(request.get_data())
        return jsonify(results=[{"id": r["id"], "status": "accepted"} for r in batch["reports"]],
                       next_report_in_s=60.0, commands=[])

    server = create_server(app, load(overrides={"host": "127.0.0.1", "port": 0}))
    print(f"serving on http://127.0.0.1:{server.effective_port}", flush=True)
    server.run()


def start(args: list[str], env: dict[str, str] | None = None, cwd: Path = ROOT) -> tuple[subprocess.Popen, str]:
    # cwd matters: `python -m eduops` imports the eduops package of its working directory first
    proc = subprocess.Popen(args, env={**os.environ, **(env or {})}, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, cwd=cwd)
    for line in proc.stdout:
        if "serving on http://" in line:
            # keep draining the log so the server never blocks on a full pipe
            threading.Thread(target=proc.stdout.read, daemon=True).start()
            return proc, line.split("serving on ")[1].split()[0]
    raise RuntimeError("the server did not start")


def wrk(url: str, server: psutil.Process, seconds: float, connections: int, agents: int,
        body_file: Path) -> dict[str, float]:
    """One wrk run; requests/s, p50/p99 (ms), and CPU ms per request of the server and of wrk."""
    cpu_before = sum(server.cpu_times()[:2])
    client_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run(["wrk", "-t2", f"-c{connections}", f"-d{seconds:g}s", "--timeout", "10s",
                          "-s", str(LUA), url], capture_output=True, text=True, check=True,
                         env={**os.environ, "AGENTS": str(agents), "BODY_FILE": str(body_file)}).stdout
    client_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = sum(server.cpu_times()[:2]) - cpu_before
    found = RESULT.search(out)
    if not found:
        raise RuntimeError(f"wrk said:\n{out}")
    requests, duration, p50, p99, errors, bad_status = found.groups()
    requests = int(requests)
    if int(errors):
        raise SystemExit(f"{url}: {errors} failed requests ({bad_status} not 2xx):\n{out}")
    client = (client_after.ru_utime + client_after.ru_stime) - (client_before.ru_utime + client_before.ru_stime)
    return {"rate": requests / float(duration), "p50": float(p50), "p99": float(p99),
            "cpu_ms": cpu * 1000 / requests, "client_ms": client * 1000 / requests}


def show(label: str, f: dict[str, float]) -> None:
    print(f"  {label:<34} {f['rate']:7,.0f}/s  p50 {f['p50']:6.1f} ms  p99 {f['p99']:6.1f} ms  "
          f"server CPU {f['cpu_ms']:.3f} ms/request  wrk CPU {f['client_ms']:.3f} ms/request", flush=True)


def start_hub(tmp: Path, terminals: int, old_reports: int, source: Path | None = None
              ) -> tuple[subprocess.Popen, str, Path]:
    db_path = tmp / f"bench-{terminals}{'-' + source.name if source else ''}.db"
    started = time.perf_counter()
    build_database(db_path, terminals, old_reports)
    print(f"hub{' from ' + str(source) if source else ''} with {terminals:,} registered terminals, "
          f"{old_reports:,} older raw reports (built in {time.perf_counter() - started:.0f} s)", flush=True)
    proc, url = start([sys.executable, "-m", "eduops", "hub", "--db", str(db_path), "--port", "0"],
                      {"EDUOPS_SECRET_KEY": "bench", **({"PYTHONPATH": str(source)} if source else {})},
                      cwd=source or ROOT)
    return proc, url, db_path


def writer_rate(db_path: Path, synchronous: str, seconds: float, threads: int = 16) -> float:
    """Reports/s the ingest writer alone commits, fed by ``threads`` submitters (no HTTP)."""
    from eduops.fleet import ingest
    from eduops.fleet.agents import Identity
    from eduops.fleet.protocol import ReportBatch

    writer = ingest.IngestWriter(db_path, dbmod.StorageHealth(), synchronous=synchronous)
    deadline = time.monotonic() + seconds
    done = [0] * threads

    def submit(n: int) -> None:
        while time.monotonic() < deadline:
            now = datetime.now(timezone.utc)
            text = '{"sent_at":"%s","reports":[{"id":"%s","seq":1,"agent_time":"%s","body":%s}]}' % (
                now.isoformat(), uuid.uuid4(), now.isoformat(), BODY)
            rows, skew = ingest.report_rows(ReportBatch.model_validate_json(text), now, "Asia/Shanghai")
            agent = (n * 7919 + done[n]) % ROOMS
            identity = Identity(f"ag_{agent}", f"S{agent // 10:03d}", f"R{agent:04d}", hash_secret(f"ak_bench_{agent}"))
            writer.submit(ingest.Submission(identity, rows, skew, now), 30)
            done[n] += 1

    workers = [threading.Thread(target=submit, args=(n,)) for n in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return sum(done) / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=6, help="length of each measurement")
    parser.add_argument("--rounds", type=int, default=3, help="measurements of each server, taken in turn")
    parser.add_argument("--agents", type=int, default=1000, help="distinct simulated agents")
    parser.add_argument("--large", action="store_true",
                        help="also measure the hub with 100,000 terminals and 300,000 older raw reports")
    parser.add_argument("--before", type=Path, help="also measure the hub of another checkout (an earlier "
                        "commit, unpacked with git archive) in the same run, for a before/after figure")
    parser.add_argument("--serve-noop", action="store_true", help=argparse.SUPPRESS)
    opts = parser.parse_args()
    if opts.serve_noop:
        return serve_noop()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is missing: apt-get install -y wrk")
    print(f"wrk -t2, {opts.agents} simulated agents, {opts.seconds:g} s per measurement, "
          f"{os.cpu_count()} cores shared by server and wrk")
    with tempfile.TemporaryDirectory() as tmp:
        body_file = Path(tmp) / "body.json"
        body_file.write_text(BODY)
        servers = {"no-op Flask POST": start([sys.executable, __file__, "--serve-noop"])}
        if opts.before:
            servers["hub before"] = start_hub(Path(tmp), 1_000, 0, opts.before)[:2]
        proc, url, db_path = start_hub(Path(tmp), 1_000, 0)
        servers["hub"] = proc, url
        try:
            runs: dict[str, list[dict[str, float]]] = {name: [] for name in servers}
            c32: dict[str, list[dict[str, float]]] = {name: [] for name in servers if name != "no-op Flask POST"}
            for name, (proc, url) in servers.items():  # warm up: key cache, page cache
                wrk(url, psutil.Process(proc.pid), 2, 16, opts.agents, body_file)
            # Rounds in turn, so the other helpers' load on the machine falls on every server alike.
            for _ in range(opts.rounds):
                for name, (proc, url) in servers.items():
                    runs[name].append(wrk(url, psutil.Process(proc.pid), opts.seconds, 16, opts.agents, body_file))
                for name in c32:
                    proc, url = servers[name]
                    c32[name].append(wrk(url, psutil.Process(proc.pid), opts.seconds, 32, opts.agents, body_file))
        finally:
            for proc, _url in servers.values():
                proc.terminate()
                proc.wait(10)
        for name, found in runs.items():
            show(f"{name}, 16 connections (median)", median(found))
        for name, found in c32.items():
            show(f"{name}, 32 connections (median)", median(found))
        for name in c32:
            ratios = sorted(h["rate"] / n["rate"] for h, n in zip(runs[name], runs["no-op Flask POST"]))
            p99s = sorted(r["p99"] for r in c32[name])
            print(f"  {name} / no-op at 16 connections: {statistics.median(ratios):.2f}x (rounds: "
                  f"{', '.join(f'{r:.2f}' for r in ratios)}; target >= 0.6x); p99 at 32 connections "
                  f"{statistics.median(p99s):.0f} ms (rounds: {', '.join(f'{p:.0f}' for p in p99s)}; "
                  "target < 100 ms)", flush=True)
        full = writer_rate(db_path, "FULL", opts.seconds / 2)
        normal = writer_rate(db_path, "NORMAL", opts.seconds / 2)
        print(f"  the ingest writer alone, 16 submitters: synchronous=FULL {full:,.0f} reports/s, NORMAL "
              f"{normal:,.0f}/s: FULL costs {1 - full / normal:.0%} of the writer's rate", flush=True)
        if opts.large:
            proc, url, _ = start_hub(Path(tmp), 100_000, 300_000)
            try:
                hub = psutil.Process(proc.pid)
                wrk(url, hub, 2, 16, opts.agents, body_file)
                large = wrk(url, hub, opts.seconds, 16, opts.agents, body_file)
            finally:
                proc.terminate()
                proc.wait(10)
            show("hub, 100,000 terminals, 16 connections", large)
            small = median(runs["hub"])
            print(f"  100,000 vs 1,000 terminals: hub CPU per report {large['cpu_ms'] / small['cpu_ms']:.2f}x, "
                  f"reports/s {large['rate'] / small['rate']:.2f}x")


def median(runs: list[dict[str, float]]) -> dict[str, float]:
    return {key: statistics.median(r[key] for r in runs) for key in runs[0]}


if __name__ == "__main__":
    main()
