"""/metrics: built from the database at scrape time, clean for promtool, degrading not failing."""
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily

from eduops import metrics
from eduops.clock import utcnow
from tests.support.promtools import promtool
from tests.support.inventory_files import GOOD, make_xlsx, run_import


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
    def broken(db, config, now):
        db.execute("SELECT * FROM no_such_table")
        return []

    def fine(db, config, now):
        family = GaugeMetricFamily("eduops_test_value", "A value.")
        family.add_metric([], 7)
        return [family]

    registry = CollectorRegistry()
    registry.register(metrics.HubCollector(hub_config, [("broken", broken), ("fine", fine)], utcnow))
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


def test_coverage_metrics_match_the_hand_built_county(hub_config, fresh_db):
    from prometheus_client.parser import text_string_to_metric_families

    from tests.support import coverage_county
    from tests.support.coverage_county import EXPECTED, EXPECTED_GAPS

    coverage_county.build(fresh_db)
    registry = CollectorRegistry()
    registry.register(metrics.HubCollector(hub_config, metrics.SECTIONS, clock=lambda: coverage_county.NOW))
    samples = {(s.name, tuple(sorted(s.labels.items()))): s.value
               for family in text_string_to_metric_families(generate_latest(registry).decode())
               for s in family.samples}
    areas = [key[1] for key in EXPECTED if key[0] == "area"]
    assert areas
    for area in areas:
        counts = EXPECTED[("area", area)]
        for measure in ("class_terminal", "class_wired", "class_wireless", "school_wired", "school_wireless"):
            level, kind = measure.split("_")
            for source in ("inventory", "observed"):
                labels = (("area", area), ("kind", kind), ("source", source))
                assert samples[(f"eduops_coverage_{level}{'es' if level == 'class' else 's'}", labels)] \
                    == counts[f"{measure}_{source}"]
    gaps_by_area: dict = {}
    school_area = dict(fresh_db.execute(
        "SELECT s.code, t.area_code FROM schools s JOIN townships t ON t.code = s.township_code").fetchall())
    for school, _class, missing in EXPECTED_GAPS:
        for measure, status in missing.items():
            key = (school_area[school], measure.split("_")[0], measure.split("_")[1], status)
            gaps_by_area[key] = gaps_by_area.get(key, 0) + 1
    exported = {(dict(k[1])["area"], dict(k[1])["level"], dict(k[1])["kind"], dict(k[1])["status"]): v
                for k, v in samples.items() if k[0] == "eduops_coverage_gaps"}
    assert exported == gaps_by_area
    disagreements: dict = {}
    for (name, labels), value in samples.items():
        if name == "eduops_coverage_disagreements" and value:
            disagreements[dict(labels)["kind"]] = disagreements.get(dict(labels)["kind"], 0) + value
    # A-R2 and E's four rooms never reported; ag-4 was retired and A-T4 is still listed.
    assert disagreements == {"terminal_unseen": 5, "agent_unlisted": 1, "terminal_retired": 1, "wifi_unseen": 1}


def scrape(config, clock=utcnow) -> dict:
    from prometheus_client.parser import text_string_to_metric_families

    registry = CollectorRegistry()
    registry.register(metrics.HubCollector(config, metrics.SECTIONS, clock))
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(generate_latest(registry).decode())
            for s in family.samples}


def test_job_metrics_come_from_the_job_runs_table(hub_config, fresh_db):
    from datetime import datetime, timezone

    from eduops.jobs import record_job_run

    at = datetime(2026, 11, 30, 1, 0, tzinfo=timezone.utc)
    record_job_run(fresh_db, "sweep", at, 0.1, None)
    record_job_run(fresh_db, "sweep", at, 0.1, "boom")
    samples = scrape(hub_config)
    job = (("job_name", "sweep"),)
    assert samples[("eduops_job_last_success_timestamp_seconds", job)] == at.timestamp()
    assert samples[("eduops_job_runs_total", job)] == 2
    assert samples[("eduops_job_failures_total", job)] == 1
    assert samples[("eduops_job_interval_seconds", job)] == hub_config.report_interval_s / 2


def test_per_terminal_series_only_when_switched_on(hub_config, fresh_db):
    from tests.support import coverage_county

    coverage_county.build(fresh_db)
    names = {name for name, _ in scrape(hub_config)}
    assert "eduops_terminal_last_report_timestamp_seconds" not in names
    assert "eduops_terminals" in names
    per_terminal = scrape(hub_config.replace(metrics_per_terminal=True))
    series = [labels for name, labels in per_terminal if name == "eduops_terminal_last_report_timestamp_seconds"]
    in_service = fresh_db.execute("SELECT COUNT(*) FROM agents WHERE state != 'retired' "
                                  "AND last_report_at IS NOT NULL").fetchone()[0]
    assert len(series) == in_service > 0


def test_the_metrics_endpoint_reads_the_clock_given_to_the_app(hub_config, fresh_db):
    from datetime import timedelta

    from prometheus_client.parser import text_string_to_metric_families

    from eduops.app import create_app
    from tests.support import coverage_county
    from tests.support.clock import Clock
    from tests.support.coverage_county import EXPECTED

    coverage_county.build(fresh_db)
    clock = Clock(coverage_county.NOW)
    client = create_app(hub_config, clock).test_client()

    def observed_terminals() -> float:
        text = client.get("/metrics").get_data(as_text=True)
        return next(s.value for family in text_string_to_metric_families(text) for s in family.samples
                    if s.name == "eduops_coverage_classes" and s.labels == {
                        "area": "main_urban", "kind": "terminal", "source": "observed"})

    assert observed_terminals() == EXPECTED[("area", "main_urban")]["class_terminal_observed"] > 0
    clock.advance(timedelta(days=60))  # every report is now older than the window
    assert observed_terminals() == 0
