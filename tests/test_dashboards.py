"""Dashboards and alert rules: built from their source, valid for promtool, evaluated by a real Prometheus."""
import json
import subprocess
import sys

from tests.support.promtools import GRAFANA, METRIC, PROM, ROOT, base_metric, dashboard_expressions, promtool, rule_expressions

def test_dashboards_are_what_build_py_writes(tmp_path):
    before = {p.name: p.read_text(encoding="utf-8") for p in (GRAFANA / "dashboards").glob("*.json")}
    subprocess.run([sys.executable, str(GRAFANA / "build.py")], check=True)
    after = {p.name: p.read_text(encoding="utf-8") for p in (GRAFANA / "dashboards").glob("*.json")}
    assert after == before, "dashboards/grafana/dashboards is stale: run python dashboards/grafana/build.py"
    assert len(before) == 3


def test_every_dashboard_has_a_datasource_variable():
    for path in (GRAFANA / "dashboards").glob("*.json"):
        variables = {v["name"]: v for v in json.loads(path.read_text(encoding="utf-8"))["templating"]["list"]}
        assert variables["datasource"]["type"] == "datasource", path.name


def test_promtool_checks_the_rules_and_their_unit_tests_pass():
    checked = promtool("check", "rules", str(PROM / "eduops-alerts.yml"))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    tested = subprocess.run(["promtool", "test", "rules", "eduops-alerts.test.yml"], cwd=PROM,
                            capture_output=True, text=True, timeout=60)
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert "SUCCESS" in tested.stdout


def test_promtool_accepts_the_example_configs():
    for name in ("prometheus.yml", "federation.yml"):
        checked = promtool("check", "config", str(PROM / name))
        assert checked.returncode == 0, checked.stdout + checked.stderr


def test_every_metric_the_dashboards_and_rules_use_is_documented():
    documented = (ROOT / "docs/metrics.md").read_text(encoding="utf-8")
    for where, expr in dashboard_expressions() + rule_expressions():
        for name in METRIC.findall(expr):
            assert f"`{base_metric(name)}" in documented, f"{where}: {name} is not in docs/metrics.md"
