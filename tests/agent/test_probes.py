"""SystemProbes put together: the Linux path on a recorded file-system root, the Windows path on
recorded command output, and a machine where every probe fails still yields a whole report."""
from __future__ import annotations

import socket

import pytest

from agents.clock import utc_now
from agents.probes import reach
from agents.probes.commands import decode_output, run
from agents.probes.system import SystemProbes
from tests.agent.conftest import DATA
from tests.support.reportshape import assert_report_body

LINUX = DATA / "linux"
WINDOWS = DATA / "windows"


class RecordedRunner:
    """Answers each command with a recorded output, keyed by the program's name."""

    def __init__(self, outputs: dict[str, str | None]):
        self.outputs = outputs
        self.calls: list[list[str]] = []

    def __call__(self, args, timeout):
        assert timeout > 0
        self.calls.append(list(args))
        return self.outputs.get(args[0])


def test_linux_probes_on_a_recorded_root():
    runner = RecordedRunner({"iw": (LINUX / "commands/iw_link_connected.txt").read_text(),
                             "ping": (LINUX / "commands/ping_ok.txt").read_text()})
    probes = SystemProbes(system="linux", root=LINUX, run=runner, teaching_software=["EasiNote"])
    body = probes.collect(utc_now(), None)
    assert_report_body(body)
    assert body["host"]["os"] == "Debian GNU/Linux 12 (bookworm)"
    assert [d["name"] for d in body["displays"]] == ["DP-1", "HDMI-A-1", "eDP-1"]
    net = body["network"]
    assert net["wifi"] == {"ssid": "HZ-EDU-Classroom", "bssid": "70:3a:0e:aa:bb:cc", "signal_dbm": -61,
                           "connected": True}
    assert net["gateway"] == {"address": "10.1.2.1", "rtt_ms": 0.43, "loss_percent": 0.0}
    assert net["dns"] == {"servers": ["10.53.0.1", "114.114.114.114"], "resolve_ok": None}
    assert net["hub"] == {"rtt_ms": None, "loss_percent": None}  # not enrolled: no hub to measure
    assert ["iw", "dev", "wlp2s0", "link"] in runner.calls
    assert runner.calls[-1][0] == "ping" and runner.calls[-1][-1] == "10.1.2.1"


def test_linux_wifi_without_iw_still_reports_the_kernel_signal():
    probes = SystemProbes(system="linux", root=LINUX, run=RecordedRunner({}))
    wifi = probes.collect(utc_now(), None)["network"]["wifi"]
    assert wifi == {"ssid": None, "bssid": None, "signal_dbm": -61, "connected": True}


def test_linux_hardware_facts_for_enrollment():
    probes = SystemProbes(system="linux", root=LINUX, run=RecordedRunner({}))
    facts = probes.hardware()
    assert facts["machine_id"] == "7c1e4f9a2b3d4c5e8f6a7b8c9d0e1f2a"
    assert facts["display_serials"] == ["HZ2026A0001", "20220917"]
    assert isinstance(facts["macs"], list) and isinstance(facts["hostname"], str)


def test_windows_probes_on_recorded_chinese_output():
    def windows(name):
        return decode_output((WINDOWS / name).read_bytes(), "cp936")
    runner = RecordedRunner({"netsh": windows("netsh_wlan_zh.cp936.txt"),
                             "ipconfig": windows("ipconfig_all_zh.cp936.txt"),
                             "ping": windows("ping_zh.cp936.txt")})
    probes = SystemProbes(system="win32", root=DATA / "nowhere", run=runner)
    body = probes.collect(utc_now(), None)
    assert_report_body(body)
    net = body["network"]
    assert net["wifi"]["ssid"] == "会泽一中-教学" and net["wifi"]["signal_dbm"] == -78
    assert net["gateway"] == {"address": "192.168.10.1", "rtt_ms": 1.33, "loss_percent": 0.0}
    assert net["dns"]["servers"] == ["192.168.10.1", "114.114.114.114"]
    assert ["ping", "-n", "3", "-w", "2000", "192.168.10.1"] in runner.calls
    assert body["displays"] == []  # user32 is not there off Windows: unknown, not a crash


def test_every_probe_failing_still_gives_a_whole_report(tmp_path, caplog):
    def broken(args, timeout):
        raise RuntimeError("the runner itself is broken")
    probes = SystemProbes(system="linux", root=tmp_path / "empty", run=broken)
    body = probes.collect(utc_now(), None)
    assert_report_body(body)
    assert body["displays"] == []
    assert body["network"]["wifi"]["connected"] is None
    assert body["network"]["gateway"] == {"address": None, "rtt_ms": None, "loss_percent": None}
    assert "probe wifi failed" in caplog.text
    caplog.clear()
    probes.collect(utc_now(), None)
    assert "probe wifi failed" not in caplog.text  # said once, not every minute


def test_hub_round_trip_over_tcp_to_a_real_listener(canned_hub):
    probes = SystemProbes(system="linux", root=LINUX, run=RecordedRunner({}), ping_count=2)
    hub = probes.collect(utc_now(), canned_hub.url)["network"]["hub"]
    assert hub["loss_percent"] == 0.0 and 0 < hub["rtt_ms"] < 1000


def test_tcp_rtt_counts_a_refused_connect_as_lost():
    with socket.socket() as placeholder:
        placeholder.bind(("127.0.0.1", 0))
        port = placeholder.getsockname()[1]  # bound but not listening: connects are refused
        assert reach.tcp_rtt("127.0.0.1", port, 2, 1.0) == (None, 100.0)


@pytest.mark.parametrize("name, expected", [("localhost", True), ("10.53.0.5", None), ("", None)])
def test_dns_check(name, expected):
    assert reach.resolves(name, 2.0) is expected


def test_command_runner_never_raises():
    assert run(["eduops-no-such-program"], 1.0) is None
    assert run(["sleep", "5"], 0.2) is None
    assert run(["sh", "-c", "echo out; exit 1"], 5.0) == "out\n"  # ping exits 1 on total loss
