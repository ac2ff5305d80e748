"""The delivery pages in headless Chromium against a real hub, on a phone's width and a desk's: the session
page with readiness and what was delivered, attendance entered through its form, the overview (the host's
school's figures), robots.

The hub sends its strict Content-Security-Policy: an inline script or style fails the test.
Screenshots are kept under test-artifacts/delivery/.
"""
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from openpyxl import load_workbook

from eduops import db as dbmod
from eduops.delivery import store
from scheduler import delivery_jobs
from tests.support.accounts_helpers import create_user
from tests.support.delivery_kit import add_report, add_room_agent, add_session, build_county
from tests.support.hubprocess import HubProcess

pytestmark = pytest.mark.e2e
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "delivery"


@pytest.fixture
def hub(db_path):
    build_county(db_path)
    host = create_user(db_path, "teacher", ["S1"], username="demo-teacher")
    staff = create_user(db_path, "it_staff", ["S3"], username="it-s3")
    db = dbmod.connect(db_path)
    start = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(hours=2)
    training = add_session(db, host.id, start, 90, kind="teacher_training", title="希沃白板应用培训",
                           receivers=("S2-R1", "S2-R2", "S3-R1"))
    agents = {room: add_room_agent(db, room) for room in ("S1-B", "S2-R1", "S2-R2")}
    add_report(db, agents["S1-B"], start - timedelta(minutes=31))
    add_report(db, agents["S2-R1"], start - timedelta(minutes=31))
    add_report(db, agents["S2-R2"], start - timedelta(minutes=31), wired_up=False, ssid="Teacher-Phone", dbm=-40)
    delivery_jobs.check_readiness(db, start - timedelta(minutes=30), [30, 10], -75, store)
    for room in ("S1-B", "S2-R1"):
        add_report(db, agents[room], start + timedelta(minutes=30))
    delivery_jobs.record_deliveries(db, start + timedelta(minutes=95), timedelta(days=3), store)
    db.conn.close()
    process = HubProcess(db_path)
    process.host, process.staff, process.training = host, staff, training
    yield process
    process.stop()
    assert "Traceback" not in process.output


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def sign_in(page, hub, user, path):
    page.goto(hub.url + path)
    page.fill("input[name=username]", user.username)
    page.fill("input[name=password]", user.password)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(hub.url + path)


def test_a_receiving_schools_it_staff_read_readiness_and_enter_attendance_on_a_phone(hub, page):
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, hub, hub.staff, f"/bookings/{hub.training}")
    readiness = page.locator("table.readiness")
    assert "没有有线连接或学校无线网络" in readiness.inner_text()      # S2-R2 saw only a phone's hotspot
    assert "没有在线终端" in readiness.inner_text()                   # S3-R1 has no agent
    assert "3 个接收教室中 1 个在线收看" in page.locator("#delivery").inner_text()
    page.fill("input[name=teachers]", "12")
    page.get_by_role("button", name="保存参训情况").click()
    page.wait_for_url(f"{hub.url}/bookings/{hub.training}#delivery")
    assert "者海镇一村小学: 12 名教师" in page.locator("ul.attendance").inner_text()
    shot(page, "session-phone")


def test_the_host_reads_the_notifications_the_overview_and_its_workbook(hub, page, tmp_path):
    sign_in(page, hub, hub.host, "/notifications")
    assert "尚未就绪" in page.locator("ul.notifications").inner_text()
    shot(page, "notifications")
    page.goto(hub.url + "/delivery/")
    table = page.locator("table.delivered").inner_text()
    assert "古城街道" in table and "者海镇" not in table                # a teacher sees their school's figures
    assert "仅统计本校数据" in page.locator("main").inner_text()
    shot(page, "overview")
    with page.expect_download() as download:
        page.get_by_role("link", name="下载 Excel").click()
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    rows = list(load_workbook(saved).active.values)
    assert ("主城区", "古城街道", 1, 1.5, 0, 0, 0) in rows and not any(r[1] == "者海镇" for r in rows)
    page.goto(f"{hub.url}/bookings/{hub.training}")
    shot(page, "session-desk")


def test_it_staff_add_a_robot_and_see_it_masked(hub, page):
    sign_in(page, hub, hub.staff, "/delivery/robots")
    page.fill("input[name=label]", "者海镇一村小学信息群")
    page.fill("input[name=url]", "dingtalk://9f8e7d6c5b4a39281706/")
    page.get_by_role("button", name="添加").click()
    page.wait_for_url(hub.url + "/delivery/robots?done=added")
    table = page.locator("table.robots").inner_text()
    assert "者海镇一村小学信息群" in table and "9f8e7d6c5b4a39281706" not in table
    shot(page, "robots")
