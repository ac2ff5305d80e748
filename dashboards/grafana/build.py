"""Build the Grafana dashboards in dashboards/grafana/dashboards/ from the panel lists below.

Run after changing a panel: python dashboards/grafana/build.py
(tests/test_dashboards.py fails while the JSON files differ from what this writes).
"""
from __future__ import annotations

import json
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}
COUNTY = 'county=~"$county"'

# (title, kind, unit, [(legend, expr)], width)
DASHBOARDS = {
    "eduops-coverage": ("EduOps · 第九条措施覆盖 (measure nine coverage)", [
        ("教学终端到班 (classes with a working terminal, observed)", "stat", "percentunit", [
            ("observed", f'sum(eduops_coverage_classes{{kind="terminal",source="observed",{COUNTY}}}) '
                         f'/ sum(eduops_inventory_classes{{{COUNTY}}})')], 6),
        ("有线到班 (classes with wired network, observed)", "stat", "percentunit", [
            ("observed", f'sum(eduops_coverage_classes{{kind="wired",source="observed",{COUNTY}}}) '
                         f'/ sum(eduops_inventory_classes{{{COUNTY}}})')], 6),
        ("无线到班 (classes with Wi-Fi, observed)", "stat", "percentunit", [
            ("observed", f'sum(eduops_coverage_classes{{kind="wireless",source="observed",{COUNTY}}}) '
                         f'/ sum(eduops_inventory_classes{{{COUNTY}}})')], 6),
        ("差距班级 (classes short of the goal)", "stat", "short", [
            ("gaps", f'sum(eduops_coverage_gaps{{level="class",{COUNTY}}})')], 6),
        ("各片区终端覆盖 (terminal coverage by area: inventory vs observed)", "timeseries", "percentunit", [
            ("{{area}} inventory", f'eduops_coverage_ratio{{level="class",kind="terminal",source="inventory",{COUNTY}}}'),
            ("{{area}} observed", f'eduops_coverage_ratio{{level="class",kind="terminal",source="observed",{COUNTY}}}')], 12),
        ("各片区网络覆盖 (network coverage by area, observed)", "timeseries", "percentunit", [
            ("{{area}} {{kind}}", f'eduops_coverage_ratio{{level="class",kind=~"wired|wireless",source="observed",{COUNTY}}}')], 12),
        ("学校出口与无线 (schools: wired uplink and Wi-Fi)", "bargauge", "percentunit", [
            ("{{kind}} {{source}}", f'sum by (kind, source) (eduops_coverage_schools{{{COUNTY}}}) '
                                   f'/ ignoring(kind, source) group_left sum(eduops_inventory_schools{{{COUNTY}}})')], 12),
        ("台账与观测不一致 (inventory and agents disagree)", "bargauge", "short", [
            ("{{kind}}", f'sum by (kind) (eduops_coverage_disagreements{{{COUNTY}}})')], 12),
    ]),
    "eduops-fleet": ("EduOps · 终端运行 (fleet health)", [
        ("终端状态 (terminals by state)", "timeseries", "short", [
            ("{{state}}", f'sum by (state) (eduops_terminals{{{COUNTY}}})')], 12),
        ("各片区在线终端 (online terminals by area)", "bargauge", "short", [
            ("{{area}}", f'sum by (area) (eduops_terminals{{state="online",{COUNTY}}})')], 12),
        ("上报速率 (reports per second)", "timeseries", "reqps", [
            ("accepted", f'sum(rate(eduops_reports_total{{{COUNTY}}}[5m]))'),
            ("duplicate", f'sum(rate(eduops_reports_duplicate_total{{{COUNTY}}}[5m]))'),
            ("rejected {{reason}}", f'sum by (reason) (rate(eduops_reports_rejected_total{{{COUNTY}}}[5m]))')], 12),
        ("上报处理时延 p99 (ingest latency p99)", "timeseries", "s", [
            ("p99", f'histogram_quantile(0.99, sum by (le) (rate(eduops_ingest_duration_seconds_bucket{{{COUNTY}}}[5m])))')], 12),
        ("时钟偏差终端 (agents with a skewed clock)", "stat", "short", [
            ("skewed", f'sum(eduops_agents_clock_skewed{{{COUNTY}}})')], 6),
        ("计划任务距上次成功 (seconds since each job last succeeded)", "bargauge", "s", [
            ("{{job_name}}", f'time() - eduops_job_last_success_timestamp_seconds{{{COUNTY}}}')], 12),
        ("指标采集耗时 (scrape duration)", "stat", "s", [
            ("scrape", f'max(eduops_scrape_duration_seconds{{{COUNTY}}})')], 6),
    ]),
    "eduops-sky-classroom": ("EduOps · 空中课堂 (sky classroom)", [
        ("互动直录播教室 (broadcast rooms by area)", "bargauge", "short", [
            ("{{area}}", f'sum by (area) (eduops_broadcast_rooms{{{COUNTY}}})')], 12),
        ("在线的直录播教室 (broadcast rooms with a terminal online)", "bargauge", "short", [
            ("{{area}}", f'sum by (area) (eduops_broadcast_rooms_online{{{COUNTY}}})')], 12),
        ("半小时内开课的接收教室就绪情况 (receivers of sessions in the next 30 minutes)", "stat", "short", [
            ("{{ready}}", f'sum by (ready) (eduops_session_receivers{{{COUNTY}}})')], 8),
        ("录播状态 (recordings by state, last day and coming)", "stat", "short", [
            ("{{state}}", f'sum by (state) (eduops_recordings{{{COUNTY}}})')], 8),
        ("群机器人消息 (robot messages: sent, failed attempts per hour)", "stat", "short", [
            ("sent", f'sum(increase(eduops_notifications_sent_total{{{COUNTY}}}[1h]))'),
            ("failed", f'sum(increase(eduops_notification_failures_total{{{COUNTY}}}[1h]))'),
            ("waiting", f'sum(eduops_notifications_pending{{{COUNTY}}})')], 8),
        ("各片区开课场次 (sessions held by area)", "bargauge", "short", [
            ("{{area}}", f'sum by (area) (eduops_sessions_held_total{{{COUNTY}}})')], 12),
        ("各片区开课时数 (hours delivered by area)", "bargauge", "h", [
            ("{{area}}", f'sum by (area) (eduops_session_seconds_total{{{COUNTY}}}) / 3600')], 12),
        ("各类课程开课场次 (sessions held by kind)", "bargauge", "short", [
            ("{{kind}}", f'sum by (kind) (eduops_sessions_held_total{{{COUNTY}}})')], 12),
        ("课程状态 (sessions by state)", "bargauge", "short", [
            ("{{state}}", f'sum by (state) (eduops_sessions{{{COUNTY}}})')], 12),
    ]),
}


