"""The hub's jobs called directly with an injected `now` on a real database, the job wrapper,
the APScheduler service, and the group-commit writer."""
import logging
import sqlite3
import threading
from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest

from eduops import db as dbmod
from eduops.app import create_app
from eduops.clock import to_iso, utcnow
from eduops.audit import COMMAND_LINE
from eduops.errors import Conflict, Invalid, NotFound
from eduops.fleet import agents, commands, ingest, store
from eduops.fleet.agents import Identity
from eduops.jobs import hub_jobs, job_runs, job_service, last_job_successes, record_job_run, state_policy
from scheduler import fleet_jobs
from scheduler.fleet_jobs import RetentionPolicy
from scheduler.runner import Job, run_job
from scheduler.service import JobService
from scheduler.states import AgentClock
from tests.support.clock import Clock
from tests.support.fleet_kit import Agent, build_county, create_token, iso

MONDAY_10 = datetime(2026, 11, 30, 2, 0, tzinfo=timezone.utc)   # 10:00 in Huize


@pytest.fixture
def fleet(db_path, hub_config, fresh_db):
    """An in-process hub on the two-school county whose clock the test sets, and one enrolled agent."""
    build_county(db_path)
    clock = Clock(MONDAY_10)
    app = create_app(hub_config, clock)
    client = app.test_client()
    agent = Agent("", room="S1-R2")
    answer = client.post("/api/v1/enroll", json={"token": create_token(db_path), "instance_id": agent.instance_id,
                                                 "room": "S1-R2", "hardware": agent.hardware})
    assert answer.status_code == 201
    agent.key, agent.agent_id = answer.json["agent_key"], answer.json["agent_id"]

    def send(*reports):
        answer = client.post("/api/v1/reports", headers={"Authorization": f"Bearer {agent.key}"},
                             json={"sent_at": iso(clock.now), "reports": list(reports)})
        assert answer.status_code == 200, answer.json
        return answer.json

    return clock, agent, send, fresh_db


def count(db, table: str) -> int:
    return db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]


def test_retention_deletes_old_raw_reports_in_chunks_and_keeps_the_daily_rollup(fleet, hub_config):
    clock, agent, send, db = fleet
    clock.now = MONDAY_10 - timedelta(days=5)
    send(*(agent.report(made_at=clock.now) for _ in range(5)))
    clock.now = MONDAY_10
    send(agent.report(made_at=clock.now))
    days_before = db.execute("SELECT * FROM agent_days ORDER BY day").fetchall()
    policy = RetentionPolicy(raw_reports=timedelta(days=3), history=timedelta(days=400), chunk=2, max_chunks=10)
    summary = fleet_jobs.apply_retention(db, MONDAY_10, policy, store)
    assert summary == {"reports_deleted": 5, "history_deleted": 0}
    assert count(db, "reports") == 1
    assert db.execute("SELECT * FROM agent_days ORDER BY day").fetchall() == days_before
    assert [(r[1], r[3]) for r in days_before] == [("2026-11-25", 5), ("2026-11-30", 1)]  # (day, reports)


def test_retention_stops_after_its_chunks_and_finishes_on_the_next_run(fleet):
    clock, agent, send, db = fleet
    clock.now = MONDAY_10 - timedelta(days=5)
    send(*(agent.report() for _ in range(5)))
    policy = RetentionPolicy(raw_reports=timedelta(days=3), history=timedelta(days=400), chunk=2, max_chunks=1)
    assert fleet_jobs.apply_retention(db, MONDAY_10, policy, store)["reports_deleted"] == 2
    assert fleet_jobs.apply_retention(db, MONDAY_10, policy, store)["reports_deleted"] == 2
    assert count(db, "reports") == 1


