"""Delivery end to end: a real hub, agents reporting over HTTP, bookings through the API, the jobs run
with `eduops jobs run`, and every notification reaching a real HTTP sink on loopback; a dead robot
loses nothing."""
from datetime import datetime, timedelta, timezone

import pytest
import requests

from eduops import db as dbmod
from eduops.clock import to_iso
from eduops.delivery import notify
from tests.support.delivery_kit import add_session, build_county
from tests.support.fleet_kit import Agent, create_token, eduops, query, wait_for
from tests.support.hubprocess import HubProcess
from tests.support.bookings_county import add_token, add_user, at, live_settings, next_school_monday
from tests.support.robot_sink import Sink, dead_url

pytestmark = pytest.mark.e2e
TODAY = datetime.now(timezone.utc).date()
MONDAY = next_school_monday(TODAY)


def run_job(db_path, name, now: datetime | None = None):
    done = eduops("jobs", "run", name, "--db", str(db_path), *(["--now", to_iso(now), "--write"] if now else []))
    assert done.returncode == 0, done.stderr


def test_readiness_and_booking_decisions_reach_the_robot_and_a_dead_one_loses_nothing(db_path):
    build_county(db_path)
    database = dbmod.connect(db_path)
    tokens = {name: add_token(database, add_user(database, name, role, schools))
              for name, role, schools in [("teacher", "teacher", ["S1"]), ("admin", "admin", []),
                                          ("it-s2", "it_staff", ["S2"])]}
    sink = Sink()
    notify.add_target(database, None, "县电教中心群", sink.url, "admin", datetime.now(timezone.utc))
    notify.add_target(database, "S2", "者海镇中心小学信息群", dead_url(), "it-s2", datetime.now(timezone.utc))
    database.conn.close()
    hub = HubProcess(db_path, env=live_settings(TODAY))
    try:
        def api(who, method, path, **kw):
            return requests.request(method, hub.url + path, headers={"Authorization": f"Bearer {tokens[who]}"},
                                    timeout=30, **kw)

        def book(who, start, **extra):
            body = {"kind": "open_lesson", "title": "三年级数学公开课", "source_room": "S1-B",
                    "starts_at": at(MONDAY, start).isoformat(),
                    "ends_at": (at(MONDAY, start) + timedelta(minutes=45)).isoformat(),
                    "receiving_rooms": ["S2-R1"], "recorded": True, **extra}
            answer = api(who, "POST", "/api/v1/sessions", json=body)
            assert answer.status_code == 201, answer.text          # a dead robot never holds up a booking
            return answer.json()["sessions"][0]

        def told(text, now=None):
            run_job(db_path, "notify")
            run_job(db_path, "notify_send", now)   # as of the readiness check's time, for its messages
            return wait_for(lambda: any(text in m["message"] for m in sink.received), 20)

        lesson = book("teacher", "10:00")
        assert lesson["state"] == "pending"
        approved = api("admin", "POST", f"/api/v1/sessions/{lesson['id']}/approve",
                       json={"version": lesson["version"], "scope": "this"})
        assert approved.status_code == 200, approved.text
        assert told("已通过审批"), sink.received

        # Real agents in the source room and the receiving room; the receiver's display is off.
        for room, screen_on in (("S1-B", True), ("S2-R1", False)):
            agent = Agent(hub.url, room=room, hostname=f"pc-{room}")
            assert agent.enroll(create_token(db_path, room.split("-")[0])).status_code == 201
            report = agent.report()
            report["body"]["displays"][0]["screen_on"] = screen_on
            assert agent.send(report).status_code == 200
        run_job(db_path, "readiness", at(MONDAY, "09:30"))
        assert told("开始前 30 分钟尚未就绪：三(1)班教室：显示屏未开", at(MONDAY, "09:30")), sink.received

        cancelled = api("teacher", "POST", f"/api/v1/sessions/{lesson['id']}/cancel",
                        json={"version": approved.json()["sessions"][0]["version"], "scope": "this", "reason": "停电"})
        assert cancelled.status_code == 200, cancelled.text
        assert told("已取消：停电")

        moved = book("admin", "14:00")                                 # the admin's own: booked at once
        changed = api("admin", "PATCH", f"/api/v1/sessions/{moved['id']}", json={
            "version": moved["version"], "scope": "this", "starts_at": at(MONDAY, "15:00").isoformat(),
            "ends_at": at(MONDAY, "15:45").isoformat()})
        assert changed.status_code == 200, changed.text
        assert told("有变更：现为")

        refused = book("teacher", "11:00")
        assert api("admin", "POST", f"/api/v1/sessions/{refused['id']}/reject",
                   json={"version": refused["version"], "scope": "this", "reason": "与县教研冲突"}).status_code == 200
        assert told("未通过审批：与县教研冲突")

        # The dead robot: every message to it failed and waits for its next try; nothing else was harmed.
        dead = query(db_path, "SELECT o.attempts, o.sent_at, o.last_error FROM notify_outbox o "
                     "JOIN notify_targets t ON t.id = o.target_id WHERE t.school_code = 'S2'")
        assert dead and all(attempts >= 1 and sent is None and error for attempts, sent, error in dead)
        assert dict(query(db_path, "SELECT id, state FROM sky_sessions")) == {
            lesson["id"]: "cancelled", moved["id"]: "booked", refused["id"]: "rejected"}
        assert len([m for m in sink.received if "已通过审批" in m["message"]]) == 1   # each told once
    finally:
        hub.stop()
        sink.close()
    assert "Traceback" not in hub.output


def test_delivery_records_which_receivers_had_an_agent_reporting_during_the_session(db_path):
    build_county(db_path)
    database = dbmod.connect(db_path)
    host = add_user(database, "demo-teacher", "teacher", ["S1"]).id
    start = datetime.now(timezone.utc) - timedelta(minutes=1)
    session = add_session(database, host, start, 0, seconds=75, receivers=("S2-R1", "S2-R2"))
    database.conn.close()
    hub = HubProcess(db_path)
    try:
        for room in ("S1-B", "S2-R1"):                                # S2-R2 has no agent: not reached
            agent = Agent(hub.url, room=room, hostname=f"pc-{room}")
            assert agent.enroll(create_token(db_path, room.split("-")[0])).status_code == 201
            assert agent.send().status_code == 200
        while datetime.now(timezone.utc) < start + timedelta(seconds=76):
            wait_for(lambda: False, 0.5)
        run_job(db_path, "delivery")
        assert query(db_path, "SELECT held, receivers, receivers_reached, hours FROM deliveries WHERE session_id = ?",
                     [session]) == [(1, 2, 1, round(75 / 3600, 4))]
        page = requests.get(hub.url + "/metrics", timeout=10).text
        assert 'eduops_sessions_held_total{area="main_urban",kind="open_lesson"} 1.0' in page
    finally:
        hub.stop()
    assert "Traceback" not in hub.output
