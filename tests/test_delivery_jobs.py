"""The readiness, delivery and notification jobs on a real SQLite file, with injected time: nothing sleeps."""
import json
from datetime import timedelta

import pytest

from eduops import audit
from eduops import db as dbmod
from eduops.clock import to_iso
from eduops.delivery import notify
from eduops.delivery import recordings, store
from scheduler import delivery_jobs
from scheduler.readiness import due_leads
from tests.support.delivery_kit import county_db, add_report, add_room_agent, add_session, add_user, utc

T = utc(2026, 12, 7, 2, 0)       # 10:00 in Huize, a Monday


@pytest.fixture
def db(db_path):
    yield from county_db(db_path)


@pytest.fixture
def lesson(db):
    """A live lesson from S1-B to S2-R1 (S2 has uplink) and S3-R1 (S3 has none), with the rooms'
    agents: the source fine, S2-R1's display off, S3-R1 without an agent."""
    host = add_user(db, "demo-teacher", "teacher", ["S1"])
    it_s2 = add_user(db, "it-s2", "it_staff", ["S2"])
    it_s1 = add_user(db, "it-s1", "it_staff", ["S1"])
    session = add_session(db, host, T, 45, receivers=("S2-R1", "S3-R1"))
    source, receiver = add_room_agent(db, "S1-B"), add_room_agent(db, "S2-R1")
    add_report(db, source, T - timedelta(minutes=31))
    add_report(db, receiver, T - timedelta(minutes=31), screen_on=False)
    return {"id": session, "host": host, "it_s2": it_s2, "it_s1": it_s1, "source": source, "receiver": receiver}


def check(db, now):
    return delivery_jobs.check_readiness(db, now, [30, 10], -75, store)


def verdicts(db, session_id):
    return {r["room_code"]: (r["lead_minutes"], r["ready"], r["reasons"]) for r in store.readiness_of(db, [session_id])[session_id]}


def test_readiness_is_checked_at_t30_and_t10_once_each_with_the_reasons(db, lesson):
    assert check(db, T - timedelta(minutes=31)) == {"checked": 0, "rooms_not_ready": 0}
    assert check(db, T - timedelta(minutes=30)) == {"checked": 1, "rooms_not_ready": 2}
    assert verdicts(db, lesson["id"]) == {"S1-B": (30, 1, []), "S2-R1": (30, 0, ["display_off"]),
                                          "S3-R1": (30, 0, ["no_terminal_online", "no_bandwidth"])}
    assert check(db, T - timedelta(minutes=29)) == {"checked": 0, "rooms_not_ready": 0}   # never twice
    add_report(db, lesson["receiver"], T - timedelta(minutes=11), screen_on=True, wired_up=False, ssid="HZJY-S2",
               dbm=-80)                                                       # on, but Wi-Fi too weak
    assert check(db, T - timedelta(minutes=10))["checked"] == 1
    assert verdicts(db, lesson["id"])["S2-R1"] == (10, 0, ["no_network"])
    add_report(db, lesson["receiver"], T - timedelta(minutes=9), screen_on=True, wired_up=False, ssid="HZJY-S2",
               dbm=-60)
    assert check(db, T - timedelta(minutes=5))["checked"] == 0                 # done: the 10 is the last one


def test_a_hub_down_through_t30_checks_both_at_once_and_tells_people_once(db, lesson):
    assert due_leads(T, T - timedelta(minutes=5), [30, 10], []) == [30, 10]
    assert check(db, T - timedelta(minutes=5))["checked"] == 1
    assert {r[0] for r in db.execute("SELECT DISTINCT lead_minutes FROM readiness")} == {30, 10}
    told = db.execute("SELECT user_id, event, json_extract(params, '$.lead') FROM notifications").fetchall()
    assert sorted(told) == [(lesson["host"], "not_ready", 10), (lesson["it_s2"], "not_ready", 10)]
    assert check(db, T - timedelta(minutes=4))["checked"] == 0
    assert check(db, T + timedelta(minutes=1))["checked"] == 0                 # after the start: nothing due