def test_retention_deletes_old_state_history_and_finished_commands(fleet):
    clock, agent, send, db = fleet
    commands.queue_command(db, agent.agent_id, "send_inventory", MONDAY_10 - timedelta(days=500), timedelta(hours=1))
    fleet_jobs.expire_commands(db, MONDAY_10, store)
    pending = commands.queue_command(db, agent.agent_id, "send_inventory", MONDAY_10 - timedelta(days=500),
                                     commands.TTL_MAX)  # past its expiry, but no sweep marked it: still pending
    db.execute("UPDATE agent_states SET at = ?", [to_iso(MONDAY_10 - timedelta(days=401))])
    policy = RetentionPolicy(raw_reports=timedelta(days=3), history=timedelta(days=400))
    assert fleet_jobs.apply_retention(db, MONDAY_10, policy, store)["history_deleted"] == 2   # one state, one command
    assert [r[0] for r in db.execute("SELECT id FROM commands")] == [pending["id"]]


def test_expire_commands_marks_only_overdue_pending_ones(fleet):
    _, agent, send, db = fleet
    soon = commands.queue_command(db, agent.agent_id, "refresh_schedule", MONDAY_10, timedelta(minutes=5))
    later = commands.queue_command(db, agent.agent_id, "send_inventory", MONDAY_10, timedelta(hours=5))
    assert fleet_jobs.expire_commands(db, MONDAY_10 + timedelta(hours=1), store) == {"expired": 1}
    assert dict(db.execute("SELECT id, status FROM commands").fetchall()) == {soon["id"]: "expired",
                                                                              later["id"]: "pending"}


def test_queueing_a_command_for_a_retired_or_unknown_agent_is_refused(fleet):
    _, agent, _, db = fleet
    with pytest.raises(NotFound, match="ag_nobody"):
        commands.queue_command(db, "ag_nobody", "send_inventory", MONDAY_10, timedelta(hours=1))
    with pytest.raises(Invalid, match="unknown command"):
        commands.queue_command(db, agent.agent_id, "reboot", MONDAY_10, timedelta(hours=1))
    agents.retire(db, agent.agent_id, MONDAY_10, COMMAND_LINE)
    with pytest.raises(Conflict, match="retired"):
        commands.queue_command(db, agent.agent_id, "send_inventory", MONDAY_10, timedelta(hours=1))


def test_the_sweep_job_records_changes_and_a_report_newer_than_its_reading_wins(fleet, hub_config):
    clock, agent, send, db = fleet
    send(agent.report(made_at=MONDAY_10))
    policy = state_policy(hub_config)
    assert fleet_jobs.sweep_terminal_states(db, MONDAY_10 + timedelta(minutes=10), policy, store) == \
        {"changed": 1, "proposed": 0}
    assert db.execute("SELECT state FROM agents").fetchone()[0] == "offline"
    # A verdict reached from an older reading is not applied over a newer report.
    read_before = AgentClock(agent.agent_id, "offline", MONDAY_10)
    clock.now = MONDAY_10 + timedelta(minutes=11)
    send(agent.report(made_at=clock.now))
    assert store.record_verdicts(db, [(read_before, "expected_off")], [], clock.now) == 0
    assert db.execute("SELECT state FROM agents").fetchone()[0] == "online"


def test_a_failing_job_is_logged_counted_and_never_raises(fresh_db, caplog):
    def broken(db, now):
        raise RuntimeError("the disk is on fire")

    job = Job("broken", timedelta(minutes=1), broken)
    with caplog.at_level(logging.ERROR):
        assert run_job(job, fresh_db, MONDAY_10, record_job_run) is None
    assert "job broken failed" in caplog.text and "the disk is on fire" in caplog.text
    ok = Job("broken", timedelta(minutes=1), lambda db, now: {"done": 1})
    assert run_job(ok, fresh_db, MONDAY_10, record_job_run) == {"done": 1}
    [row] = job_runs(fresh_db)
    assert (row["runs"], row["failures"]) == (2, 1)
    assert "RuntimeError: the disk is on fire" in row["last_error"]
    assert row["last_success_at"] >= row["last_failure_at"]
    assert "broken" in last_job_successes(fresh_db)


