"""A real Prometheus scrapes real hubs: the demo county, and two counties summed."""
import pytest

from tests.support.hubprocess import HubProcess
from tests.support.promtools import PrometheusServer, scrape_config
from tests.support.inventory_files import GOOD, make_xlsx, with_row
from tests.support.fleet_kit import eduops

pytestmark = pytest.mark.e2e  # real processes: a hub, agents, a browser or Prometheus


@pytest.fixture(scope="module")
def demo_hub(tmp_path_factory):
    process = HubProcess(tmp_path_factory.mktemp("demo") / "demo.db", command="demo", extra_args=("--agents", "20"))
    yield process
    process.stop()


@pytest.fixture(scope="module")
def prometheus(demo_hub, tmp_path_factory):
    server = PrometheusServer(tmp_path_factory.mktemp("prom"), scrape_config({"huize": demo_hub.url}))
    server.wait_for('up{county="huize"} == 1')
    yield server
    server.stop()


def test_prometheus_scrapes_the_demo_hub(prometheus):
    classes = prometheus.wait_for('sum(eduops_inventory_classes{county="huize"})')
    assert float(classes[0]["value"][1]) > 3000
    areas = prometheus.wait_for('count(eduops_inventory_schools{county="huize"})')
    assert float(areas[0]["value"][1]) == 5


def test_two_county_hubs_sum_in_one_prometheus(tmp_path):
    hubs, server = {}, None
    try:
        for county, extra_classes in (("huize", 0), ("xuanwei", 1)):
            db = tmp_path / f"{county}.db"
            sheets = GOOD if not extra_classes else with_row("班级", ["S1-C9", "S1", 2, "二年级(1)班", "S1-R1"])
            imported = eduops("import", "--db", str(db), str(make_xlsx(tmp_path / f"{county}.xlsx", sheets)))
            assert imported.returncode == 0, imported.stderr
            hubs[county] = HubProcess(db)
        (tmp_path / "prom").mkdir()
        server = PrometheusServer(tmp_path / "prom", scrape_config({c: h.url for c, h in hubs.items()}))
        server.wait_for("count(up == 1) == 2")
        by_county = {r["metric"]["county"]: float(r["value"][1])
                     for r in server.wait_for("sum by (county) (eduops_inventory_classes)")}
        assert by_county == {"huize": 2, "xuanwei": 3}
        total = server.wait_for("sum(eduops_inventory_classes)")
        assert float(total[0]["value"][1]) == 5
    finally:
        if server:
            server.stop()
        for process in hubs.values():
            process.stop()


def test_every_dashboard_and_alert_expression_evaluates_on_the_demo(demo_hub, prometheus):
    import time

    from prometheus_client.parser import text_string_to_metric_families

    from tests.support.promtools import METRIC, base_metric, dashboard_expressions, rule_expressions

    prometheus.wait_for('sum(eduops_reports_total{county="huize"}) > 0')
    exposed = {family.name for family in text_string_to_metric_families(demo_hub.get("/metrics").text)
               if family.samples}
    exposed |= {name + "_total" for name in exposed}
    time.sleep(3)  # a few more scrapes, so rate() has two samples of everything
    unfed = []
    for where, expr in dashboard_expressions() + rule_expressions():
        expr = expr.replace("$county", "huize")
        answer = prometheus.query(expr)
        assert answer["status"] == "success", f"{where}: {answer.get('error')}"
        names = {base_metric(n) for n in METRIC.findall(expr)}
        if names <= exposed and where in dict(dashboard_expressions()):
            assert prometheus.wait_for(expr, timeout=30), f"{where}: no data for {expr}"
        elif not names <= exposed:
            unfed.append((where, sorted(names - exposed)))
    # Only what the demo cannot produce may lack data: rejected reports (its agents send valid ones).
    assert all(missing == ["eduops_reports_rejected_total"] for _where, missing in unfed), unfed
