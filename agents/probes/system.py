"""The real probes of this machine, put together into a protocol v1 report body."""
from __future__ import annotations

import logging
import sys
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Sequence

import psutil

from agents.config import Settings
from agents.probes import commands, displays, host, interfaces, reach, wifi

log = logging.getLogger(__name__)

UNKNOWN_RESOURCES = dict.fromkeys(
    ("cpu_percent", "memory_percent", "memory_total_mb", "disk_percent", "disk_total_gb", "uptime_s"))
UNKNOWN_RTT = {"rtt_ms": None, "loss_percent": None}


class SystemProbes:
    """Collects the report body; each probe that fails is reported as unknown, never raised.

    ``system`` is sys.platform, ``root`` the file-system root the Linux probes read
    (/sys, /proc, /etc) and ``run`` the command runner; tests pass recorded ones.
    """

    def __init__(self, *, teaching_software: Sequence[str] = ("EasiNote",), probe_timeout_s: float = 2.0,
                 ping_count: int = 3, dns_check_name: str = "", system: str = sys.platform,
                 root: Path = Path("/"), run: commands.Runner = commands.run):
        self.teaching_software = tuple(teaching_software)
        self.timeout_s = probe_timeout_s
        self.ping_count = ping_count
        self.dns_check_name = dns_check_name
        self.system = system
        self.root = root
        self.run = run
        self._failed: set[str] = set()
        psutil.cpu_percent(interval=None)  # start the CPU measurement the first report reads

    @classmethod
    def from_settings(cls, settings: Settings) -> SystemProbes:
        return cls(teaching_software=settings.teaching_software, probe_timeout_s=settings.probe_timeout_s,
                   ping_count=settings.ping_count, dns_check_name=settings.dns_check_name)

    def collect(self, now: datetime, hub_url: str | None) -> dict:
        """The report body at ``now``; ``hub_url`` (None before enrollment) is the target of the hub probe."""
        wlan = self._guard("wifi", self._wifi_adapters, None)
        wlan_names = [w["name"] for w in wlan or []]
        stats, addresses, _ = self._guard("interfaces", interfaces.psutil_facts, ({}, {}, {}))
        gateway_address, dns_servers = self._guard("gateway", self._gateway_and_dns, (None, []))
        body = {
            "host": self._guard("host", lambda: host.host(self.system, self.root),
                                {"hostname": None, "os": None, "boot_time": None, "agent_version": None}),
            "displays": self._guard("displays", self._displays, []),
            "software": self._guard("software", lambda: host.running_software(
                self.teaching_software, host.process_names()),
                [{"name": n, "running": None} for n in self.teaching_software]),
            "network": {
                "interfaces": self._guard("interfaces", lambda: interfaces.build_interfaces(
                    stats, addresses, self._kind_of(wlan_names)), []),
                "wifi": wifi.choose(wlan) if wlan is not None else dict(wifi.UNKNOWN),
                "gateway": {"address": gateway_address, **self._guard(
                    "gateway_rtt", lambda: self._ping(gateway_address), UNKNOWN_RTT)},
                "hub": self._guard("hub_rtt", lambda: self._hub_rtt(hub_url), UNKNOWN_RTT),
                "dns": {"servers": dns_servers, "resolve_ok": self._guard("dns", lambda: reach.resolves(
                    self.dns_check_name or (reach.hub_address(hub_url)[0] if hub_url else ""),
                    self.timeout_s), None)},
            },
        }
        # Last, so the CPU figure covers everything since the previous report, probes included.
        body["resources"] = self._guard("resources", lambda: host.resources(self.system, now),
                                        UNKNOWN_RESOURCES)
        return body

    def hardware(self) -> dict:
        """Facts the hub uses to recognise this machine at enrollment (and to spot cloned disks)."""
        wlan = self._guard("wifi", self._wifi_adapters, None) or []
        _, _, macs = self._guard("interfaces", interfaces.psutil_facts, ({}, {}, {}))
        kind_of = self._kind_of([w["name"] for w in wlan])
        shown = self._guard("displays", self._displays, [])
        return {"hostname": self._guard("host", lambda: host.host(self.system, self.root)["hostname"], None),
                "machine_id": self._guard("machine_id", lambda: host.machine_id(self.system, self.root), None),
                "macs": sorted({mac for name, mac in macs.items()
                                if kind_of(name) in ("wired", "wireless") and mac.strip("0:")}),
                "display_serials": [d["serial"] for d in shown if d["serial"]]}

    def os_name(self) -> str | None:
        return self._guard("host", lambda: host.os_name(self.system, self.root), None)

    def _guard(self, name: str, probe: Callable[[], Any], unknown: Any) -> Any:
        try:
            return probe()
        except Exception:  # a probe must never stop the report; say so once, then quietly
            level = logging.DEBUG if name in self._failed else logging.WARNING
            log.log(level, "probe %s failed; reporting it as unknown", name, exc_info=True)
            self._failed.add(name)
            return unknown

    def _kind_of(self, wlan_names: list[str]) -> Callable[[str], str]:
        if self.system == "win32":
            return lambda name: interfaces.classify_windows(name, wlan_names)
        return lambda name: interfaces.classify_linux(self.root, name)

    def _displays(self) -> list[dict]:
        if self.system == "win32":
            return displays.windows_displays(displays.windows_monitors())
        if self.system.startswith("linux"):
            return displays.linux_displays(self.root)
        return []

    def _wifi_adapters(self) -> list[dict] | None:
        """Wireless adapters with their link; None when the OS would not say."""
        if self.system == "win32":
            text = self.run(["netsh", "wlan", "show", "interfaces"], self.timeout_s)
            return None if text is None else wifi.parse_netsh_wlan(text)
        if not self.system.startswith("linux"):
            return None
        names = sorted(d.name for d in (self.root / "sys/class/net").iterdir()
                       if interfaces.classify_linux(self.root, d.name) == "wireless")
        try:
            levels = wifi.parse_proc_net_wireless((self.root / "proc/net/wireless").read_text())
        except OSError:
            levels = {}
        found = []
        for name in names:
            text = self.run(["iw", "dev", name, "link"], self.timeout_s)
            link = wifi.parse_iw_link(text) if text is not None else dict(wifi.UNKNOWN)
            if link["signal_dbm"] is None and name in levels:  # no iw: the kernel still knows the signal
                link = {**link, "signal_dbm": levels[name], "connected": True}
            found.append({"name": name, **link})
        return found

    def _gateway_and_dns(self) -> tuple[str | None, list[str]]:
        if self.system == "win32":
            text = self.run(["ipconfig", "/all"], self.timeout_s * 2)
            return reach.parse_ipconfig(text) if text else (None, [])
        route = (self.root / "proc/net/route").read_text()
        return reach.parse_proc_net_route(route), reach.linux_dns_servers(self.root)

    def _ping(self, address: str | None) -> dict:
        if not address:
            return dict(UNKNOWN_RTT)
        wait = self.ping_count * (self.timeout_s + 1) + 1
        text = self.run(reach.ping_command(self.system, address, self.ping_count, self.timeout_s), wait)
        rtt, loss = reach.parse_ping(text, self.ping_count)
        return {"rtt_ms": rtt, "loss_percent": loss}

    def _hub_rtt(self, hub_url: str | None) -> dict:
        if not hub_url:
            return dict(UNKNOWN_RTT)
        host_name, port = reach.hub_address(hub_url)
        rtt, loss = reach.tcp_rtt(host_name, port, self.ping_count, self.timeout_s)
        return {"rtt_ms": rtt, "loss_percent": loss}
