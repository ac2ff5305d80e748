"""Reachability: default gateway and its round trip (system ping), the hub's round trip (TCP
connect, no raw ICMP), DNS servers and whether a name resolves."""
from __future__ import annotations

import ipaddress
import math
import re
import socket
import threading
import time
from pathlib import Path
from typing import Callable
from urllib.parse import urlsplit

REPLY_TIME = re.compile(r"(?:time|时间)\s*[=<]\s*([\d.]+)\s*ms", re.I)
LOSS_LINE = re.compile(r"([\d.]+)%\s*(?:packet loss|loss|丢失)", re.I)
IPCONFIG_KEY = re.compile(r"^\s+(\S.*?)[ .]*:\s?(.*)$")
IPCONFIG_MORE = re.compile(r"^\s{20,}(\S+)\s*$")
RTF_GATEWAY = 0x2


def is_ipv4(text: str) -> bool:
    try:
        return isinstance(ipaddress.ip_address(text), ipaddress.IPv4Address)
    except ValueError:
        return False


def parse_proc_net_route(text: str) -> str | None:
    """The IPv4 default gateway with the lowest metric from /proc/net/route (hex, little-endian)."""
    best: tuple[int, str] | None = None
    for line in text.splitlines()[1:]:
        fields = line.split()
        if len(fields) < 7 or fields[1] != "00000000" or not int(fields[3], 16) & RTF_GATEWAY:
            continue
        address = socket.inet_ntoa(bytes.fromhex(fields[2])[::-1])
        if best is None or int(fields[6]) < best[0]:
            best = (int(fields[6]), address)
    return best[1] if best else None


def parse_ipconfig(text: str) -> tuple[str | None, list[str]]:
    """(first IPv4 default gateway, DNS servers) from `ipconfig /all`, English or Chinese Windows."""
    gateways: list[str] = []
    dns: list[str] = []
    current: list[str] | None = None
    for line in text.splitlines():
        more = IPCONFIG_MORE.match(line)
        if more and current is not None:
            current.append(more.group(1))
            continue
        match = IPCONFIG_KEY.match(line)
        if not match:
            current = None
            continue
        key = match.group(1)
        current = (gateways if ("Default Gateway" in key or "默认网关" in key)
                   else dns if ("DNS Server" in key or "DNS 服务器" in key) else None)
        if current is not None and match.group(2).strip():
            current.append(match.group(2).strip())
    servers = [s for s in dict.fromkeys(dns) if _is_ip(s)]
    return next((g for g in gateways if is_ipv4(g)), None), servers


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text.split("%")[0])
        return True
    except ValueError:
        return False


def parse_resolv_conf(text: str) -> list[str]:
    return [line.split()[1] for line in text.splitlines()
            if line.startswith("nameserver") and len(line.split()) > 1]


def linux_dns_servers(root: Path) -> list[str]:
    """Name servers; behind systemd-resolved's local stub, the real ones it forwards to."""
    servers = parse_resolv_conf((root / "etc/resolv.conf").read_text(encoding="utf-8"))
    stub = root / "run/systemd/resolve/resolv.conf"
    if servers and all(s.startswith("127.") for s in servers) and stub.exists():
        return parse_resolv_conf(stub.read_text(encoding="utf-8"))
    return servers


def ping_command(system: str, address: str, count: int, timeout_s: float) -> list[str]:
    if system == "win32":
        return ["ping", "-n", str(count), "-w", str(int(timeout_s * 1000)), address]
    return ["ping", "-n", "-c", str(count), "-i", "0.2", "-W", str(math.ceil(timeout_s)), address]


def parse_ping(text: str | None, sent: int) -> tuple[float | None, float | None]:
    """(mean round trip in ms, loss in %) from ping's output on Linux or Windows (English or Chinese).

    Loss counts replies that carry a time, because Windows counts "destination host
    unreachable" as received. Without ping's summary line nothing is known (None, None).
    A Windows "<1ms" counts as 1 ms, the bound it states.
    """
    if not text or not LOSS_LINE.search(text):
        return None, None
    times = [float(t) for t in REPLY_TIME.findall(text)][:sent]
    loss = round(100 * (sent - len(times)) / sent, 1)
    return (round(sum(times) / len(times), 2) if times else None), loss


def hub_address(hub_url: str) -> tuple[str, int]:
    parts = urlsplit(hub_url)
    return parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80)


def tcp_rtt(host: str, port: int, count: int, timeout_s: float,
            timer: Callable[[], float] = time.perf_counter) -> tuple[float | None, float]:
    """(mean connect time in ms, loss in %) over ``count`` TCP connects; a refused connect is lost."""
    times = []
    for _ in range(count):
        started = timer()
        try:
            with socket.create_connection((host, port), timeout=timeout_s):
                times.append((timer() - started) * 1000)
        except OSError:
            continue
    loss = round(100 * (count - len(times)) / count, 1)
    return (round(sum(times) / len(times), 2) if times else None), loss


def resolves(name: str, timeout_s: float) -> bool | None:
    """Whether ``name`` resolves within the timeout; None when there is nothing to ask DNS about."""
    if not name or _is_ip(name):
        return None
    outcome: list[bool] = []

    def lookup() -> None:
        try:
            outcome.append(bool(socket.getaddrinfo(name, None)))
        except OSError:
            outcome.append(False)

    # getaddrinfo has no timeout of its own; a stuck lookup is left to finish in the background.
    worker = threading.Thread(target=lookup, daemon=True)
    worker.start()
    worker.join(timeout_s)
    return outcome[0] if outcome else False
