"""/metrics: built from the database at scrape time, clean for promtool, degrading not failing."""
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily

from eduops import metrics
from tests.promtools import promtool
from tests.test_inventory import GOOD, make_xlsx, run_import


def test_metrics_come_from_the_inventory_and_pass_promtool(client, fresh_db, tmp_path):
    run_import(fresh_db, make_xlsx(tmp_path / "inv.xlsx", GOOD))
    answer = client.get("/metrics")
    assert answer.status_code == 200
    text = answer.get_data(as_text=True)
    assert 'eduops_inventory_schools{area="main_urban"} 1.0' in text
    assert 'eduops_inventory_schools{area="zhehai"} 1.0' in text
    assert 'eduops_inventory_terminals{area="main_urban",kind="interactive_display"} 1.0' in text
    assert "eduops_scrape_duration_seconds" in text
    check = promtool("check", "metrics", stdin=text)
    assert check.returncode == 0 and not check.stdout.strip() and not check.stderr.strip(), \
        check.stdout + check.stderr


def test_a_failing_section_is_left_out_and_counted(hub_config, fresh_db):
    def broken(db):
        db.execute("SELECT * FROM no_such_table")
        return []

    def fine(db):
        family = GaugeMetricFamily("eduops_test_value", "A value.")
        family.add_metric([], 7)
        return [family]

    registry = CollectorRegistry()
    registry.register(metrics.HubCollector(hub_config, [("broken", broken), ("fine", fine)]))
    text = generate_latest(registry).decode()
    assert "eduops_test_value 7.0" in text
    assert 'eduops_scrape_errors_total{section="fine"} 0.0' in text
    assert 'eduops_scrape_errors_total{section="broken"} 1.0' in text
    text = generate_latest(registry).decode()
    assert 'eduops_scrape_errors_total{section="broken"} 2.0' in text


def test_metrics_reflect_the_database_at_each_scrape(client, fresh_db, tmp_path):
    assert 'eduops_inventory_schools{area="zhehai"} 0.0' in client.get("/metrics").get_data(as_text=True)
    run_import(fresh_db, make_xlsx(tmp_path / "inv.xlsx", GOOD))
    assert 'eduops_inventory_schools{area="zhehai"} 1.0' in client.get("/metrics").get_data(as_text=True)




def test_every_metric_is_documented(client):
    from pathlib import Path

    from prometheus_client.parser import text_string_to_metric_families

    documented = (Path(__file__).resolve().parent.parent / "docs/metrics.md").read_text(encoding="utf-8")
    text = client.get("/metrics").get_data(as_text=True)
    for family in text_string_to_metric_families(text):
        name = family.name + ("_total" if family.type == "counter" else "")
        assert f"`{name}`" in documented, f"{name} is not in docs/metrics.md"
