"""The booking pages in-process: the form's defaults and refusals, my sessions, edit and cancel, approvals,
week views, English, CSRF. The rules themselves are the store's (tests/test_bookings_*.py of the back end)."""
import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from eduops import db as dbmod
from eduops.app import create_app
from tests.support import sky_county
from tests.support.clock import Clock

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 12, 7, 8, 0, tzinfo=SHANGHAI)  # a Monday morning


@pytest.fixture
def app(hub_config, fresh_db):
    """The hub on a Monday morning of the test's own."""
    return create_app(hub_config, Clock(NOW))


@pytest.fixture
def county(db_path, app):
    sky_county.build(db_path)


def form(**changes):
    fields = {"title": "三年级数学公开课", "kind": "open_lesson", "source_room": "S1-B1", "day": "2026-12-08",
              "start": "10:00", "minutes": "45", "class": ["S11-C3", "S12-C3", "S13-C3"], "recorded": "1"}
    return {k: v for k, v in {**fields, **changes}.items() if v is not None}


def session_id(answer) -> int:
    assert answer.status_code == 303, answer.text
    return int(re.search(r"/bookings/(\d+)", answer.headers["Location"]).group(1))


def stored(db_path, sql, *params):
    database = dbmod.connect(db_path)
    try:
        return database.execute(sql, params).fetchall()
    finally:
        database.conn.close()


def test_the_form_comes_filled_in_with_the_school_s_broadcast_room_the_next_free_slot_and_45_minutes(
        client, county, make_user, login):
    login(client, make_user("teacher", ["S1"]))
    page = client.get("/bookings/new").get_data(as_text=True)
    assert '<option value="S1-B1" selected>' in page
    # A day and half an hour from now: the county has a day to approve sessions beyond the school.
    assert 'name="day" value="2026-12-08"' in page and 'name="start" value="08:30"' in page
    assert '<option value="45" selected>' in page
    assert "者海镇红石村小学" in page and "无出口带宽：只能收看录播" in page  # S14 has no uplink on record


def test_the_next_slot_skips_what_the_room_already_holds(client, county, make_user, login):
    login(client, make_user("teacher", ["S1"]))
    assert client.post("/bookings/new", data=form(start="08:30", **{"class": ["S1-C1"]})).status_code == 303
    page = client.get("/bookings/new").get_data(as_text=True)
    start = re.search(r'name="start" value="(\d\d:\d\d)"', page).group(1)
    assert start == "09:25"  # after 08:30-09:15 and the 10-minute setup buffer; earlier is too soon to approve


def test_a_booking_to_village_schools_waits_for_approval_and_shows_on_my_sessions(client, county, db_path,
                                                                               make_user, login):
    teacher = make_user("teacher", ["S1"])
    login(client, teacher)
    sid = session_id(client.post("/bookings/new", data=form()))
    page = client.get(f"/bookings/{sid}?done=booked").get_data(as_text=True)
    assert "等待县教育信息技术中心审批" in page and "12月8日 周二 10:00–10:45" in page
    assert page.count('class="room"') == 3
    assert stored(db_path, "SELECT state, starts_at FROM sky_sessions") == [("pending", "2026-12-08T02:00:00.000000Z")]
    mine = client.get("/bookings/").get_data(as_text=True)
    assert "三年级数学公开课" in mine and "待审批" in mine


def test_a_refused_form_comes_back_with_the_reasons_the_suggestions_and_what_was_typed(client, county, make_user,
                                                                                    login):
    login(client, make_user("teacher", ["S1"]))
    assert client.post("/bookings/new", data=form()).status_code == 303
    again = client.post("/bookings/new", data=form(title="另一节课"))
    assert again.status_code == 409
    page = again.get_data(as_text=True)
    assert "已被《三年级数学公开课》占用" in page and page.count('class="slot"') == 3
    assert 'value="另一节课"' in page and page.count('name="class"') == 3  # nothing typed is lost
    saturday = client.post("/bookings/new", data=form(day="2026-12-12"))
    assert saturday.status_code == 400 and "上课日" in saturday.get_data(as_text=True)
    no_time = client.post("/bookings/new", data=form(start="ten"))
    assert no_time.status_code == 400 and "10:00" in no_time.get_data(as_text=True)
    other_school = client.post("/bookings/new", data=form(source_room="S11-R1"))
    assert other_school.status_code in (400, 403)


def test_edit_and_cancel_from_the_session_page(client, county, db_path, make_user, login):
    teacher = make_user("teacher", ["S1"])
    login(client, teacher)
    sid = session_id(client.post("/bookings/new", data=form(**{"class": ["S1-C1"]})))
    assert stored(db_path, "SELECT state FROM sky_sessions") == [("booked",)]  # own school: no approval
    edit_page = client.get(f"/bookings/{sid}/edit").get_data(as_text=True)
    assert 'name="version" value="1"' in edit_page and 'value="三年级数学公开课"' in edit_page
    assert session_id(client.post(f"/bookings/{sid}/edit", data=form(start="14:00", version="1",
                                                                       **{"class": ["S1-C1"]}))) == sid
    stale = client.post(f"/bookings/{sid}/edit", data=form(start="15:00", version="1", **{"class": ["S1-C1"]}))
    assert stale.status_code == 409  # the page was read before the last change
    assert session_id(client.post(f"/bookings/{sid}/cancel", data={"version": "2", "reason": "教研活动调整"})) == sid
    assert stored(db_path, "SELECT state, reason, starts_at FROM sky_sessions") == [
        ("cancelled", "教研活动调整", "2026-12-08T06:00:00.000000Z")]
    login(client, make_user("teacher", ["S1"]))
    assert "修改或取消" not in client.get(f"/bookings/{sid}").get_data(as_text=True)  # not theirs


