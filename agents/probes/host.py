"""Host facts (name, OS, boot time), resources (CPU, memory, disk, uptime) and teaching software."""
from __future__ import annotations

import os
import platform
import re
import socket
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable, Sequence

import psutil

from agents import __version__
from agents.clock import to_iso


def parse_os_release(text: str) -> str | None:
    """PRETTY_NAME from /etc/os-release, such as ``Debian GNU/Linux 12 (bookworm)``."""
    match = re.search(r'^PRETTY_NAME=(["\']?)(.*)\1\s*$', text, re.M)
    return match.group(2) if match and match.group(2) else None


def windows_name(release: str, version: str) -> str:
    """``Windows 11 (10.0.22631)``: Python 3.11 calls Windows 11 release "10"; its builds start at 22000."""
    parts = version.split(".")
    build = int(parts[2]) if len(parts) > 2 and parts[2].isdigit() else 0
    name = "Windows 11" if release == "10" and build >= 22000 else f"Windows {release}"
    return f"{name} ({version})"


def os_name(system: str, root: Path) -> str:
    if system == "win32":
        return windows_name(platform.release(), platform.version())
    try:
        pretty = parse_os_release((root / "etc/os-release").read_text(encoding="utf-8"))
    except OSError:
        pretty = None
    return pretty or f"{platform.system()} {platform.release()}"


def machine_id(system: str, root: Path) -> str | None:
    """/etc/machine-id on Linux, MachineGuid on Windows; None where neither exists."""
    if system == "win32":
        import winreg  # only on Windows
        with winreg.OpenKey(winreg.HKEY_LOCAL_MACHINE, r"SOFTWARE\Microsoft\Cryptography", 0,
                            winreg.KEY_READ | winreg.KEY_WOW64_64KEY) as key:
            return str(winreg.QueryValueEx(key, "MachineGuid")[0])
    for candidate in ("etc/machine-id", "var/lib/dbus/machine-id"):
        try:
            text = (root / candidate).read_text(encoding="ascii").strip()
        except OSError:
            continue
        if text:
            return text
    return None


def host(system: str, root: Path) -> dict:
    boot = datetime.fromtimestamp(psutil.boot_time(), timezone.utc)
    return {"hostname": socket.gethostname(), "os": os_name(system, root),
            "boot_time": to_iso(boot), "agent_version": __version__}


def system_disk(system: str) -> str:
    return os.environ.get("SystemDrive", "C:") + "\\" if system == "win32" else "/"


def resources(system: str, now: datetime) -> dict:
    memory = psutil.virtual_memory()
    disk = psutil.disk_usage(system_disk(system))
    return {
        # Since the previous call, so over the whole interval between two reports.
        "cpu_percent": psutil.cpu_percent(interval=None),
        "memory_percent": memory.percent,
        "memory_total_mb": round(memory.total / 2**20),
        "disk_percent": disk.percent,
        "disk_total_gb": round(disk.total / 2**30, 1),
        "uptime_s": max(0, round(now.timestamp() - psutil.boot_time())),
    }


def running_software(wanted: Sequence[str], process_names: Iterable[str]) -> list[dict]:
    """Which of the wanted programs run, matching names without case and without ``.exe``."""
    def norm(name: str) -> str:
        name = name.lower()
        return name[:-4] if name.endswith(".exe") else name
    seen = {norm(n) for n in process_names}
    return [{"name": w, "running": norm(w) in seen} for w in wanted]


def process_names() -> list[str]:
    return [p.info["name"] for p in psutil.process_iter(["name"]) if p.info.get("name")]
