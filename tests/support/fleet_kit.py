"""What the fleet tests share: a two-school county, a simulated agent speaking protocol v1 over HTTP,
and the `eduops` command line."""
from __future__ import annotations

import subprocess
import sys
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable

import requests

from eduops import county, inventory
from eduops import db as dbmod

# School S1 has two terminals in room S1-R1 (asset tags HZ-1, HZ-2) and one in S1-R2; S2 has one room, one terminal.
COUNTY = {
    "townships": [{"code": "T01", "name": "古城街道", "area_code": "main_urban"}],
    "schools": [
        {"code": code, "name": name, "township_code": "T01", "stage": "primary", "pupils": 500, "small_scale": 0,
         "uplink_mbps": 100, "wired_planned": 1, "wireless_planned": 1, "wifi_ssid": f"HZJY-{code}"}
        for code, name in (("S1", "古城第一小学"), ("S2", "古城第二小学"))],
    "rooms": [{"code": code, "school_code": school, "name": code, "kind": "digital", "seats": 50,
               "wired_planned": 1, "wireless_planned": 1}
              for code, school in (("S1-R1", "S1"), ("S1-R2", "S1"), ("S2-R1", "S2"))],
    "classes": [],
    "terminals": [{"code": code, "school_code": school, "room_code": room, "kind": "all_in_one", "asset_tag": tag}
                  for code, school, room, tag in (("S1-T1", "S1", "S1-R1", "HZ-1"), ("S1-T2", "S1", "S1-R1", "HZ-2"),
                                                  ("S1-T3", "S1", "S1-R2", ""), ("S2-T1", "S2", "S2-R1", ""))],
}


def build_county(db_path: Path, sheets: dict[str, list[dict[str, Any]]] = COUNTY) -> None:
    """Migrate ``db_path`` and import a county (by default the two-school one) through the real import path."""
    database = dbmod.connect(db_path)
    try:
        dbmod.migrate(database)
        raw = [inventory.RawSheet(inventory.SHEETS[name], list(rows[0]), [
            (n, list(r.values())) for n, r in enumerate(rows, start=2)]) for name, rows in sheets.items() if rows]
        county.apply_inventory(database, inventory.validate(raw, county.existing_codes(database)))
    finally:
        database.conn.close()


def eduops(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    import os

    return subprocess.run([sys.executable, "-m", "eduops", *args], capture_output=True, text=True, timeout=120,
                          env={**os.environ, **(env or {})})


def create_token(db_path: Path, school: str = "S1", *extra: str) -> str:
    """A fresh enrollment token's secret, made with the real command."""
    result = eduops("enroll-token", "create", "--school", school, "--db", str(db_path), *extra)
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()[1]


def iso(dt: datetime) -> str:
    return dt.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def report_body(wired_up: bool = True, ssid: str | None = "HZJY-S1", dbm: int | None = -60) -> dict[str, Any]:
    return {
        "host": {"hostname": "jiaoshi-101", "os": "Windows 10 22H2", "boot_time": "2026-11-29T00:00:00Z",
                 "agent_version": "0.1.0"},
        "resources": {"cpu_percent": 12.5, "memory_percent": 40.1, "memory_total_mb": 8192, "disk_percent": 55.0,
                      "disk_total_gb": 237.0, "uptime_s": 3600},
        "displays": [{"name": "HDMI-A-1", "connected": True, "screen_on": True, "serial": None}],
        "software": [{"name": "EasiNote", "running": True}],
        "network": {
            "interfaces": [{"name": "eth0", "kind": "wired", "link_up": wired_up, "speed_mbps": 1000,
                            "addresses": ["10.1.2.3"]}],
            "wifi": {"ssid": ssid, "bssid": "aa:bb:cc:dd:ee:01", "signal_dbm": dbm, "connected": True},
            "gateway": {"address": "10.1.2.1", "rtt_ms": 1.2, "loss_percent": 0.0},
            "hub": {"rtt_ms": 20.5, "loss_percent": 0.0},
            "dns": {"servers": ["10.1.0.1"], "resolve_ok": True},
        },
    }


class Agent:
    """A simulated agent: its instance id, hardware, key and sequence, speaking protocol v1 to a hub URL."""

    def __init__(self, url: str, room: str = "S1-R1", hostname: str = "jiaoshi-101", machine_id: str | None = None,
                 macs: tuple[str, ...] = (), skew: timedelta = timedelta(0)):
        self.url = url
        self.room = room
        self.instance_id = str(uuid.uuid4())
        self.hardware = {"hostname": hostname, "machine_id": machine_id or uuid.uuid4().hex,
                         "macs": list(macs), "display_serials": []}
        self.skew = skew       # how far this agent's clock is ahead of the real one
        self.key: str | None = None
        self.agent_id: str | None = None
        self.seq = 0

    def clock(self) -> datetime:
        return datetime.now(timezone.utc) + self.skew

    def enroll(self, token: str, **changes: Any) -> requests.Response:
        body = {"token": token, "instance_id": self.instance_id, "room": self.room, "hardware": self.hardware,
                "agent_version": "0.1.0", "os": "Windows 10 22H2", **changes}
        answer = requests.post(self.url + "/api/v1/enroll", json=body, timeout=10)
        if answer.status_code == 201:
            self.key, self.agent_id = answer.json()["agent_key"], answer.json()["agent_id"]
        return answer

    def report(self, made_at: datetime | None = None, **body_changes: Any) -> dict[str, Any]:
        self.seq += 1
        return {"id": str(uuid.uuid4()), "seq": self.seq, "agent_time": iso(made_at or self.clock()),
                "body": report_body(**body_changes)}

    def send(self, *reports: dict[str, Any], key: str | None = None, **envelope: Any) -> requests.Response:
        batch = {"sent_at": iso(self.clock()), "reports": list(reports) or [self.report()], **envelope}
        return requests.post(self.url + "/api/v1/reports", json=batch, timeout=10,
                             headers={"Authorization": f"Bearer {key or self.key}"})

    def ack(self, command_id: str, status: str = "done", detail: str = "") -> requests.Response:
        return requests.post(f"{self.url}/api/v1/commands/{command_id}/ack", json={"status": status, "detail": detail},
                             headers={"Authorization": f"Bearer {self.key}"}, timeout=10)


def wait_for(check: Callable[[], Any], timeout: float = 30) -> bool:
    """Poll a real process's effect until ``check()`` holds or the deadline passes (there is no
    clock to inject into another process)."""
    deadline = time.monotonic() + timeout
    while True:
        if check():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.1)


def query(db_path: Path, sql: str, params: list | tuple = ()) -> list[tuple]:
    database = dbmod.connect(db_path)
    try:
        return database.execute(sql, params).fetchall()
    finally:
        database.conn.close()
