"""Wi-Fi: SSID, BSSID and signal from /proc/net/wireless and `iw` on Linux, `netsh wlan` on Windows."""
from __future__ import annotations

import re

UNKNOWN = {"ssid": None, "bssid": None, "signal_dbm": None, "connected": None}
NO_WIRELESS = {**UNKNOWN, "connected": False}
KEY_VALUE = re.compile(r"^\s*(\S.*?)\s+:\s(.*)$")


def parse_proc_net_wireless(text: str) -> dict[str, int]:
    """Signal level in dBm per interface; levels that are not plausible dBm (not associated) are left out."""
    levels = {}
    for line in text.splitlines()[2:]:
        name, _, rest = line.partition(":")
        fields = rest.split()
        if len(fields) < 3:
            continue
        try:
            level = int(float(fields[2].rstrip(".")))
        except ValueError:
            continue
        if level > 0:  # drivers that print the level as an unsigned byte
            level -= 256
        if -110 < level < 0:
            levels[name.strip()] = level
    return levels


def _unescape_ssid(raw: str) -> str:
    """iw prints bytes other than printable ASCII as \\xNN; Chinese SSIDs are UTF-8 underneath."""
    data = re.sub(rb"\\x([0-9a-fA-F]{2})", lambda m: bytes([int(m.group(1), 16)]), raw.encode())
    return data.decode("utf-8", errors="replace")


def parse_iw_link(text: str) -> dict:
    """`iw dev IFACE link`: connected, SSID, BSSID and signal."""
    connected = re.search(r"^Connected to ([0-9a-fA-F:]{17})", text, re.M)
    if not connected:
        return {**UNKNOWN, "connected": False} if "Not connected" in text else dict(UNKNOWN)
    ssid = re.search(r"^\s*SSID: (.*)$", text, re.M)
    signal = re.search(r"^\s*signal:\s*(-?\d+) dBm", text, re.M)
    return {"ssid": _unescape_ssid(ssid.group(1)) if ssid else None,
            "bssid": connected.group(1).lower(),
            "signal_dbm": int(signal.group(1)) if signal else None,
            "connected": True}


def quality_to_dbm(percent: int) -> int:
    """Windows reports signal quality; its WLAN API defines 0% as -100 dBm and 100% as -50 dBm, linearly."""
    return round(percent / 2 - 100)


def parse_netsh_wlan(text: str) -> list[dict]:
    """`netsh wlan show interfaces`, English or Chinese Windows: one entry per wireless adapter."""
    adapters: list[dict] = []
    for line in text.splitlines():
        match = KEY_VALUE.match(line)
        if not match:
            continue
        key, value = match.group(1).strip(), match.group(2).strip()
        if key in ("Name", "名称"):
            adapters.append({"name": value, **UNKNOWN, "connected": False})
        elif not adapters:
            continue
        elif key == "SSID":
            adapters[-1]["ssid"] = value or None
        elif key.endswith("BSSID"):
            adapters[-1]["bssid"] = value.lower() or None
        elif key in ("State", "状态"):
            adapters[-1]["connected"] = value.lower() == "connected" or value == "已连接"
        elif key in ("Signal", "信号") and value.endswith("%") and value[:-1].isdigit():
            adapters[-1]["signal_dbm"] = quality_to_dbm(int(value[:-1]))
    return adapters


def choose(candidates: list[dict]) -> dict:
    """The Wi-Fi to report: the first connected adapter, else the first one, else none at all."""
    if not candidates:
        return dict(NO_WIRELESS)
    best = next((c for c in candidates if c["connected"]), candidates[0])
    return {k: best[k] for k in ("ssid", "bssid", "signal_dbm", "connected")}
