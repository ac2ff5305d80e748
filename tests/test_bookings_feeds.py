"""Calendar feeds: secret per-user URLs, one feed each, read back by an independent parser (vobject).

The hub writes the feeds with `icalendar`; these tests parse them with `vobject`, so a mistake shared
by writer and reader cannot hide. Sessions are booked through the real JSON API.
"""
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import vobject

from eduops.accounts import store as accounts
from eduops import db as dbmod
from eduops.audit import COMMAND_LINE
from eduops.app import create_app
from tests.support import sky_county
from tests.support.clock import Clock

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 12, 7, 8, 0, tzinfo=SHANGHAI)  # a Monday morning
FEED_URL = re.compile(r'value="(http://localhost/feeds/feed_[A-Za-z0-9_-]+\.ics)"')


@pytest.fixture
def app(hub_config, fresh_db):
    """The hub on a Monday morning of the test's own."""
    return create_app(hub_config, Clock(NOW))


@pytest.fixture
def county(db_path, app):
    sky_county.build(db_path)


def book(client, title, start="2026-12-08T10:00:00+08:00", minutes=45, room="S1-B1", classes=("S1-C1",)):
    starts = datetime.fromisoformat(start)
    answer = client.post("/api/v1/sessions", json={
        "kind": "open_lesson", "title": title, "source_room": room, "starts_at": start,
        "ends_at": (starts + timedelta(minutes=minutes)).isoformat(), "receiving_classes": list(classes)})
    assert answer.status_code == 201, answer.text
    return answer.json["sessions"][0]


def make_feed(client, **form):
    answer = client.post("/bookings/feeds", data=form)
    assert answer.status_code == 201, answer.text
    return FEED_URL.search(answer.text).group(1).removeprefix("http://localhost")


def events(app, url):
    """The feed's events by UID, fetched as a calendar app does: no cookie, no sign-in."""
    answer = app.test_client().get(url)
    assert answer.status_code == 200, answer.text
    assert answer.mimetype == "text/calendar"
    cal = vobject.readOne(answer.get_data(as_text=True))
    assert cal.vtimezone.tzid.value == "Asia/Shanghai"
    return cal, {e.uid.value: e for e in getattr(cal, "vevent_list", [])}


def test_a_teachers_feed_follows_every_change_of_their_session(app, client, county, make_user, login):
    teacher = make_user("teacher", ["S1"])
    login(client, teacher)
    s = book(client, "三年级数学公开课, 分数; 初步")
    feed = make_feed(client, scope="teacher")

    cal, found = events(app, feed)
    assert teacher.username in cal.x_wr_calname.value
    (uid, event), = found.items()
    assert event.summary.value == "三年级数学公开课, 分数; 初步"  # commas and semicolons survive escaping
    assert event.dtstart.value == datetime(2026, 12, 8, 10, 0, tzinfo=SHANGHAI)
    assert event.dtstart.value.tzinfo.utcoffset(event.dtstart.value) == timedelta(hours=8)
    assert event.dtend.value == datetime(2026, 12, 8, 10, 45, tzinfo=SHANGHAI)
    assert event.status.value == "CONFIRMED" and int(event.sequence.value) == s["version"]
    assert event.location.value == "互动直录播教室1 · 会泽县古城第一小学"
    assert event.url.value.endswith(f"/bookings/{s['id']}")

    moved = client.patch(f"/api/v1/sessions/{s['id']}", json={
        "version": s["version"], "starts_at": "2026-12-08T14:00:00+08:00", "ends_at": "2026-12-08T14:45:00+08:00"})
    assert moved.status_code == 200, moved.text
    _cal, found = events(app, feed)
    assert list(found) == [uid]  # the same event, not a new one
    assert found[uid].dtstart.value == datetime(2026, 12, 8, 14, 0, tzinfo=SHANGHAI)
    assert int(found[uid].sequence.value) == int(event.sequence.value) + 1

    version = moved.json["sessions"][0]["version"]
    assert client.post(f"/api/v1/sessions/{s['id']}/cancel", json={"version": version, "reason": "生病"}).status_code == 200
    _cal, found = events(app, feed)
    assert found[uid].status.value == "CANCELLED"
    assert int(found[uid].sequence.value) == int(event.sequence.value) + 2
    assert "生病" in found[uid].description.value


