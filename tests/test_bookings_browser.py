"""A teacher books a live lesson to three village schools in headless Chromium (Debian's), against a real hub.

Measure ten: booking must take a teacher under a minute, with no manual. The test counts what the
teacher does (each fill, click and tick) and times it from their sessions page to the booked
session's page; it prints both. The conflict feedback must show before submitting: the teacher
first asks for a time another lesson holds, sees why it cannot be and takes a suggested slot.

The hub sends its strict Content-Security-Policy, so an inline script or style fails the test.
Screenshots, desktop and a 390 px phone, are kept under /tmp/eduops-shots/bookings/.
"""
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import requests
from playwright.sync_api import expect

from eduops import db as dbmod
from tests.support import sky_county
from tests.support.accounts_helpers import create_user, login
from tests.support.hubprocess import HubProcess

pytestmark = pytest.mark.e2e
SHOTS = Path("/tmp/eduops-shots/bookings")
SHANGHAI = ZoneInfo("Asia/Shanghai")
PHONE = {"width": 390, "height": 844}


def school_day_after_tomorrow() -> datetime:
    """10:00 county time on the first school day from the day after tomorrow: far enough ahead for the
    county's approval (sessions beyond one's school must start a day after they are asked for at least)."""
    day = datetime.now(SHANGHAI).date() + timedelta(days=2)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return datetime.combine(day, datetime.min.time(), SHANGHAI).replace(hour=10)


@pytest.fixture
def hub(db_path):
    sky_county.build(db_path)
    process = HubProcess(db_path)
    process.teacher = create_user(db_path, "teacher", ["S1"], username="li-laoshi")
    process.colleague = create_user(db_path, "teacher", ["S1"])
    yield process
    process.stop()
    assert "Traceback" not in "".join(process.lines)


def shot(page, name: str) -> None:
    """A screenshot; on a phone, the page must also fit its width (nothing to scroll sideways)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
    if page.viewport_size == PHONE:
        assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"], name


class Teacher:
    """The page, with every action the teacher takes counted."""

    def __init__(self, page):
        self.page, self.actions = page, 0

    def fill(self, selector: str, text: str) -> None:
        self.page.fill(selector, text)
        self.actions += 1

    def click(self, locator) -> None:
        locator.click()
        self.actions += 1


def test_a_teacher_books_a_live_lesson_to_three_village_schools_in_under_a_minute(hub, page, db_path):
    taken = school_day_after_tomorrow()
    colleague = requests.Session()
    login(colleague, hub.colleague, base_url=hub.url)
    held = colleague.post(hub.url + "/api/v1/sessions", json={
        "kind": "open_lesson", "title": "四年级语文公开课", "source_room": "S1-B1", "starts_at": taken.isoformat(),
        "ends_at": (taken + timedelta(minutes=45)).isoformat(), "receiving_classes": ["S1-C1"]})
    assert held.status_code == 201, held.text

    page.goto(hub.url + "/")
    page.fill("input[name=username]", hub.teacher.username)
    page.fill("input[name=password]", hub.teacher.password)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(hub.url + "/bookings/")  # a teacher lands on their sessions
    assert page.locator("h1").inner_text() == "我的课程"

    teacher = Teacher(page)
    started = time.monotonic()
    teacher.click(page.get_by_role("link", name="预约课程").first)
    page.wait_for_selector(".feedback[data-state=ok]")  # the defaults are free: checked as soon as the page opens
    assert page.locator("select[name=source_room]").input_value() == "S1-B1"
    assert page.locator("select[name=minutes]").input_value() == "45"
    teacher.fill("input[name=title]", "三年级数学：分数的初步认识")
    teacher.fill("input[name=day]", taken.date().isoformat())
    teacher.fill("input[name=start]", "10:15")

    feedback = page.locator(".feedback[data-state=problem]")
    feedback.wait_for()
    assert "《四年级语文公开课》" in feedback.inner_text() and "互动直录播教室1" in feedback.inner_text()
    assert page.locator(".feedback button.slot").count() == 3
    shot(page, "1-form-conflict-desktop")
    page.set_viewport_size(PHONE)
    shot(page, "2-form-conflict-phone")
    page.set_viewport_size({"width": 1280, "height": 900})

    teacher.click(page.locator(".feedback button.slot").first)
    page.wait_for_selector(".feedback[data-state=ok]")
    teacher.click(page.locator("details.area > summary", has_text="者海片区"))
    teacher.click(page.locator("details.township > summary", has_text="者海镇"))
    for code in ("S11", "S12", "S13"):
        teacher.click(page.locator(f"#rs-{code}"))
    expect(page.locator(".chosen .chip")).to_have_count(3)
    page.wait_for_selector(".feedback[data-state=ok] .note")  # reaches beyond the school: approval is needed
    assert "审批" in page.locator(".feedback").inner_text()
    assert page.locator('.chosen input[name="class"]').count() == 18
    shot(page, "3-form-ready-desktop")
    page.set_viewport_size(PHONE)
    shot(page, "4-form-ready-phone")

    teacher.click(page.get_by_role("button", name="预约", exact=True))
    page.wait_for_url(f"{hub.url}/bookings/*?done=booked*")
    seconds = time.monotonic() - started
    print(f"\nbooked in {seconds:.1f} s with {teacher.actions} actions")
    assert "等待县教育信息技术中心审批" in page.locator(".notice").inner_text()
    assert page.locator("ul.receivers > li").count() == 3 and page.locator("ul.receivers .room").count() == 18
    shot(page, "5-session-phone")
    page.set_viewport_size({"width": 1280, "height": 900})
    shot(page, "6-session-desktop")
    assert seconds < 60 and teacher.actions <= 12

    database = dbmod.connect(db_path)
    try:
        stored = database.execute(
            "SELECT s.title, s.state, s.starts_at, u.username, COUNT(DISTINCT r.school_code), COUNT(r.room_code) "
            "FROM sky_sessions s JOIN users u ON u.id = s.host_user_id "
            "JOIN sky_session_receivers r ON r.session_id = s.id WHERE s.title LIKE '三年级%' GROUP BY s.id").fetchall()
    finally:
        database.conn.close()
    (title, state, starts_at, host, schools, rooms), = stored
    assert (title, state, host, schools, rooms) == ("三年级数学：分数的初步认识", "pending", "li-laoshi", 3, 18)
    assert starts_at != taken.isoformat()  # moved to the suggested free slot

    page.get_by_role("link", name="互动直录播教室1").click()  # the room's week, with the new lesson in it
    page.wait_for_selector(".week li.session.pending")
    shot(page, "7-week-desktop")
    page.set_viewport_size(PHONE)
    shot(page, "8-week-phone")
