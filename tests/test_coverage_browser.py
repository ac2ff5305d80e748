"""The coverage pages in headless Chromium (Debian's), against a real hub: sign in, drill down, filter, export.

The hub sends its strict Content-Security-Policy, so an inline script or style shows as a console
error and fails the test. Screenshots are kept under test-artifacts/coverage/.
"""
import csv
import io
from datetime import datetime, timedelta, timezone
from pathlib import Path

import openpyxl
import pytest

from eduops import config as configmod
from eduops import db as dbmod
from eduops.coverage import snapshots
from tests.support import coverage_county
from tests.support.accounts_helpers import create_user
from tests.support.hubprocess import HubProcess

pytestmark = pytest.mark.e2e  # real processes: a hub, agents, a browser or Prometheus

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "coverage"


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    """The hand-built county, with a week of daily snapshots for the trend charts, and a viewer's account."""
    path = tmp_path_factory.mktemp("browser") / "hub.db"
    database = dbmod.connect(path)
    dbmod.migrate(database)
    now = datetime.now(timezone.utc)
    coverage_county.build(database, now=now)
    config = configmod.load(env={}, overrides={"db_path": path})
    for days_back in range(6, -1, -1):
        snapshots.take_daily_snapshot(database, now - timedelta(days=days_back), config)
    database.conn.close()
    process = HubProcess(path)
    process.viewer = create_user(path, "viewer")
    yield process
    process.stop()


def sign_in(tab, hub, path: str) -> None:
    """Open a page signed out, sign in on the form it sends us to, and land back on the page."""
    tab.goto(hub.url + path)
    assert tab.url.startswith(hub.url + "/login")
    tab.fill("input[name=username]", hub.viewer.username)
    tab.fill("input[name=password]", hub.viewer.password)
    tab.get_by_role("button", name="登录").click()
    tab.wait_for_url(hub.url + "/coverage/**")


def shot(tab, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    tab.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_overview_draws_the_trend_and_drills_down_to_a_class(hub, page):
    sign_in(page, hub, "/")
    assert page.locator("h1").inner_text() == "第九条措施：教学终端与网络覆盖到校到班"
    page.wait_for_selector(".trend[data-ready=true]")
    charts = page.locator(".trend .chart")
    assert charts.count() == 3
    assert page.locator(".trend .chart canvas").count() == 3
    assert "班级教学终端 · 台账" in charts.first.inner_text()
    page.get_by_role("button", name="实测").click()
    assert "班级教学终端 · 实测" in page.locator(".trend .chart").first.inner_text()
    shot(page, "1-overview")

    page.get_by_role("link", name="娜姑片区").click()
    assert page.locator("h1").inner_text() == "娜姑片区"
    page.wait_for_selector(".trend[data-ready=true]")
    shot(page, "2-area")
    page.get_by_role("link", name="娜姑镇").click()
    assert page.locator("h1").inner_text() == "娜姑镇"
    page.get_by_role("link", name="娜姑村小").click()
    assert page.locator("h1").inner_text() == "娜姑村小"
    assert "小规模学校（措施四撤并）" in page.locator(".facts").inner_text()
    shot(page, "3-school")
    page.get_by_role("link", name="1年级(1)班").click()
    assert page.locator("h1").inner_text() == "娜姑村小 · 1年级(1)班"
    assert "ag-5" in page.locator("main").inner_text()
    assert page.locator(".crumbs a").all_inner_texts() == ["会泽县", "娜姑片区", "娜姑镇", "娜姑村小"]
    shot(page, "4-class")


def test_gap_list_filters_and_exports(hub, page, tmp_path):
    sign_in(page, hub, "/coverage/gaps")
    assert page.locator("table.gaps tbody tr").count() == 11  # A's three classes, D and its class, E and its three, F, C
    page.select_option("select[name=measure]", "class_wired")
    page.select_option("select[name=status]", "missing")
    page.get_by_role("button", name="筛选").click()
    assert [r.split("\t")[2] for r in page.locator("table.gaps tbody tr").all_inner_texts()] == ["4年级(4)班"]
    page.get_by_role("tab", name="小规模学校（措施四撤并） (2)").click()
    assert page.locator("table.gaps tbody tr td:nth-child(3)").all_inner_texts() == ["2年级(2)班", "3年级(3)班"]
    shot(page, "5-gaps-filtered")

    with page.expect_download() as xlsx:
        page.get_by_role("link", name="导出 Excel（XLSX）").click()
    saved = tmp_path / xlsx.value.suggested_filename
    xlsx.value.save_as(saved)
    book = openpyxl.load_workbook(saved)
    assert [r[6] for r in list(book["缺口清单"].values)[1:]] == ["A-C4"]
    assert [r[6] for r in list(book["小规模学校"].values)[1:]] == ["B-C2", "B-C3"]
    with page.expect_download() as csv_file:
        page.get_by_role("link", name="导出 CSV").click()
    rows = list(csv.reader(io.StringIO(Path(csv_file.value.path()).read_text(encoding="utf-8-sig"))))
    assert [r[6] for r in rows[1:]] == ["A-C4", "B-C2", "B-C3"]


def test_on_a_phone_only_tables_scroll_and_english_is_one_tap_away(hub, browser):
    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True)
    tab = context.new_page()
    try:
        sign_in(tab, hub, "/coverage/")
        tab.wait_for_selector(".trend[data-ready=true]")
        assert tab.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        shot(tab, "6-phone-overview")
        tab.get_by_role("link", name="English").click()
        assert tab.locator("h1").inner_text() == "Measure nine: a teaching terminal and network in every class"
        tab.goto(hub.url + "/coverage/disagreements")
        assert tab.locator("table tbody tr").count() == 8  # A-R2, A-R3, A-R4 (retired), D, E-R1 .. E-R4
        shot(tab, "7-phone-disagreements-en")
    finally:
        context.close()
