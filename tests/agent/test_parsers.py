"""Probe parsers against recorded outputs of Linux and Windows (tests/data/agent/)."""
from __future__ import annotations

import json

import pytest

from agents.probes import displays, host, interfaces, reach, wifi
from agents.probes.commands import decode_output
from tests.agent.conftest import DATA

LINUX = DATA / "linux"
WINDOWS = DATA / "windows"


def linux_output(name: str) -> str:
    return (LINUX / "commands" / name).read_text(encoding="utf-8")


def windows_output(name: str) -> str:
    """A Windows capture decoded as the agent decodes console output there."""
    return decode_output((WINDOWS / name).read_bytes(), "cp936" if ".cp936." in name else "ascii")


# --- Wi-Fi -------------------------------------------------------------------------------

def test_iw_link_connected_gives_ssid_bssid_and_signal():
    assert wifi.parse_iw_link(linux_output("iw_link_connected.txt")) == {
        "ssid": "HZ-EDU-Classroom", "bssid": "70:3a:0e:aa:bb:cc", "signal_dbm": -61, "connected": True}


def test_iw_link_unescapes_a_chinese_ssid():
    link = wifi.parse_iw_link(linux_output("iw_link_utf8_ssid.txt"))
    assert link["ssid"] == "会泽一中 教学"
    assert link["signal_dbm"] == -78


def test_iw_link_not_connected_is_known_disconnected_and_garbage_is_unknown():
    assert wifi.parse_iw_link(linux_output("iw_link_not_connected.txt"))["connected"] is False
    assert wifi.parse_iw_link("command failed: No such device (-19)") == wifi.UNKNOWN


def test_proc_net_wireless_gives_signal_in_dbm():
    text = (LINUX / "proc/net/wireless").read_text()
    assert wifi.parse_proc_net_wireless(text) == {"wlp2s0": -61}
    unsigned = text.replace("-61.", "195.")  # some drivers print the level as an unsigned byte
    assert wifi.parse_proc_net_wireless(unsigned) == {"wlp2s0": -61}
    idle = text.replace("-61.", "0.")  # not associated
    assert wifi.parse_proc_net_wireless(idle) == {}


def test_netsh_english_connected():
    assert wifi.parse_netsh_wlan(windows_output("netsh_wlan_en.txt")) == [{
        "name": "Wi-Fi", "ssid": "HZ-EDU-Classroom", "bssid": "70:3a:0e:aa:bb:cc",
        "signal_dbm": -61, "connected": True}]


def test_netsh_chinese_connected_in_the_oem_code_page():
    assert wifi.parse_netsh_wlan(windows_output("netsh_wlan_zh.cp936.txt")) == [{
        "name": "WLAN", "ssid": "会泽一中-教学", "bssid": "70:3a:0e:aa:bb:cd",
        "signal_dbm": -78, "connected": True}]


def test_netsh_chinese_disconnected_and_service_stopped():
    assert wifi.parse_netsh_wlan(windows_output("netsh_wlan_zh_disconnected.cp936.txt")) == [{
        "name": "WLAN", "ssid": None, "bssid": None, "signal_dbm": None, "connected": False}]
    assert wifi.parse_netsh_wlan(windows_output("netsh_wlan_zh_no_service.cp936.txt")) == []


@pytest.mark.parametrize("percent, dbm", [(0, -100), (100, -50), (78, -61), (50, -75)])
def test_windows_signal_quality_maps_linearly_to_dbm(percent, dbm):
    assert wifi.quality_to_dbm(percent) == dbm


def test_choose_prefers_the_connected_adapter_and_knows_when_there_is_none():
    idle = {"name": "a", "ssid": None, "bssid": None, "signal_dbm": None, "connected": False}
    live = {"name": "b", "ssid": "x", "bssid": "y", "signal_dbm": -50, "connected": True}
    assert wifi.choose([idle, live])["ssid"] == "x"
    assert wifi.choose([idle])["connected"] is False
    assert wifi.choose([]) == {"ssid": None, "bssid": None, "signal_dbm": None, "connected": False}


# --- Gateway, DNS, ping --------------------------------------------------------------------

