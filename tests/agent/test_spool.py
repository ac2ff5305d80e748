"""The spool: committed before sending, sent in order, removed only on acknowledgement, bounded
by count and bytes with the oldest dropped first and counted, and nothing lost to a kill."""
from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agents.loop import make_report
from agents.clock import utc_now
from agents.spool import Spool, peek_status


@pytest.fixture
def spool_path(tmp_path):
    return tmp_path / "spool.db"


def add(spool: Spool, n: int = 1, size: int = 10) -> list[dict]:
    return [spool.add(make_report({"pad": "x" * size}, utc_now()))[0] for _ in range(n)]


def test_reports_get_increasing_sequence_numbers_and_come_out_in_order(spool_path):
    spool = Spool(spool_path, 100, 10**9)
    made = add(spool, 5)
    assert [r["seq"] for r in made] == [1, 2, 3, 4, 5]
    batch = spool.oldest(3)
    assert [r.id for r in batch] == [r["id"] for r in made[:3]]
    assert json.loads(batch[0].text) == made[0]


def test_only_acknowledged_reports_leave_and_they_count_as_sent(spool_path):
    spool = Spool(spool_path, 100, 10**9)
    made = add(spool, 3)
    assert spool.acknowledge([made[1]["id"], "not-ours"], "2026-11-29T06:00:00.000Z") == 1
    status = spool.status()
    assert [r.id for r in spool.oldest(10)] == [made[0]["id"], made[2]["id"]]
    assert (status.pending, status.spooled, status.sent, status.dropped) == (2, 3, 1, 0)
    assert status.last_success == "2026-11-29T06:00:00.000Z"


def test_the_count_bound_drops_the_oldest_and_counts_them(spool_path):
    spool = Spool(spool_path, 3, 10**9)
    made = add(spool, 5)
    assert [r.seq for r in spool.oldest(10)] == [3, 4, 5]
    assert spool.status().dropped == 2 and spool.status().pending == 3
    assert made[4]["seq"] == 5


def test_the_byte_bound_drops_the_oldest_and_counts_them(spool_path):
    probe = Spool(spool_path.with_name("probe.db"), 100, 10**9)
    probe.add(make_report({"pad": "x" * 1000}, utc_now()))
    one = probe.status().pending_bytes
    spool = Spool(spool_path, 100, int(one * 2.5))
    results = [spool.add(make_report({"pad": "x" * 1000}, utc_now())) for _ in range(4)]
    assert [dropped for _, dropped in results] == [0, 0, 1, 1]
    assert [r.seq for r in spool.oldest(10)] == [3, 4]
    assert spool.status().pending_bytes <= one * 2.5


def test_a_crash_between_send_and_ack_sends_the_same_reports_again(spool_path):
    spool = Spool(spool_path, 100, 10**9)
    add(spool, 3)
    sent_before = [(r.id, r.text) for r in spool.oldest(10)]
    spool.close()  # the process dies after sending, before the hub's answer was handled
    reopened = Spool(spool_path, 100, 10**9)
    assert [(r.id, r.text) for r in reopened.oldest(10)] == sent_before
    assert add(reopened)[0]["seq"] == 4  # numbering continues, never reused


def test_discarded_reports_count_as_dropped_and_failures_are_recorded(spool_path):
    spool = Spool(spool_path, 100, 10**9)
    made = add(spool, 2)
    spool.record_failure("2026-11-29T06:00:00.000Z", "hub answered 503 busy")
    assert spool.discard([made[0]["id"]]) == 1
    status = spool.status()
    assert (status.pending, status.dropped, status.last_error) == (1, 1, "hub answered 503 busy")
    spool.acknowledge([made[1]["id"]], "2026-11-29T06:01:00.000Z")
    assert spool.status().last_error is None


def test_a_report_is_on_disk_when_add_returns_even_if_the_process_is_killed(spool_path):
    script = (
        "import os, signal, sys\n"
        "from agents.spool import Spool\n"
        "spool = Spool(sys.argv[1], 100, 10**9)\n"
        "spool.add({'id': 'r-1', 'agent_time': '2026-11-29T06:00:00.000Z', 'body': {}})\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n")
    done = subprocess.run([sys.executable, "-c", script, str(spool_path)], timeout=60)
    assert done.returncode == -signal.SIGKILL
    assert [r.id for r in Spool(spool_path, 100, 10**9).oldest(10)] == ["r-1"]


def test_status_is_read_without_creating_or_changing_anything(spool_path):
    assert peek_status(spool_path) is None
    assert not spool_path.exists()
    spool = Spool(spool_path, 100, 10**9)
    add(spool, 2)
    assert peek_status(spool_path).pending == 2  # while the agent holds it open
    spool.close()
    assert peek_status(spool_path).spooled == 2  # and after it closed it


def test_status_of_a_spool_still_being_created_is_empty_not_an_error(spool_path):
    sqlite3.connect(spool_path).execute("PRAGMA journal_mode=WAL").close()  # `run` has just opened it
    assert peek_status(spool_path) is None


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.sampled_from(["add", "ack", "discard"]), st.integers(0, 4)), max_size=40),
       st.integers(1, 6))
def test_every_report_is_pending_sent_or_dropped_exactly_once_and_order_holds(tmp_path, steps, bound):
    path = tmp_path / f"spool-{uuid.uuid4()}.db"
    spool = Spool(path, bound, 10**9)
    for action, n in steps:
        if action == "add":
            add(spool, n)
        else:
            ids = [r.id for r in spool.oldest(10)][:n]
            (spool.acknowledge(ids, "2026-11-29T06:00:00.000Z") if action == "ack" else spool.discard(ids))
        status = spool.status()
        assert status.spooled == status.pending + status.sent + status.dropped
        assert status.pending <= bound
        seqs = [r.seq for r in spool.oldest(100)]
        assert seqs == sorted(seqs)
        if seqs:  # what is kept is always the newest
            assert seqs[-1] == status.spooled
    spool.close()
