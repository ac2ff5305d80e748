"""Displays: Linux DRM connectors (status, DPMS, EDID serial); Windows monitors as far as GDI tells."""
from __future__ import annotations

from pathlib import Path

EDID_HEADER = bytes.fromhex("00ffffffffffff00")
# Serial numbers cheap panels all share; as hardware identity they would merge different machines.
MEANINGLESS_SERIALS = {0, 0x01010101}
WINDOWS_MONITOR_ATTACHED = 0x2  # DISPLAY_DEVICE_ATTACHED: the monitor is physically attached


def parse_edid_serial(edid: bytes) -> str | None:
    """The monitor's serial: the text descriptor (tag 0xFF) if present, else the 32-bit number."""
    if len(edid) < 128 or edid[:8] != EDID_HEADER:
        return None
    for offset in (54, 72, 90, 108):
        block = edid[offset:offset + 18]
        if block[:3] == b"\0\0\0" and block[3] == 0xFF:
            text = block[5:18].split(b"\n")[0].decode("ascii", "replace").strip()
            if text:
                return text
    number = int.from_bytes(edid[12:16], "little")
    return None if number in MEANINGLESS_SERIALS else str(number)


def screen_state(status: str | None, dpms: str | None, enabled: str | None) -> tuple[bool | None, bool | None]:
    """(connected, screen on) from a DRM connector's status, dpms and enabled files."""
    connected = {"connected": True, "disconnected": False}.get(status or "")
    if not connected:
        return connected, None
    if enabled == "disabled" or dpms in ("Off", "Standby", "Suspend"):
        return True, False
    return True, True if dpms == "On" else None


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="ascii", errors="replace").strip()
    except OSError:
        return None


def linux_displays(root: Path) -> list[dict]:
    displays = []
    for connector in sorted((root / "sys/class/drm").glob("card*-*")):
        status = _read(connector / "status")
        name = connector.name.split("-", 1)[1]
        if status is None or name.startswith("Writeback"):
            continue
        connected, screen_on = screen_state(status, _read(connector / "dpms"), _read(connector / "enabled"))
        serial = None
        if connected:
            try:
                serial = parse_edid_serial((connector / "edid").read_bytes())
            except OSError:
                pass
        displays.append({"name": name, "connected": connected, "screen_on": screen_on, "serial": serial})
    return displays


def windows_displays(monitors: list[dict]) -> list[dict]:
    """Monitors from EnumDisplayDevices: ``{"adapter": "\\\\.\\DISPLAY1", "device_id": "MONITOR\\SWO2A01\\…",
    "flags": 3}``. GDI does not say whether the panel is powered, so screen_on stays unknown."""
    displays = []
    for monitor in monitors:
        parts = monitor["device_id"].split("\\")
        model = parts[1] if len(parts) > 1 else ""
        adapter = monitor["adapter"].rsplit("\\", 1)[-1]
        displays.append({"name": f"{adapter} {model}".strip(),
                         "connected": bool(monitor["flags"] & WINDOWS_MONITOR_ATTACHED),
                         "screen_on": None, "serial": None})
    return displays


def windows_monitors() -> list[dict]:
    """Every monitor of every display adapter, through user32's EnumDisplayDevicesW."""
    import ctypes  # only on Windows
    from ctypes import wintypes

    class DisplayDevice(ctypes.Structure):
        _fields_ = [("cb", wintypes.DWORD), ("DeviceName", wintypes.WCHAR * 32),
                    ("DeviceString", wintypes.WCHAR * 128), ("StateFlags", wintypes.DWORD),
                    ("DeviceID", wintypes.WCHAR * 128), ("DeviceKey", wintypes.WCHAR * 128)]

    def device() -> DisplayDevice:
        made = DisplayDevice()
        made.cb = ctypes.sizeof(made)
        return made

    enum = ctypes.windll.user32.EnumDisplayDevicesW
    monitors, adapter, i = [], device(), 0
    while enum(None, i, ctypes.byref(adapter), 0):
        monitor, j = device(), 0
        while enum(adapter.DeviceName, j, ctypes.byref(monitor), 0):
            monitors.append({"adapter": adapter.DeviceName, "device_id": monitor.DeviceID,
                             "flags": monitor.StateFlags})
            j += 1
        i += 1
    return monitors
