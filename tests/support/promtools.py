"""A real Prometheus server (Debian's package) on loopback, for end-to-end metric tests."""
from __future__ import annotations

import json
import re
import socket
import subprocess
import time
from pathlib import Path

import requests
import yaml


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def promtool(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(["promtool", *args], input=stdin, capture_output=True, text=True, timeout=60)


class PrometheusServer:
    """Prometheus scraping the given targets every second; stopped with ``stop()``."""

    def __init__(self, workdir: Path, config_yaml: str):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = workdir / "prometheus.yml"
        config.write_text(config_yaml, encoding="utf-8")
        self.log = open(workdir / "prometheus.log", "w")
        self.proc = subprocess.Popen(
            ["prometheus", f"--config.file={config}", f"--storage.tsdb.path={workdir / 'data'}",
             f"--web.listen-address=127.0.0.1:{self.port}", "--web.enable-lifecycle"],
            stdout=self.log, stderr=subprocess.STDOUT)
        self._wait(lambda: requests.get(self.url + "/-/ready", timeout=2).status_code == 200, 60)

    def _wait(self, ready, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("prometheus exited; see prometheus.log")
            try:
                if ready():
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        raise TimeoutError("prometheus did not become ready in time")

    def query(self, expr: str) -> dict:
        """Evaluate an instant query; return Prometheus's whole answer (status, data or error)."""
        return requests.get(self.url + "/api/v1/query", params={"query": expr}, timeout=10).json()

    def wait_for(self, expr: str, timeout: float = 60) -> list:
        """Wait until ``expr`` returns samples; return them."""
        found: list = []

        def ready() -> bool:
            found[:] = self.query(expr).get("data", {}).get("result", [])
            return bool(found)
        self._wait(ready, timeout)
        return found

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


def scrape_config(targets: dict[str, str], interval: str = "1s") -> str:
    """A prometheus.yml scraping each hub URL, labelled with its county."""
    jobs = []
    for county, url in targets.items():
        host = url.removeprefix("http://")
        jobs.append(f"""  - job_name: eduops-{county}
    scrape_interval: {interval}
    static_configs:
      - targets: ["{host}"]
        labels:
          county: "{county}"
""")
    return "global:\n  scrape_interval: " + interval + "\nscrape_configs:\n" + "".join(jobs)


# The metric names the dashboards and alert rules use (tests check each is exported and documented).
ROOT = Path(__file__).resolve().parents[2]
PROM = ROOT / "dashboards/prometheus"
GRAFANA = ROOT / "dashboards/grafana"
METRIC = re.compile(r"\beduops_[a-z_]+")


def dashboard_expressions() -> list[tuple[str, str]]:
    found = []
    for path in sorted((GRAFANA / "dashboards").glob("*.json")):
        for panel in json.loads(path.read_text(encoding="utf-8"))["panels"]:
            found += [(f"{path.stem}: {panel['title']}", t["expr"]) for t in panel["targets"]]
    return found


def rule_expressions() -> list[tuple[str, str]]:
    rules = yaml.safe_load((PROM / "eduops-alerts.yml").read_text(encoding="utf-8"))
    return [(r["alert"], r["expr"]) for g in rules["groups"] for r in g["rules"]]


def base_metric(name: str) -> str:
    return re.sub(r"_(bucket|sum|count)$", "", name)
