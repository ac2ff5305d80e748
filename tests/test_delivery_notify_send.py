"""Robot messages through Apprise to a real HTTP sink on loopback (Apprise's json:// target), and to a
dead one: retried with backoff, counted, given up after the last attempt, never losing what caused it."""
from datetime import timedelta

import pytest

from eduops import db as dbmod
from eduops.delivery import notify
from eduops.delivery import store
from scheduler import delivery_jobs
from tests.support.robot_sink import Sink, dead_url
from tests.support.delivery_kit import county_db, add_session, add_user, utc

T = utc(2026, 12, 7, 1, 30)


@pytest.fixture
def sink():
    server = Sink()
    yield server
    server.close()


@pytest.fixture
def db(db_path):
    yield from county_db(db_path)


def send(db, now):
    return delivery_jobs.send_notifications(db, now, timedelta(seconds=60), 3, "Asia/Shanghai", notify)


def not_ready(db, session_id, now):
    with dbmod.write(db):
        notify.session_event(db, now, "not_ready", session_id, {"lead": 30, "rooms": [["S2-R1", ["display_off"]]]},
                             key=f"not_ready:{session_id}:30", schools={"S2"}, host=True)


def test_a_message_reaches_the_robot_in_chinese(db, sink):
    host = add_user(db, "demo-teacher", "teacher", ["S1"])
    session = add_session(db, host, T + timedelta(minutes=30), 45)
    notify.add_target(db, "S2", "者海镇中心小学信息群", sink.url, "it-s2", T)
    not_ready(db, session, T)
    assert send(db, T) == {"sent": 1, "retry": 0, "gave_up": 0}
    [message] = sink.received
    assert message["title"] == "EduOps 空中课堂"
    assert message["message"] == "《三年级数学公开课》（2026-12-07 10:00）开始前 30 分钟尚未就绪：三(1)班教室：显示屏未开"
    assert send(db, T + timedelta(minutes=1)) == {"sent": 0, "retry": 0, "gave_up": 0}   # sent once
    assert notify.counts(db) == {"sent": 1, "failed": 0, "gave_up": 0, "pending": 0}


def test_a_dead_robot_is_retried_with_backoff_then_given_up_and_the_session_stays(db, sink, caplog):
    host = add_user(db, "demo-teacher", "teacher", ["S1"])
    session = add_session(db, host, T + timedelta(minutes=30), 45)
    url = dead_url()
    notify.add_target(db, "S2", "者海镇中心小学信息群", url, "it-s2", T)
    notify.add_target(db, None, "县电教中心群", sink.url, "admin", T)
    not_ready(db, session, T)
    assert send(db, T) == {"sent": 1, "retry": 1, "gave_up": 0}                 # the live one is not held up
    assert send(db, T + timedelta(seconds=59)) == {"sent": 0, "retry": 0, "gave_up": 0}  # backing off
    assert send(db, T + timedelta(seconds=60)) == {"sent": 0, "retry": 1, "gave_up": 0}
    assert send(db, T + timedelta(seconds=179)) == {"sent": 0, "retry": 0, "gave_up": 0}  # then 120 s
    assert send(db, T + timedelta(seconds=180)) == {"sent": 0, "retry": 0, "gave_up": 1}
    assert notify.counts(db) == {"sent": 1, "failed": 3, "gave_up": 1, "pending": 0}
    assert store.session_brief(db, session)["state"] == "booked"
    assert url.split("//")[1] not in caplog.text and "failed (attempt 3)" in caplog.text
