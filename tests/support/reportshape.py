"""The shape of a protocol v1 report (docs/protocol.md), checked field by field with its types.
The hub's models are the authority; this keeps the agent honest until the two meet."""
from __future__ import annotations

import uuid
from datetime import datetime

NUMBER = (int, float)


def _check(value, types, where: str, nullable: bool = True) -> None:
    if value is None:
        assert nullable, f"{where} must not be null"
        return
    types = types if isinstance(types, tuple) else (types,)
    assert bool in types or not isinstance(value, bool), f"{where}: {value!r} is a bool"
    assert isinstance(value, types), f"{where}: {value!r} is not {types}"


def _time(value, where: str, nullable: bool = True) -> None:
    _check(value, str, where, nullable)
    if value is not None:
        assert value.endswith("Z") and datetime.fromisoformat(value.replace("Z", "+00:00")), where


def assert_report(report: dict) -> None:
    assert set(report) == {"id", "seq", "agent_time", "body"}, sorted(report)
    uuid.UUID(report["id"])
    _check(report["seq"], int, "seq", nullable=False)
    _time(report["agent_time"], "agent_time", nullable=False)
    assert_report_body(report["body"])


def assert_report_body(body: dict) -> None:
    assert set(body) == {"host", "resources", "displays", "software", "network"}, sorted(body)
    host = body["host"]
    assert set(host) == {"hostname", "os", "boot_time", "agent_version"}
    _check(host["hostname"], str, "host.hostname")
    _check(host["os"], str, "host.os")
    _time(host["boot_time"], "host.boot_time")
    res = body["resources"]
    assert set(res) == {"cpu_percent", "memory_percent", "memory_total_mb", "disk_percent",
                        "disk_total_gb", "uptime_s"}
    for key, value in res.items():
        _check(value, NUMBER, f"resources.{key}")
    for d in body["displays"]:
        assert set(d) == {"name", "connected", "screen_on", "serial"}
        _check(d["name"], str, "displays.name", nullable=False)
        _check(d["connected"], bool, "displays.connected")
        _check(d["screen_on"], bool, "displays.screen_on")
        _check(d["serial"], str, "displays.serial")
    for s in body["software"]:
        assert set(s) == {"name", "running"}
        _check(s["running"], bool, "software.running")
    net = body["network"]
    assert set(net) == {"interfaces", "wifi", "gateway", "hub", "dns"}
    for i in net["interfaces"]:
        assert set(i) == {"name", "kind", "link_up", "speed_mbps", "addresses"}
        assert i["kind"] in ("wired", "wireless", "other")
        _check(i["link_up"], bool, "interfaces.link_up")
        _check(i["speed_mbps"], NUMBER, "interfaces.speed_mbps")
        assert all(isinstance(a, str) for a in i["addresses"])
    assert set(net["wifi"]) == {"ssid", "bssid", "signal_dbm", "connected"}
    _check(net["wifi"]["signal_dbm"], int, "wifi.signal_dbm")
    _check(net["wifi"]["connected"], bool, "wifi.connected")
    assert set(net["gateway"]) == {"address", "rtt_ms", "loss_percent"}
    assert set(net["hub"]) == {"rtt_ms", "loss_percent"}
    for part in ("gateway", "hub"):
        _check(net[part]["rtt_ms"], NUMBER, f"{part}.rtt_ms")
        _check(net[part]["loss_percent"], NUMBER, f"{part}.loss_percent")
    assert set(net["dns"]) == {"servers", "resolve_ok"}
    assert all(isinstance(s, str) for s in net["dns"]["servers"])
    _check(net["dns"]["resolve_ok"], bool, "dns.resolve_ok")
