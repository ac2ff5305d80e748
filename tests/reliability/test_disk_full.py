"""Disk full (defect 4): the hub's database on a small tmpfs this test mounts, filled up while a real
hub runs. Every write path answers 503 with Retry-After, nothing partial is stored, reads that only
touch a last-used time still answer, one log line per episode, /healthz says degraded with the
reason, the counter counts; freeing space recovers without a restart."""
from __future__ import annotations

import os
import sqlite3
import subprocess
import uuid
from pathlib import Path

import pytest
import requests

from tests.support.accounts_helpers import create_user, csrf_from
from tests.support.fleet_kit import Agent, build_county, create_token, eduops
from tests.support.hubprocess import HubProcess

pytestmark = pytest.mark.e2e  # starts real hub processes


@pytest.fixture
def small_disk(tmp_path: Path):
    mountpoint = tmp_path / "disk"
    mountpoint.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=12m", "tmpfs", str(mountpoint)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"this machine refuses to mount a tmpfs ({mounted.stderr.strip()}); CI runs as root and can")
    yield mountpoint
    subprocess.run(["umount", "-l", str(mountpoint)], check=True)


def fill(disk: Path) -> Path:
    """Take every free byte of the disk with one file; return it (delete it to free the space)."""
    filler = disk / "filler"
    with open(filler, "wb") as out:
        try:
            while True:
                out.write(b"\0" * 65536)
                out.flush()
        except OSError:
            pass
    return filler


def checkpoint(db_path: Path) -> None:
    """Move the WAL into the database and empty it, so the next write must grow the file."""
    conn = sqlite3.connect(db_path)
    try:
        assert conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0] == 0
    finally:
        conn.close()


def stored(db_path: Path, sql: str, params: tuple = ()) -> list[tuple]:
    conn = sqlite3.connect(db_path)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def test_disk_full_refuses_every_write_with_503_keeps_reads_and_recovers_without_restart(small_disk):
    db_path = small_disk / "hub.db"
    build_county(db_path)
    admin = create_user(db_path, "admin")
    made = eduops("user", "token", "create", admin.username, "--name", "disk-full test", "--db", str(db_path))
    api_token = made.stdout.split()[-1] if made.returncode == 0 else pytest.fail(made.stderr)
    enroll_token = create_token(db_path)
    hub = HubProcess(db_path)
    try:
        agent = Agent(hub.url)
        assert agent.enroll(enroll_token).status_code == 201
        before = agent.report()
        assert agent.send(before).status_code == 200
        scripts = {"Authorization": f"Bearer {api_token}"}  # first used while the disk is full

        browser = requests.Session()
        form = csrf_from(browser.get(hub.url + "/login", timeout=10).text)

        checkpoint(db_path)
        filler = fill(small_disk)
        refused = agent.report()
        answers = {
            "reports": agent.send(refused),
            "enroll": Agent(hub.url, room="S1-R2").enroll(enroll_token),
            "command ack": agent.ack("no-such-command"),
            "sign-in": browser.post(hub.url + "/login", timeout=10, allow_redirects=False, data={
                "username": admin.username, "password": admin.password, "csrf_token": form}),
        }
        for path, answer in answers.items():
            if path == "command ack" and answer.status_code == 404:
                continue  # a read that finds nothing writes nothing
            assert answer.status_code == 503, (path, answer.status_code, answer.text[:300])
            assert int(answer.headers["Retry-After"]) > 0, path
        assert answers["reports"].json()["error"] == "storage_unavailable"
        for _ in range(20):  # a burst of refused writes is still one episode
            assert agent.send(agent.report()).status_code == 503
        # a read whose only write is the token's last-used time still answers
        tokens_used = hub.get("/api/v1/terminals", headers=scripts)
        assert tokens_used.status_code == 200, tokens_used.text
        health = hub.get("/healthz").json()
        assert health["status"] == "degraded" and "disk is full" in health["reason"]
        metrics = hub.get("/metrics").text
        errors = next(float(line.split()[1]) for line in metrics.splitlines()
                      if line.startswith("eduops_storage_errors_total"))
        assert errors >= 20

        filler.unlink()
        assert hub.get("/healthz").json()["status"] == "ok"
        after = agent.report()
        assert agent.send(after).status_code == 200
        assert Agent(hub.url, room="S1-R2").enroll(enroll_token).status_code == 201
    finally:
        hub.stop()
    log = hub.output
    assert "Traceback" not in log
    assert log.count("storage fault:") == 1 and log.count("storage recovered") == 1
    kept = {u for (u,) in stored(db_path, "SELECT uuid FROM reports")}
    assert {before["id"], after["id"]} <= kept and refused["id"] not in kept
    assert stored(db_path, "SELECT COUNT(*), COUNT(DISTINCT uuid) FROM reports")[0] == (len(kept), len(kept))
    assert stored(db_path, "SELECT COUNT(*) FROM agents")[0][0] == 2   # the refused enrollment left nothing
    assert stored(db_path, "PRAGMA integrity_check") == [("ok",)]