def test_proc_net_route_takes_the_default_route_with_the_lowest_metric():
    assert reach.parse_proc_net_route((LINUX / "proc/net/route").read_text()) == "10.1.2.1"
    assert reach.parse_proc_net_route(linux_output("proc_net_route_vm.txt")) == "192.0.2.1"
    assert reach.parse_proc_net_route("Iface\tDestination\tGateway\n") is None


def test_resolv_conf_behind_the_systemd_stub_gives_the_real_servers():
    assert reach.parse_resolv_conf((LINUX / "etc/resolv.conf").read_text()) == ["127.0.0.53"]
    assert reach.linux_dns_servers(LINUX) == ["10.53.0.1", "114.114.114.114"]


def test_ipconfig_english_gives_the_ipv4_gateway_and_dns_servers():
    assert reach.parse_ipconfig(windows_output("ipconfig_all_en.txt")) == (
        "10.1.2.1", ["10.53.0.1", "114.114.114.114"])


def test_ipconfig_chinese_gives_the_ipv4_gateway_and_dns_servers():
    assert reach.parse_ipconfig(windows_output("ipconfig_all_zh.cp936.txt")) == (
        "192.168.10.1", ["192.168.10.1", "114.114.114.114"])


@pytest.mark.parametrize("source, name, expected", [
    ("linux", "ping_ok.txt", (0.43, 0.0)),
    ("linux", "ping_partial.txt", (13.7, 33.3)),
    ("linux", "ping_unreachable.txt", (None, 100.0)),
    ("linux", "ping_not_permitted.txt", (None, None)),
    ("windows", "ping_en.txt", (2.0, 0.0)),
    ("windows", "ping_zh.cp936.txt", (1.33, 0.0)),
    # Windows says 66% lost, but "destination host unreachable" is no answer from the gateway.
    ("windows", "ping_zh_unreachable.cp936.txt", (None, 100.0)),
])
def test_ping_output_gives_round_trip_and_loss(source, name, expected):
    text = linux_output(name) if source == "linux" else windows_output(name)
    assert reach.parse_ping(text, 3) == expected


def test_ping_that_never_ran_is_unknown():
    assert reach.parse_ping(None, 3) == (None, None)


def test_ping_command_fits_each_os():
    assert reach.ping_command("win32", "10.1.2.1", 3, 2.0) == ["ping", "-n", "3", "-w", "2000", "10.1.2.1"]
    assert reach.ping_command("linux", "10.1.2.1", 3, 1.5)[-3:] == ["-W", "2", "10.1.2.1"]


@pytest.mark.parametrize("url, expected", [
    ("http://10.53.0.5:8080", ("10.53.0.5", 8080)), ("https://hub.example", ("hub.example", 443)),
    ("http://hub.example/", ("hub.example", 80))])
def test_hub_address_from_url(url, expected):
    assert reach.hub_address(url) == expected


# --- Interfaces ------------------------------------------------------------------------------

@pytest.mark.parametrize("name, kind", [
    ("enp3s0", "wired"), ("wlp2s0", "wireless"), ("lo", "other"), ("docker0", "other"),
    ("tun0", "other"), ("missing0", "other")])
def test_linux_interfaces_are_classified_from_sysfs(name, kind):
    assert interfaces.classify_linux(LINUX, name) == kind


def test_windows_interfaces_from_psutil_are_classified_and_loopback_left_out():
    recorded = json.loads((WINDOWS / "psutil_interfaces.json").read_text(encoding="utf-8"))
    found = interfaces.build_interfaces(recorded["stats"], recorded["addresses"],
                                        lambda name: interfaces.classify_windows(name, ["WLAN"]))
    assert {i["name"]: i["kind"] for i in found} == {
        "以太网": "wired", "WLAN": "wireless", "本地连接* 1": "other", "本地连接* 10": "other",
        "蓝牙网络连接": "other", "VMware Network Adapter VMnet8": "other"}
    wired = next(i for i in found if i["name"] == "以太网")
    assert wired == {"name": "以太网", "kind": "wired", "link_up": True, "speed_mbps": 1000,
                     "addresses": ["10.1.2.3"]}
    assert next(i for i in found if i["name"] == "本地连接* 1")["speed_mbps"] is None