def test_the_county_admin_approves_and_rejects_with_a_reason_the_teacher_reads(client, county, db_path,
                                                                             make_user, login):
    teacher, admin = make_user("teacher", ["S1"]), make_user("admin")
    login(client, teacher)
    first = session_id(client.post("/bookings/new", data=form()))
    second = session_id(client.post("/bookings/new", data=form(title="五年级科学", start="14:00",
                                                                **{"class": ["S11-C5"]})))
    login(client, admin)
    queue = client.get("/bookings/approvals").get_data(as_text=True)
    assert "三年级数学公开课" in queue and "五年级科学" in queue and "3 所学校" in queue
    assert client.post(f"/bookings/{first}/approve", data={"version": "1"}).status_code == 303
    assert client.post(f"/bookings/{second}/reject", data={"version": "1", "reason": ""}).status_code == 400
    assert client.post(f"/bookings/{second}/reject", data={"version": "1", "reason": "当天统一考试"}).status_code == 303
    assert dict(stored(db_path, "SELECT id, state FROM sky_sessions")) == {first: "booked", second: "rejected"}
    login(client, teacher)
    assert client.post(f"/bookings/{first}/approve", data={"version": "2"}).status_code == 403
    assert "原因：当天统一考试" in client.get(f"/bookings/{second}").get_data(as_text=True)
    assert "原因：当天统一考试" in client.get("/bookings/").get_data(as_text=True)  # told on "my sessions"


def test_week_views_of_a_room_and_a_school_in_chinese_and_english(client, county, make_user, login):
    login(client, make_user("teacher", ["S1"]))
    session_id(client.post("/bookings/new", data=form()))
    login(client, make_user("viewer"))
    room = client.get("/bookings/rooms/S1-B1?week=2026-12-09").get_data(as_text=True)
    assert "12月7日 周一 这一周" in room and "三年级数学公开课" in room and "12月12日 周六" not in room
    school = client.get("/bookings/schools/S12?week=2026-12-07").get_data(as_text=True)
    assert "三年级数学公开课" in school  # a receiving school sees it too
    assert "三年级数学公开课" not in client.get("/bookings/schools/S12?week=2026-12-14").get_data(as_text=True)
    english = client.get("/bookings/rooms/S1-B1?week=2026-12-09&lang=en").get_data(as_text=True)
    assert "Week of Mon, Dec 7" in english and "Awaiting approval" in english
    assert client.get("/bookings/rooms/S11-R1").status_code == 404  # an ordinary classroom has no schedule here
    assert client.get("/bookings/rooms/S1-B1?week=soon").status_code == 400


def test_the_picker_loads_a_school_s_classes_and_forms_need_their_csrf_token(app, client, county, make_user, login):
    login(client, make_user("teacher", ["S1"]))
    classes = client.get("/bookings/schools/S11/classes").json["classes"]
    assert [c["code"] for c in classes] == [f"S11-C{g}" for g in range(1, 7)] and classes[2]["grade"] == 3
    assert client.get("/bookings/schools/S99/classes").status_code == 404
    bare = app.test_client()
    login(bare, make_user("teacher", ["S1"]))
    bare.environ_base.pop("HTTP_X_CSRF_TOKEN", None)
    assert bare.post("/bookings/new", data=form()).status_code == 403


def test_a_weekly_series_from_the_form_and_cancelling_the_rest_of_it(app, client, county, db_path, make_user, login):
    app.config["EDUOPS"] = app.config["EDUOPS"].replace(terms="2026-09-01..2027-01-22", holidays="2026-12-22")
    login(client, make_user("teacher", ["S1"]))
    page = client.get("/bookings/new").get_data(as_text=True)
    assert 'name="until" value="2027-01-22" max="2027-01-22"' in page  # the term's last day
    first = session_id(client.post("/bookings/new", data=form(weekday=["tue"], until="2026-12-29",
                                                               **{"class": ["S1-C1"]})))
    days = [d for d, in stored(db_path, "SELECT occurrence_day FROM sky_sessions ORDER BY starts_at")]
    assert days == ["2026-12-08", "2026-12-15", "2026-12-29"]  # the holiday is skipped
    shown = client.get(f"/bookings/{first}?done=booked&n=3").get_data(as_text=True)
    assert "系列课程共预约 3 次" in shown and "每周系列：共 3 次" in shown
    second = stored(db_path, "SELECT id, version FROM sky_sessions WHERE occurrence_day = '2026-12-15'")[0]
    assert session_id(client.post(f"/bookings/{second[0]}/cancel",
                                  data={"version": str(second[1]), "scope": "rest"})) == second[0]
    assert stored(db_path, "SELECT occurrence_day, state FROM sky_sessions ORDER BY starts_at") == [
        ("2026-12-08", "booked"), ("2026-12-15", "cancelled"), ("2026-12-29", "cancelled")]
