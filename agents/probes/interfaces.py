"""Network interfaces: wired, wireless or other; link up; speed; addresses; MAC addresses."""
from __future__ import annotations

import socket
from pathlib import Path
from typing import Callable, Iterable, Mapping

import psutil

# Windows names adapters for people ("以太网", "WLAN", "本地连接* 2"), so their kind is read from the name.
WINDOWS_OTHER = ("loopback", "pseudo-interface", "vmware", "virtualbox", "vethernet", "hyper-v",
                 "bluetooth", "蓝牙", "tunnel", "isatap", "teredo", "npcap", "miniport", "vpn",
                 "tap-", "wsl", "docker")
WINDOWS_WIRELESS = ("wi-fi", "wifi", "wlan", "wireless", "无线")
WINDOWS_WIRED = ("ethernet", "以太网", "本地连接", "local area connection")
ARPHRD_ETHER = "1"


def classify_windows(name: str, wlan_names: Iterable[str] = ()) -> str:
    """Kind of a Windows adapter; netsh's list of wireless adapters outranks the name."""
    lowered = name.lower()
    if name in set(wlan_names):
        return "wireless"
    # "本地连接* 2" and "Local Area Connection* 1" are Wi-Fi Direct's virtual adapters.
    if "*" in name or any(word in lowered for word in WINDOWS_OTHER):
        return "other"
    if any(word in lowered for word in WINDOWS_WIRELESS):
        return "wireless"
    if any(word in lowered for word in WINDOWS_WIRED):
        return "wired"
    return "other"


def classify_linux(root: Path, name: str) -> str:
    """Kind of a Linux interface from sysfs: wireless has a wireless/ or phy80211 entry; wired is
    Ethernet with a device behind it (bridges, veth and tunnels have none)."""
    directory = root / "sys/class/net" / name
    if (directory / "wireless").exists() or (directory / "phy80211").exists():
        return "wireless"
    try:
        kind = (directory / "type").read_text(encoding="ascii").strip()
    except OSError:
        return "other"
    return "wired" if kind == ARPHRD_ETHER and (directory / "device").exists() else "other"


def is_loopback(addresses: Iterable[str]) -> bool:
    return any(a.startswith("127.") or a == "::1" for a in addresses)


def build_interfaces(stats: Mapping[str, dict], addresses: Mapping[str, list[str]],
                     kind_of: Callable[[str], str]) -> list[dict]:
    """Interfaces as reported, from psutil's facts made plain: ``stats[name] = {"isup", "speed"}``."""
    found = []
    for name in sorted(stats):
        addrs = addresses.get(name, [])
        if is_loopback(addrs):
            continue
        found.append({"name": name, "kind": kind_of(name), "link_up": bool(stats[name]["isup"]),
                      "speed_mbps": stats[name]["speed"] or None, "addresses": addrs})
    return found


def normalise_mac(mac: str) -> str:
    return mac.replace("-", ":").lower()


def psutil_facts() -> tuple[dict[str, dict], dict[str, list[str]], dict[str, str]]:
    """(stats, IP addresses, MAC address) per interface, as plain data."""
    stats = {name: {"isup": s.isup, "speed": s.speed} for name, s in psutil.net_if_stats().items()}
    addresses: dict[str, list[str]] = {}
    macs: dict[str, str] = {}
    for name, entries in psutil.net_if_addrs().items():
        for entry in entries:
            if entry.family == socket.AF_INET or (
                    entry.family == socket.AF_INET6 and not entry.address.lower().startswith("fe80")):
                addresses.setdefault(name, []).append(entry.address)
            elif entry.family == psutil.AF_LINK and entry.address:
                macs[name] = normalise_mac(entry.address)
    return stats, addresses, macs