def panel(index: int, title: str, kind: str, unit: str, targets: list[tuple[str, str]], width: int,
          position: tuple[int, int]) -> dict:
    x, y = position
    return {
        "id": index + 1, "type": kind, "title": title, "datasource": DATASOURCE,
        "gridPos": {"x": x, "y": y, "w": width, "h": 8},
        "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
        "targets": [{"refId": chr(ord("A") + i), "datasource": DATASOURCE, "expr": expr, "legendFormat": legend}
                    for i, (legend, expr) in enumerate(targets)],
    }


def dashboard(uid: str, title: str, panels: list[tuple]) -> dict:
    laid, x, y = [], 0, 0
    for i, (p_title, kind, unit, targets, width) in enumerate(panels):
        if x + width > 24:
            x, y = 0, y + 8
        laid.append(panel(i, p_title, kind, unit, targets, width, (x, y)))
        x += width
    return {
        "uid": uid, "title": title, "tags": ["eduops"], "timezone": "Asia/Shanghai",
        "schemaVersion": 39, "version": 1, "refresh": "1m", "time": {"from": "now-7d", "to": "now"},
        "templating": {"list": [
            {"name": "datasource", "type": "datasource", "query": "prometheus", "label": "Prometheus"},
            {"name": "county", "type": "query", "datasource": DATASOURCE, "label": "County",
             "query": {"query": "label_values(eduops_build_info, county)", "refId": "county"},
             "includeAll": True, "allValue": ".*", "multi": True, "refresh": 2},
        ]},
        "panels": laid,
    }


def main() -> None:
    out = HERE / "dashboards"
    out.mkdir(exist_ok=True)
    for uid, (title, panels) in DASHBOARDS.items():
        text = json.dumps(dashboard(uid, title, panels), ensure_ascii=False, indent=2) + "\n"
        (out / f"{uid}.json").write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