def test_a_session_never_checked_before_its_start_is_not_checked_after(db, lesson):
    assert check(db, T + timedelta(seconds=1)) == {"checked": 0, "rooms_not_ready": 0}


def test_delivery_records_who_was_reached_once_after_the_end(db, lesson):
    for minute in (1, 20, 44):
        add_report(db, lesson["source"], T + timedelta(minutes=minute))
    add_report(db, lesson["receiver"], T + timedelta(minutes=30))
    add_report(db, lesson["receiver"], T + timedelta(minutes=45))              # after the end: does not count
    run = lambda now: delivery_jobs.record_deliveries(db, now, timedelta(days=3), store)  # noqa: E731
    assert run(T + timedelta(minutes=44)) == {"recorded": 0, "held": 0}        # not over yet
    assert run(T + timedelta(minutes=50)) == {"recorded": 1, "held": 1}
    assert run(T + timedelta(minutes=55)) == {"recorded": 0, "held": 0}
    delivered = store.delivery_of(db, lesson["id"])
    assert (delivered["held"], delivered["hours"], delivered["receivers"], delivered["receivers_reached"]) == \
        (1, 0.75, 2, 1)
    assert {r["room_code"]: r["reports"] for r in delivered["rooms"]} == {"S1-B": 3, "S2-R1": 1, "S3-R1": 0}


def stood(db, agent_id, room, day, first_at):
    """The fleet's rollup saw the agent in ``room`` on ``day`` from ``first_at`` on (as ingest writes it)."""
    with dbmod.write(db):
        db.execute("INSERT INTO agent_days (agent_id, day, room_code, reports, first_report_at, wired_up_reports, "
                   "school_wifi_reports) VALUES (?, ?, ?, 1, ?, 1, 0)", [agent_id, day, room, to_iso(first_at)])


def test_a_terminal_moved_after_a_session_credits_the_room_it_reported_from_not_its_new_one(db, lesson):
    day = T + timedelta(days=1)                                              # Tuesday 10:00 in Huize
    morning = add_session(db, lesson["host"], day, 45, receivers=("S2-R1", "S2-R2"))
    afternoon = add_session(db, lesson["host"], day + timedelta(hours=4), 45, receivers=("S2-R2",))
    add_report(db, lesson["source"], day + timedelta(minutes=10))          # no rollup rows: its room now
    add_report(db, lesson["source"], day + timedelta(hours=4, minutes=10))
    stood(db, lesson["receiver"], "S2-R1", "2026-12-08", day - timedelta(minutes=31))
    add_report(db, lesson["receiver"], day + timedelta(minutes=20))        # in S2-R1, during the morning
    with dbmod.write(db):                                                   # then carried to S2-R2
        db.execute("UPDATE agents SET room_code = 'S2-R2' WHERE id = ?", [lesson["receiver"]])
    stood(db, lesson["receiver"], "S2-R2", "2026-12-08", day + timedelta(hours=2))
    add_report(db, lesson["receiver"], day + timedelta(hours=2))
    add_report(db, lesson["receiver"], day + timedelta(hours=4, minutes=20))  # in S2-R2, during the afternoon
    delivery_jobs.record_deliveries(db, day + timedelta(hours=6), timedelta(days=3), store)
    rooms = lambda session: {r["room_code"]: r["reports"] for r in store.delivery_of(db, session)["rooms"]}  # noqa: E731
    assert rooms(morning) == {"S1-B": 1, "S2-R1": 1, "S2-R2": 0}
    assert rooms(afternoon) == {"S1-B": 1, "S2-R2": 1}
    assert store.delivery_of(db, morning)["receivers_reached"] == 1


def test_a_session_whose_source_never_reported_was_not_held(db, lesson):
    add_report(db, lesson["receiver"], T + timedelta(minutes=30))
    delivery_jobs.record_deliveries(db, T + timedelta(hours=1), timedelta(days=3), store)
    assert store.delivery_of(db, lesson["id"])["held"] == 0
    assert store.delivery_of(db, lesson["id"])["hours"] == 0