@pytest.mark.parametrize("name, kind", [
    ("Ethernet 2", "wired"), ("本地连接", "wired"), ("Wi-Fi", "wireless"), ("无线网络连接", "wireless"),
    ("vEthernet (Default Switch)", "other"), ("Local Area Connection* 2", "other"),
    ("Bluetooth Network Connection", "other"), ("Realtek USB", "other")])
def test_windows_adapter_names_without_netsh(name, kind):
    assert interfaces.classify_windows(name) == kind


def test_netsh_names_outrank_the_adapter_name():
    assert interfaces.classify_windows("Realtek USB", ["Realtek USB"]) == "wireless"


def test_windows_macs_are_normalised():
    assert interfaces.normalise_mac("3C-7C-3F-11-22-33") == "3c:7c:3f:11:22:33"


# --- Displays ----------------------------------------------------------------------------------

def test_linux_drm_connectors_give_connection_power_and_serial():
    assert displays.linux_displays(LINUX) == [
        {"name": "DP-1", "connected": False, "screen_on": None, "serial": None},
        {"name": "HDMI-A-1", "connected": True, "screen_on": True, "serial": "HZ2026A0001"},
        {"name": "eDP-1", "connected": True, "screen_on": False, "serial": "20220917"},
    ]


def test_edid_serial_falls_back_to_the_number_and_ignores_shared_placeholders():
    edid = bytearray((LINUX / "sys/class/drm/card0-HDMI-A-1/edid").read_bytes())
    assert displays.parse_edid_serial(bytes(edid)) == "HZ2026A0001"
    edid[75] = 0x10  # the serial descriptor becomes a dummy one; the number is 0x01010101
    assert displays.parse_edid_serial(bytes(edid)) is None
    assert displays.parse_edid_serial(b"not an edid") is None


@pytest.mark.parametrize("status, dpms, enabled, expected", [
    ("connected", "On", "enabled", (True, True)),
    ("connected", "Standby", "enabled", (True, False)),
    ("connected", "On", "disabled", (True, False)),
    ("connected", None, None, (True, None)),
    ("disconnected", "On", "enabled", (False, None)),
    ("unknown", "On", "enabled", (None, None))])
def test_screen_state(status, dpms, enabled, expected):
    assert displays.screen_state(status, dpms, enabled) == expected


def test_windows_monitors_from_enum_display_devices():
    monitors = json.loads((WINDOWS / "display_devices.json").read_text())
    assert displays.windows_displays(monitors) == [
        {"name": "DISPLAY1 SWO2A01", "connected": True, "screen_on": None, "serial": None},
        {"name": "DISPLAY2 Default_Monitor", "connected": False, "screen_on": None, "serial": None}]


# --- Host -------------------------------------------------------------------------------------

def test_os_release_pretty_name():
    assert host.parse_os_release((LINUX / "etc/os-release").read_text()) == "Debian GNU/Linux 12 (bookworm)"
    assert host.parse_os_release('PRETTY_NAME="UnionTech OS Desktop 20 Pro"\n') == "UnionTech OS Desktop 20 Pro"
    assert host.parse_os_release("NAME=x\n") is None


@pytest.mark.parametrize("release, version, expected", [
    ("10", "10.0.19045", "Windows 10 (10.0.19045)"), ("10", "10.0.22631", "Windows 11 (10.0.22631)"),
    ("7", "6.1.7601", "Windows 7 (6.1.7601)")])
def test_windows_name_tells_10_from_11(release, version, expected):
    assert host.windows_name(release, version) == expected


def test_machine_id_on_linux():
    assert host.machine_id("linux", LINUX) == "7c1e4f9a2b3d4c5e8f6a7b8c9d0e1f2a"
    assert host.machine_id("linux", LINUX / "nowhere") is None


def test_teaching_software_matches_without_case_or_exe():
    assert host.running_software(["EasiNote", "ClassIn"], ["explorer.exe", "easinote.EXE"]) == [
        {"name": "EasiNote", "running": True}, {"name": "ClassIn", "running": False}]
