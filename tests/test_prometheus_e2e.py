"""A real Prometheus scrapes real hubs: the demo county, and two counties summed."""
import pytest

from tests.hubprocess import HubProcess
from tests.promtools import PrometheusServer, scrape_config
from tests.test_inventory import GOOD, make_xlsx, with_row
from tests.test_cli import eduops


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
    hubs = {}
    for county, extra_classes in (("huize", 0), ("xuanwei", 1)):
        db = tmp_path / f"{county}.db"
        sheets = GOOD if not extra_classes else with_row("班级", ["S1-C9", "S1", 2, "二年级(1)班", "S1-R1"])
        assert eduops("import", "--db", str(db), str(make_xlsx(tmp_path / f"{county}.xlsx", sheets))).returncode == 0
        hubs[county] = HubProcess(db)
    (tmp_path / "prom").mkdir()
    server = PrometheusServer(tmp_path / "prom", scrape_config({c: h.url for c, h in hubs.items()}))
    try:
        server.wait_for("count(up == 1) == 2")
        by_county = {r["metric"]["county"]: float(r["value"][1])
                     for r in server.wait_for("sum by (county) (eduops_inventory_classes)")}
        assert by_county == {"huize": 2, "xuanwei": 3}
        total = server.wait_for("sum(eduops_inventory_classes)")
        assert float(total[0]["value"][1]) == 5
    finally:
        server.stop()
        for process in hubs.values():
            process.stop()