def audited(db, event, session_id, before, after):
    with dbmod.write(db):
        audit.add_event(db, T, event, audit.COMMAND_LINE, f"session {session_id}",
                        json.dumps({"before": before, "after": after}))


def test_booking_decisions_are_told_to_the_schools_they_touch(db, lesson):
    county = notify.add_target(db, None, "县电教中心群", "json://127.0.0.1:9/county", "admin", T)
    s2 = notify.add_target(db, "S2", "者海镇中心小学信息群", "json://127.0.0.1:9/s2", "it-s2", T)
    s1 = notify.add_target(db, "S1", "古城一小信息群", "json://127.0.0.1:9/s1", "it-s1", T)
    view = {"state": "booked", "starts_at": "2026-12-07T02:00:00.000000Z", "ends_at": "2026-12-07T02:45:00.000000Z",
            "source_room_code": "S1-B", "receivers": ["S2-R1"], "title": "三年级数学公开课", "reason": ""}
    audited(db, "session_edited", lesson["id"], view, {**view, "title": "三年级数学公开课（二）"})  # title only
    audited(db, "session_rejected", lesson["id"], {**view, "state": "pending"},
            {**view, "state": "rejected", "reason": "与县教研活动冲突"})
    audited(db, "session_cancelled", lesson["id"], view, {**view, "state": "cancelled", "reason": "停电"})
    assert delivery_jobs.queue_notifications(db, T, notify, recordings) == {"queued": 2, "recorders_asked": 0}
    assert delivery_jobs.queue_notifications(db, T, notify, recordings)["queued"] == 0   # the cursor moved on
    outbox = db.execute("SELECT target_id, event FROM notify_outbox ORDER BY id").fetchall()
    assert sorted(outbox) == sorted([(county, "rejected"), (s1, "rejected"),
                                     (county, "cancelled"), (s1, "cancelled"), (s2, "cancelled")])
    told = db.execute("SELECT user_id, event FROM notifications ORDER BY id").fetchall()
    assert sorted(told) == sorted([(lesson["host"], "rejected"), (lesson["it_s1"], "rejected"),
                                   (lesson["host"], "cancelled"), (lesson["it_s1"], "cancelled"),
                                   (lesson["it_s2"], "cancelled")])
    [cancelled] = [m for m in notify.claim_due(db, T, 10, timedelta(minutes=10)) if m["target_id"] == s2]
    assert notify.claim_due(db, T, 10, timedelta(minutes=10)) == []     # leased: a second sender takes nothing
    assert notify.robot_text(cancelled, "Asia/Shanghai") == (
        "EduOps 空中课堂", "《三年级数学公开课》（2026-12-07 10:00）已取消：停电")


def test_a_change_to_a_recorded_session_asks_the_rooms_recorder_to_fetch_its_schedule(db, lesson):
    view = {"state": "booked", "source_room_code": "S1-B", "receivers": ["S2-R1"], "recorded": True}
    audited(db, "session_cancelled", lesson["id"], view, {**view, "state": "cancelled"})
    assert delivery_jobs.queue_notifications(db, T, notify, recordings)["recorders_asked"] == 1
    assert db.execute("SELECT agent_id, kind FROM commands").fetchall() == [(lesson["source"], "refresh_schedule")]


def test_a_robot_url_is_shown_masked_and_a_bad_one_refused(db):
    notify.add_target(db, "S2", "者海镇中心小学信息群", "dingtalk://SECRETTOKEN1234567890/", "it-s2", T)
    [shown] = notify.targets(db, {"S2"})
    assert "SECRETTOKEN1234567890" not in shown["url"] and shown["url"].startswith("dingtalk://")
    with pytest.raises(notify.Invalid, match="not a robot address"):
        notify.add_target(db, "S2", "x", "https://example.invalid/hook", "it-s2", T)