def test_a_known_storage_fault_is_one_line_without_a_traceback(fresh_db, caplog):
    """A full disk fails jobs by the minute: the log says so plainly, it does not fill with tracebacks."""
    def full(db, now):
        raise sqlite3.OperationalError("database or disk is full")

    def unrecordable(db, name, ran_at, duration_s, error):
        raise sqlite3.OperationalError("database or disk is full")

    full_exc = sqlite3.OperationalError("database or disk is full")
    full_exc.sqlite_errorcode = sqlite3.SQLITE_FULL
    assert dbmod.storage_fault(full_exc) is not None
    known = lambda exc: "disk full" if isinstance(exc, sqlite3.OperationalError) else None  # noqa: E731
    with caplog.at_level(logging.ERROR):
        assert run_job(Job("full", timedelta(minutes=1), full), fresh_db, MONDAY_10, unrecordable,
                       known_fault=known) is None
    assert [r.getMessage() for r in caplog.records] == [
        "job full failed: disk full; it runs again on schedule",
        "could not record the run of job full: disk full; it runs again on schedule"]
    assert all(r.exc_info is None for r in caplog.records)


def test_every_hub_job_runs_on_an_empty_database(fresh_db, hub_config):
    for job in hub_jobs(hub_config):
        assert run_job(job, fresh_db, MONDAY_10, record_job_run) is not None, job.name
    assert {r["name"]: r["failures"] for r in job_runs(fresh_db)} == \
        {"sweep": 0, "expire_commands": 0, "retention": 0, "coverage_snapshot": 0, "expire_pending": 0,
         "finish_sessions": 0, "readiness": 0, "delivery": 0, "notify": 0, "notify_send": 0}


def test_the_job_service_runs_due_jobs_on_apscheduler_and_stops(fresh_db):
    ran = threading.Event()
    probe = Job("probe", timedelta(hours=1), lambda db, now: ran.set() or {"ran": 1})
    service = JobService([probe], lambda job: run_job(job, fresh_db, utcnow(), record_job_run), {}, utcnow)
    service.start()
    try:
        assert ran.wait(10), "the due job did not run"
    finally:
        service.stop()
    assert [r["name"] for r in job_runs(fresh_db)] == ["probe"]


def test_the_hubs_service_runs_the_hub_jobs_from_their_last_success(fresh_db, hub_config):
    run_job(hub_jobs(hub_config)[0], fresh_db, MONDAY_10, record_job_run)
    service = job_service(hub_config)
    assert [j.name for j in service.jobs] == ["sweep", "expire_commands", "retention", "coverage_snapshot",
                                             "expire_pending", "finish_sessions", "readiness", "delivery",
                                             "notify", "notify_send"]
    assert set(service.last_success) == {"sweep"}


def submission(agent_id: str, key_hash: str, uuid: str, move_to: str | None = None) -> ingest.Submission:
    row = ingest.ReportRow(uuid, 1, to_iso(MONDAY_10), to_iso(MONDAY_10), "2026-11-30", 1, None, None, "{}")
    return ingest.Submission(Identity(agent_id, "S1", "S1-R2", key_hash), [row], 0.0, MONDAY_10, move_to)


