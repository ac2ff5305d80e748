"""Delivery metrics from a hand-made county at an injected time, clean for promtool."""
from datetime import timedelta

from prometheus_client import CollectorRegistry, generate_latest

from eduops import config as configmod
from eduops import db as dbmod
from eduops import metrics
from eduops.delivery import notify, recordings, store
from scheduler import delivery_jobs
from tests.support.delivery_kit import add_report, add_room_agent, add_session, add_user, build_county, utc
from tests.support.promtools import promtool

NOW = utc(2026, 12, 7, 1, 40)


def test_delivery_metrics_count_sessions_readiness_deliveries_recordings_and_robot_messages(db_path):
    build_county(db_path)
    db = dbmod.connect(db_path)
    host = add_user(db, "demo-teacher", "teacher", ["S1"])
    soon = add_session(db, host, NOW + timedelta(minutes=20), 45, receivers=("S2-R1", "S3-R1"))
    add_session(db, host, NOW + timedelta(hours=3), 45, receivers=("S2-R2",))          # not within 30 min
    held = add_session(db, host, NOW - timedelta(days=1), 45, kind="quality_course")
    add_session(db, host, NOW + timedelta(days=2), 45, state="pending")
    source, receiver = add_room_agent(db, "S1-B"), add_room_agent(db, "S2-R1")
    add_report(db, source, NOW - timedelta(minutes=1))
    add_report(db, receiver, NOW - timedelta(minutes=1))
    delivery_jobs.check_readiness(db, NOW, [30, 10], -75, store)       # S2-R1 ready, S3-R1 not (no agent)
    add_report(db, source, NOW - timedelta(days=1) + timedelta(minutes=10))
    add_report(db, receiver, NOW - timedelta(days=1) + timedelta(minutes=10))
    delivery_jobs.record_deliveries(db, NOW, timedelta(days=3), store)
    with dbmod.write(db):
        recordings.record_recordings(db, source, "2026-12-07T01:39:00Z", [(str(soon), "scheduled", None, None),
                                                                     (str(held), "failed", "camera gone", None)])
    target = notify.add_target(db, None, "县电教中心群", "json://127.0.0.1:9/x", "admin", NOW)
    with dbmod.write(db):
        db.execute("INSERT INTO notify_outbox (target_id, event_key, event, created_at, next_attempt_at) "
                   "VALUES (?, 'k', 'approved', ?, ?)", [target, "2026-12-07T01:00:00Z", "2026-12-07T01:00:00Z"])
    message = db.execute("SELECT id FROM notify_outbox").fetchone()[0]
    notify.record_attempt(db, message, "refused", NOW, timedelta(minutes=1), 8)
    notify.record_attempt(db, message, "", NOW, timedelta(minutes=1), 8)
    db.conn.close()

    config = configmod.load(env={}, overrides={"db_path": db_path, "secret_key": "x"})
    registry = CollectorRegistry()
    registry.register(metrics.HubCollector(config, metrics.SECTIONS, clock=lambda: NOW))
    text = generate_latest(registry).decode()
    for line in ('eduops_sessions{kind="open_lesson",state="booked"} 2.0',
                 'eduops_sessions{kind="open_lesson",state="pending"} 1.0',
                 'eduops_sessions{kind="quality_course",state="booked"} 1.0',
                 'eduops_sessions{kind="teacher_training",state="booked"} 0.0',
                 'eduops_session_receivers{ready="yes"} 1.0', 'eduops_session_receivers{ready="no"} 1.0',
                 'eduops_session_receivers{ready="unchecked"} 0.0',
                 'eduops_sessions_held_total{area="main_urban",kind="quality_course"} 1.0',
                 'eduops_session_seconds_total{area="main_urban",kind="quality_course"} 2700.0',
                 'eduops_sessions_held_total{area="zhehai",kind="quality_course"} 0.0',
                 'eduops_recordings{state="scheduled"} 1.0', 'eduops_recordings{state="failed"} 1.0',
                 'eduops_recordings{state="recording"} 0.0',
                 'eduops_notifications_sent_total 1.0', 'eduops_notification_failures_total 1.0',
                 'eduops_notifications_given_up_total 0.0', 'eduops_notifications_pending 0.0'):
        assert line in text, line
    check = promtool("check", "metrics", stdin=text)
    assert check.returncode == 0 and not check.stdout.strip() and not check.stderr.strip(), check.stdout + check.stderr
