"""`eduops jobs run NAME --now T` rehearses: it prints what the job would change at T and writes
nothing; writing at another time needs --write, and retention never deletes what is younger than
its keeping time by the real clock (defect 8)."""
from __future__ import annotations

from datetime import timedelta

import pytest

from eduops.app import create_app
from eduops.clock import utcnow
from tests.support.fleet_kit import Agent, build_county, create_token, eduops, iso, query

pytestmark = pytest.mark.e2e  # starts real hub processes

EVERYTHING = ("SELECT (SELECT group_concat(state || coalesce(retire_proposed_at, '-')) FROM agents), "
              "(SELECT COUNT(*) FROM agent_states), (SELECT COUNT(*) FROM reports), "
              "(SELECT group_concat(status) FROM commands), (SELECT COUNT(*) FROM job_runs)")


@pytest.fixture
def fleet_db(db_path, hub_config, fresh_db):
    """One agent that reported just now, with a pending command."""
    build_county(db_path)
    client = create_app(hub_config).test_client()
    agent = Agent("", room="S1-R1")
    enrolled = client.post("/api/v1/enroll", json={"token": create_token(db_path), "instance_id": agent.instance_id,
                                                   "room": "S1-R1", "hardware": agent.hardware})
    assert enrolled.status_code == 201
    key, agent_id = enrolled.json["agent_key"], enrolled.json["agent_id"]
    sent = client.post("/api/v1/reports", headers={"Authorization": f"Bearer {key}"},
                       json={"sent_at": iso(utcnow()), "reports": [agent.report()]})
    assert sent.status_code == 200
    queued = eduops("terminals", "command", agent_id, "send_inventory", "--db", str(db_path))
    assert queued.returncode == 0, queued.stderr
    return db_path


def jobs_run(db_path, *args: str):
    return eduops("jobs", "run", *args, "--db", str(db_path))


def test_a_rehearsal_at_a_future_moment_says_what_would_change_and_writes_nothing(fleet_db):
    before = query(fleet_db, EVERYTHING)
    future = (utcnow() + timedelta(days=45)).isoformat()
    for job, would in (("sweep", "proposed 1"), ("expire_commands", "expired 1"), ("retention", "reports_deleted 0"),
                       ("coverage_snapshot", "")):
        done = jobs_run(fleet_db, job, "--now", future)
        assert done.returncode == 0, done.stderr
        assert "would do:" in done.stdout and would in done.stdout and "nothing was written" in done.stdout
        assert query(fleet_db, EVERYTHING) == before, job


def test_writing_at_another_time_needs_write_and_retention_keeps_what_is_young_by_the_real_clock(fleet_db):
    future = (utcnow() + timedelta(days=45)).isoformat()
    done = jobs_run(fleet_db, "retention", "--now", future, "--write")
    assert done.returncode == 0 and "reports_deleted 0" in done.stdout
    assert query(fleet_db, "SELECT COUNT(*) FROM reports") == [(1,)]
    swept = jobs_run(fleet_db, "sweep", "--now", future, "--write")
    assert swept.returncode == 0 and "proposed 1" in swept.stdout
    assert query(fleet_db, "SELECT retire_proposed_at IS NOT NULL FROM agents") == [(1,)]
    alone = jobs_run(fleet_db, "sweep", "--write")
    assert alone.returncode == 2 and "--write goes with --now" in alone.stderr


def test_command_expiries_are_bounded_like_the_apis_and_zero_is_not_a_day(fleet_db):
    agent_id = query(fleet_db, "SELECT id FROM agents")[0][0]
    for expires in ("0s", "30s", "31d"):
        refused = eduops("terminals", "command", agent_id, "refresh_schedule", "--expires", expires,
                         "--db", str(fleet_db))
        assert refused.returncode == 1 and "from 60 seconds to 30 days" in refused.stderr, expires
    assert eduops("terminals", "command", agent_id, "refresh_schedule", "--expires", "2h",
                  "--db", str(fleet_db)).returncode == 0
    assert query(fleet_db, "SELECT COUNT(*) FROM commands") == [(2,)]


def test_terminals_list_names_the_proposal_time_for_what_it_is(fleet_db):
    future = (utcnow() + timedelta(days=45)).isoformat()
    assert jobs_run(fleet_db, "sweep", "--now", future, "--write").returncode == 0
    listed = eduops("terminals", "list", "--db", str(fleet_db)).stdout
    assert "retirement proposed" in listed and "silent since" not in listed