@pytest.mark.parametrize("order", [(0, 1, 2), (1, 2, 0)], ids=["failing first", "failing last"])
def test_one_failing_batch_in_a_group_does_not_take_the_others_with_it(fleet, caplog, order):
    _, agent, _, db = fleet
    key_hash = db.execute("SELECT key_hash FROM agents").fetchone()[0]
    good = submission(agent.agent_id, key_hash, "00000000-0000-4000-8000-00000000000a")
    bad = submission(agent.agent_id, key_hash, "00000000-0000-4000-8000-00000000000b", move_to="NO-SUCH-ROOM")
    revoked = submission(agent.agent_id, "not-the-key", "00000000-0000-4000-8000-00000000000c")
    group = [(bad, good, revoked)[n] for n in order]  # failing last: the others were recorded, then undone
    with caplog.at_level(logging.ERROR):
        assert ingest.write_group(db, group, Counter({"rejected:invalid": 2}), dbmod.StorageHealth())
    assert good.statuses == ["accepted"] and bad.statuses == []
    assert (bool(bad.failed), bool(good.failed), revoked.key_revoked) == (True, False, True)
    assert not any(s.done.locked() for s in (bad, good, revoked))  # every waiter woken
    assert [u for (u,) in db.execute("SELECT uuid FROM reports")] == [good.rows[0].uuid]
    assert db.execute("SELECT room_code FROM agents").fetchone()[0] == "S1-R2"
    assert dict(db.execute("SELECT outcome, count FROM ingest_counts").fetchall()) == \
        {"accepted": 1, "rejected:invalid": 2}


def test_batches_that_arrive_while_a_group_is_written_join_its_commit(fleet):
    _, agent, _, db = fleet
    key_hash = db.execute("SELECT key_hash FROM agents").fetchone()[0]
    first, *arriving = [submission(agent.agent_id, key_hash, f"00000000-0000-4000-8000-00000000002{n}")
                        for n in range(3)]
    waiting = list(arriving)
    group = [first]
    assert ingest.write_group(db, group, Counter(), dbmod.StorageHealth(), lambda: waiting.pop(0) if waiting else None)
    assert group == [first, *arriving] and not any(s.done.locked() for s in group)
    assert count(db, "reports") == 3


def test_a_group_that_cannot_commit_fails_every_batch_and_wakes_every_waiter(fleet, db_path):
    _, agent, _, db = fleet
    key_hash = db.execute("SELECT key_hash FROM agents").fetchone()[0]
    group = [submission(agent.agent_id, key_hash, f"00000000-0000-4000-8000-00000000001{n}") for n in range(3)]
    blocker = dbmod.connect(db_path)
    blocker.conn.execute("PRAGMA busy_timeout=0")
    blocker.conn.execute("BEGIN IMMEDIATE")        # another writer holds the database
    db.conn.execute("PRAGMA busy_timeout=0")
    try:
        assert ingest.write_group(db, group, Counter(), dbmod.StorageHealth()) is False
    finally:
        blocker.conn.execute("ROLLBACK")
        blocker.conn.close()
    assert all(s.failed and not s.done.locked() for s in group)
    assert count(db, "reports") == 0


def test_the_writer_commits_concurrent_batches_before_anyone_is_answered(fleet):
    _, agent, _, db = fleet
    key_hash = db.execute("SELECT key_hash FROM agents").fetchone()[0]
    writer = ingest.IngestWriter(db.conn.execute("PRAGMA database_list").fetchone()[2], dbmod.StorageHealth())
    subs = [submission(agent.agent_id, key_hash, f"00000000-0000-4000-8000-{n:012d}") for n in range(200)]
    seen_in_db: list[bool] = []

    def send(sub):
        writer.submit(sub, timeout_s=30)
        own = dbmod.connect(writer.db_path)
        try:
            seen_in_db.append(own.execute("SELECT 1 FROM reports WHERE uuid = ?", [sub.rows[0].uuid]).fetchone()
                              is not None)
        finally:
            own.conn.close()

    threads = [threading.Thread(target=send, args=(s,)) for s in subs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert seen_in_db == [True] * 200
    assert all(s.statuses == ["accepted"] for s in subs)
    assert count(db, "reports") == 200
    # acknowledged means durable: the writer commits with a full fsync, not WAL's NORMAL (defect 5)
    assert writer.synchronous_level == 2 and db.conn.execute("PRAGMA synchronous").fetchone()[0] == 1