def test_a_token_opens_only_its_own_feed(app, client, county, make_user, login):
    me, other = make_user("teacher", ["S1"]), make_user("teacher", ["S1"])
    login(client, other)
    theirs = book(client, "别人的课", room="S1-D1", classes=["S1-C2"])
    login(client, me)
    mine = book(client, "我的课", start="2026-12-09T10:00:00+08:00")
    teacher_feed = make_feed(client, scope="teacher")
    room_feed = make_feed(client, scope="room", room="S1-D1")

    _cal, found = events(app, teacher_feed)
    assert [e.summary.value for e in found.values()] == ["我的课"]
    _cal, found = events(app, room_feed)
    assert [e.summary.value for e in found.values()] == ["别人的课"]
    assert {mine["id"], theirs["id"]} and len(found) == 1

    # A feed URL is no sign-in: it opens nothing else.
    token = room_feed.removeprefix("/feeds/").removesuffix(".ics")
    assert app.test_client().get("/api/v1/sessions", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert app.test_client().get("/feeds/feed_guessed.ics").status_code == 404
    assert app.test_client().get("/feeds/" + token[:-1] + ".ics").status_code == 404


def test_feed_tokens_are_hashed_listed_and_revoked_by_their_owner(app, client, county, db_path, make_user, login):
    teacher = make_user("teacher", ["S1"])
    login(client, teacher)
    feed = make_feed(client, scope="school", school="S11")
    token = feed.removeprefix("/feeds/").removesuffix(".ics")
    database = dbmod.connect(db_path)
    try:
        stored = database.execute("SELECT token_hash, hint, scope, target FROM feed_tokens").fetchall()
        assert stored[0][1:] == (token[:9], "school", "S11") and token not in stored[0][0]
        log = database.execute("SELECT event, subject FROM audit_log WHERE event LIKE 'feed%'").fetchall()
        assert log == [("feed_token_created", teacher.username)]
    finally:
        database.conn.close()
    page = client.get("/bookings/feeds").get_data(as_text=True)
    assert "者海镇红石村小学" in page and token[:9] in page and token not in page

    (feed_id,) = re.findall(r"/bookings/feeds/(\d+)/revoke", page)
    login(client, make_user("teacher", ["S1"]))
    assert client.post(f"/bookings/feeds/{feed_id}/revoke").status_code == 404  # not theirs to revoke
    assert app.test_client().get(feed).status_code == 200
    login(client, teacher)
    assert client.post(f"/bookings/feeds/{feed_id}/revoke").status_code == 303
    assert app.test_client().get(feed).status_code == 404


def test_a_disabled_owner_s_feed_stops(app, client, county, db_path, make_user, login):
    teacher = make_user("teacher", ["S1"])
    login(client, teacher)
    feed = make_feed(client, scope="room", room="S1-B1")
    database = dbmod.connect(db_path)
    try:
        accounts.set_disabled(database, teacher.username, True, COMMAND_LINE, NOW)
    finally:
        database.conn.close()
    assert app.test_client().get(feed).status_code == 404


def test_a_feed_page_refuses_what_it_cannot_follow(client, county, make_user, login):
    login(client, make_user("teacher", ["S1"]))
    assert client.post("/bookings/feeds", data={"scope": "room", "room": "S11-R1"}).status_code == 400  # ordinary room
    assert client.post("/bookings/feeds", data={"scope": "school", "school": "S99"}).status_code == 400
    assert client.post("/bookings/feeds", data={"scope": "everything"}).status_code == 400
