"""The agent loop: one cycle at a time with injected time and randomness, against a real HTTP
server on 127.0.0.1 with canned protocol answers and a real spool file. Nothing sleeps."""
from __future__ import annotations

import logging
import random
import threading
import time
from datetime import datetime, timedelta, timezone

import pytest
import requests

from agents import config, i18n
from agents.client import HubClient
from agents.clock import to_iso
from agents.loop import Agent, backoff, jittered, retry_delay, run
from agents.spool import Spool
from agents.state import Enrollment, State
from tests.support.cannedhub import CUT, Canned

T0 = datetime(2026, 11, 29, 0, 0, tzinfo=timezone.utc)


class Clock:
    def __init__(self):
        self.now = T0

    def __call__(self):
        return self.now

    def advance(self, seconds: float) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now


class CountingProbes:
    """A stand-in for SystemProbes (as the demo's simulation will be): numbered bodies."""

    def __init__(self):
        self.hub_urls = []

    def collect(self, now, hub_url):
        self.hub_urls.append(hub_url)
        return {"n": len(self.hub_urls)}


@pytest.fixture
def make_agent(tmp_path, canned_hub):
    made = []

    def make(enrolled: bool = True, **overrides) -> Agent:
        directory = tmp_path / f"agent{len(made)}"
        settings = config.load(overrides={"state_dir": str(directory), "start_delay_max_s": 0, **overrides})
        state = State(directory)
        state.create()
        if enrolled:
            enroll(state, canned_hub.url)
        session = requests.Session()
        clock = Clock()
        agent = Agent(settings, state, Spool(state.spool_path, settings.spool_max_reports,
                                             settings.spool_max_bytes),
                      HubClient(session, 5, clock=clock), CountingProbes(), clock=clock, rng=random.Random(7))
        made.append((agent, session))
        return agent
    yield make
    for agent, session in made:
        agent.spool.close()
        session.close()


def enroll(state: State, hub_url: str) -> None:
    state.save_enrollment(Enrollment(hub_url=hub_url, agent_id="ag_1", school="S1", room="R1", terminal=None,
                                     enrolled_at=to_iso(T0), key="ak_secret"))


def bodies(hub) -> list[list[int]]:
    return [[r["body"]["n"] for r in s.body["reports"]] for s in hub.seen if s.path == "/api/v1/reports"]


# --- timing maths ------------------------------------------------------------------------------

def test_backoff_is_full_jitter_under_a_doubling_capped_window():
    rng = random.Random(1)
    for failures in range(1, 30):
        window = min(300, 5 * 2 ** (failures - 1))
        delays = [backoff(failures, 5, 300, rng) for _ in range(200)]
        assert all(0 <= d <= window for d in delays)
        assert max(delays) > window * 0.9 and min(delays) < window * 0.1  # the whole window is used


def test_after_a_county_wide_outage_agents_do_not_come_back_in_the_same_second():
    rng = random.Random(2)
    delays = [backoff(10, 5, 300, rng) for _ in range(20_000)]
    per_second = {}
    for d in delays:
        per_second[int(d)] = per_second.get(int(d), 0) + 1
    assert max(per_second.values()) < 150  # spread over 300 s: about 67 a second, never a stampede


def test_retry_after_is_honoured_capped_and_jittered_on_top():
    rng = random.Random(3)
    delays = [retry_delay(1, 30, 5, 300, rng) for _ in range(500)]
    assert all(30 <= d <= 35 for d in delays) and len({round(d, 3) for d in delays}) > 400
    assert all(300 <= retry_delay(1, 86_400, 5, 300, rng) <= 305 for _ in range(50))


def test_interval_jitter_stays_within_its_fraction():
    rng = random.Random(4)
    values = [jittered(60, 0.1, rng) for _ in range(1000)]
    assert all(54 <= v <= 66 for v in values) and max(values) - min(values) > 10


def test_start_delay_is_random_up_to_its_maximum(make_agent):
    agent = make_agent(start_delay_max_s=120)
    delays = [agent.start_delay() for _ in range(500)]
    assert all(0 <= d <= 120 for d in delays) and max(delays) - min(delays) > 100


# --- cycles ------------------------------------------------------------------------------------

def test_a_cycle_spools_then_sends_and_follows_the_hubs_interval(make_agent, canned_hub):
    canned_hub.interval_s = 120
    agent = make_agent()
    result = agent.cycle(T0)
    assert (result.status, result.reported, result.sent, result.pending) == ("sent", True, 1, 0)
    assert 108 <= result.next_in_s <= 132  # the hub's 120 s with the agent's 10% jitter
    assert canned_hub.seen[0].body["reports"][0]["seq"] == 1
    assert agent.spool.status().sent == 1
    early = agent.cycle(T0 + timedelta(seconds=60))
    assert (early.reported, len(canned_hub.seen)) == (False, 1)  # nothing due yet, nothing sent


def test_a_hub_interval_out_of_bounds_is_clamped(make_agent, canned_hub):
    canned_hub.interval_s = 0.5
    assert make_agent().cycle(T0).next_in_s >= 9  # 10 s minus jitter, never a hammering agent


def test_before_enrollment_reports_are_kept_then_sent_in_order_and_in_batches(make_agent, canned_hub):
    agent = make_agent(enrolled=False, batch_size=2, jitter=0)
    for minute in range(5):
        result = agent.cycle(T0 + timedelta(minutes=minute))
        assert (result.status, result.reported) == ("not_enrolled", True)
    assert canned_hub.seen == [] and agent.spool.status().pending == 5
    enroll(agent.state, canned_hub.url)
    result = agent.cycle(T0 + timedelta(minutes=5))
    assert (result.status, result.sent, result.pending) == ("sent", 6, 0)
    assert bodies(canned_hub) == [[1, 2], [3, 4], [5, 6]]
    assert agent.probes.hub_urls[-1] == canned_hub.url  # once enrolled, the hub is probed too


def test_a_busy_hub_is_retried_after_retry_after_with_backoff_while_reports_keep_coming(make_agent, canned_hub):
    agent = make_agent(backoff_base_s=5)
    canned_hub.then(Canned(503, {"error": "busy", "message": "starting"}, {"Retry-After": "200"}))
    failed = agent.cycle(T0)
    assert (failed.status, failed.pending) == ("retry", 1)
    assert failed.next_in_s < 70  # the next report is due before the retry
    later = agent.cycle(T0 + timedelta(seconds=failed.next_in_s))
    assert (later.status, later.reported, later.pending) == ("waiting", True, 2)
    assert len(canned_hub.seen) == 1  # the hub asked for 200 s of quiet and got it
    retry_at = T0 + timedelta(seconds=200)
    assert agent.cycle(retry_at - timedelta(seconds=1)).status == "waiting"
    sent = agent.cycle(retry_at + timedelta(seconds=5))
    assert (sent.status, sent.pending) == ("sent", 0)
    assert sent.sent == agent.spool.status().spooled >= 3
    assert agent.spool.status().last_error is None


def test_repeated_failures_widen_the_backoff_window(make_agent, canned_hub):
    agent = make_agent(backoff_base_s=5, backoff_cap_s=300, interval_s=3600)
    canned_hub.then(*[Canned(500, {"error": "internal", "message": "bug"})] * 12)
    now, waits = T0, []
    for _ in range(12):
        result = agent.cycle(now)
        assert result.status == "retry"
        waits.append(result.next_in_s)
        now += timedelta(seconds=result.next_in_s)
    assert agent.failures == 12
    assert max(waits[:2]) <= 10 and max(waits[6:]) > 40 and max(waits) <= 300


def test_a_crash_between_send_and_ack_resends_the_same_ids_and_the_hub_holds_each_once(make_agent, canned_hub):
    agent = make_agent()
    canned_hub.then(CUT)  # the hub commits the batch, the answer is lost
    first = agent.cycle(T0)
    assert (first.status, first.pending) == ("retry", 1)
    second = agent.cycle(T0 + timedelta(seconds=first.next_in_s + 61))
    assert (second.status, second.sent, second.pending) == ("sent", 2, 0)
    ids = canned_hub.report_ids()
    assert ids[1][0] == ids[0][0]  # the same report, with the same id, went again
    assert sorted(canned_hub.held) == sorted(set(ids[0] + ids[1]))  # and the hub holds it once
    assert agent.spool.status().sent == 2


def test_a_revoked_key_keeps_reports_until_enrolled_again(make_agent, canned_hub, caplog):
    caplog.set_level(logging.INFO, logger="agents")
    agent = make_agent(jitter=0)
    canned_hub.then(Canned(401, {"error": "unauthorized", "message": "agent key revoked", "reenroll": True}))
    revoked = agent.cycle(T0)
    assert (revoked.status, revoked.pending) == ("revoked", 1)
    assert agent.state.enrollment().revoked_at == to_iso(T0)
    assert "no longer accepts this agent's key" in caplog.text
    for minute in range(1, 4):
        assert agent.cycle(T0 + timedelta(minutes=minute, seconds=10)).status == "revoked"
    assert len(canned_hub.seen) == 1  # a refused key is not tried again and again
    assert agent.spool.status().pending == 4 and agent.spool.status().dropped == 0
    enroll(agent.state, canned_hub.url)  # IT staff run `eduops-agent enroll` again
    back = agent.cycle(T0 + timedelta(minutes=4, seconds=20))
    assert (back.status, back.sent, back.pending) == ("sent", 5, 0)
    assert caplog.text.count("delivering: the hub at") == 1  # the first delivery of this process


def test_the_first_delivery_and_each_recovery_are_logged_once(make_agent, canned_hub, caplog):
    caplog.set_level(logging.INFO, logger="agents")
    agent = make_agent(jitter=0)
    now = T0
    for answer in (None, None, Canned(503, {"error": "busy"}), Canned(503, {"error": "busy"}), None, None):
        if answer:
            canned_hub.then(answer)
        now += timedelta(seconds=agent.cycle(now).next_in_s + 1)
    said = [r.getMessage() for r in caplog.records if r.getMessage().startswith("delivering")]
    assert len(said) == 2, said
    assert said[0].startswith(f"delivering: the hub at {canned_hub.url} acknowledged 1 report(s)")
    assert said[1].startswith("delivering again after 2 failed attempt(s): 1 report(s) from the spool")


def test_the_agent_speaks_chinese_on_a_chinese_system(make_agent, canned_hub, caplog):
    caplog.set_level(logging.INFO, logger="agents")
    i18n.use("zh_CN")
    try:
        agent = make_agent(enrolled=False)
        agent.cycle(T0)
    finally:
        i18n.use("en")
    assert "尚未注册" in caplog.text


def test_a_report_the_hub_finds_bad_is_isolated_by_halving_and_dropped_alone(make_agent, canned_hub):
    agent = make_agent(enrolled=False, batch_size=8, jitter=0)
    for minute in range(6):
        agent.cycle(T0 + timedelta(minutes=minute))
    bad = agent.spool.oldest(10)[3].id

    def judge(request):
        if bad in [r["id"] for r in request.body["reports"]]:
            return Canned(400, {"error": "invalid", "message": "body.network: wrong type"})
        return None  # the normal answer
    canned_hub.then(*[judge] * 20)
    enroll(agent.state, canned_hub.url)
    result = agent.cycle(T0 + timedelta(minutes=6))
    assert (result.status, result.sent, result.dropped, result.pending) == ("sent", 6, 1, 0)
    assert bad not in canned_hub.held and len(canned_hub.held) == 6
    assert len(canned_hub.seen) <= 8  # halving, not one request per report
    assert agent.spool.status().dropped == 1


def test_an_agent_the_hub_refuses_keeps_its_reports_and_asks_rarely(make_agent, canned_hub):
    agent = make_agent(backoff_cap_s=300)
    canned_hub.then(Canned(403, {"error": "forbidden", "message": "room R1 belongs to another school"}))
    result = agent.cycle(T0)
    assert (result.status, result.dropped, result.pending) == ("refused", 0, 1)
    assert "another school" in agent.spool.status().last_error
    assert agent.cycle(T0 + timedelta(seconds=290)).status == "waiting"
    assert agent.cycle(T0 + timedelta(seconds=301)).status == "sent"


def test_a_hub_that_holds_nothing_it_was_sent_does_not_make_the_agent_spin(make_agent, canned_hub):
    agent = make_agent()
    canned_hub.then(Canned(200, {"results": [], "next_report_in_s": 60, "commands": []}))
    result = agent.cycle(T0)
    assert (result.status, result.pending, len(canned_hub.seen)) == ("retry", 1, 1)


def test_commands_are_acknowledged_done_failed_or_expired(make_agent, canned_hub):
    canned_hub.commands = [
        {"id": "cmd_1", "kind": "refresh_schedule", "expires_at": "2026-11-29T01:00:00Z", "args": {}},
        {"id": "cmd_2", "kind": "send_full_inventory", "expires_at": "2026-11-28T23:00:00Z", "args": {}}]
    make_agent().cycle(T0)
    acks = {s.path: s.body for s in canned_hub.seen if "/ack" in s.path}
    assert acks["/api/v1/commands/cmd_1/ack"]["status"] == "failed"
    assert "cannot do 'refresh_schedule'" in acks["/api/v1/commands/cmd_1/ack"]["detail"]
    assert acks["/api/v1/commands/cmd_2/ack"] == {"status": "failed",
                                                  "detail": "expired before the agent received it"}
    assert all(s.headers["Authorization"] == "Bearer ak_secret" for s in canned_hub.seen)


def test_a_command_handler_can_be_passed_in(make_agent, canned_hub):
    canned_hub.commands = [{"id": "cmd_3", "kind": "refresh_schedule", "expires_at": None, "args": {}}]
    agent = make_agent()
    agent.on_command = lambda command: ("done", f"did {command['kind']}")
    agent.cycle(T0)
    assert canned_hub.seen[-1].body == {"status": "done", "detail": "did refresh_schedule"}


def test_the_spool_bound_drops_the_oldest_while_the_hub_is_away(make_agent, canned_hub):
    agent = make_agent(enrolled=False, spool_max_reports=100, jitter=0)
    dropped = sum(agent.cycle(T0 + timedelta(minutes=m)).dropped for m in range(130))
    assert dropped == 30 and agent.spool.status().dropped == 30
    assert agent.spool.oldest(1)[0].seq == 31


def test_a_clock_set_back_does_not_silence_the_agent(make_agent, canned_hub):
    agent = make_agent(interval_s=60, jitter=0)
    agent.cycle(T0)
    back = T0 - timedelta(hours=3)  # a time sync moved the clock three hours back
    assert agent.cycle(back).reported is False
    assert agent.cycle(back + timedelta(seconds=61)).reported is True


# --- run ---------------------------------------------------------------------------------------

def test_run_stops_as_soon_as_the_stop_event_is_set(make_agent):
    agent = make_agent(start_delay_max_s=3600)
    worker = threading.Thread(target=run, args=(agent,))
    worker.start()
    agent.stop.set()
    worker.join(5)
    assert not worker.is_alive() and agent.spool.status().spooled == 0


def test_run_survives_a_failing_cycle_and_carries_on(make_agent, caplog):
    agent = make_agent(backoff_base_s=0.1, backoff_cap_s=1)
    stop = agent.stop

    class Flaky:
        calls = 0

        def collect(self, now, hub_url):
            Flaky.calls += 1
            if Flaky.calls == 1:
                raise RuntimeError("a bug in a probe")
            stop.set()
            return {"n": Flaky.calls}
    agent.probes = Flaky()
    started = time.monotonic()
    run(agent)
    assert time.monotonic() - started < 5
    assert "cycle failed" in caplog.text and "a bug in a probe" in caplog.text
    assert agent.spool.status().spooled == 1


def test_stopping_ends_a_backlog_between_batches_and_keeps_the_rest(make_agent, canned_hub):
    agent = make_agent(enrolled=False, batch_size=2, jitter=0)
    for minute in range(6):
        agent.cycle(T0 + timedelta(minutes=minute))
    enroll(agent.state, canned_hub.url)

    def then_stop(request):
        agent.stop.set()  # SIGTERM arrives while the first batch is on its way
        return None
    canned_hub.then(then_stop)
    result = agent.cycle(T0 + timedelta(minutes=6))
    assert (result.status, result.sent, result.pending) == ("stopped", 2, 5)
    assert len(canned_hub.seen) == 1


def test_an_agent_enrolled_in_process_reports_as_the_demo_swarm_will(tmp_path, canned_hub):
    from agents.enrollment import enroll as enroll_agent
    settings = config.load(overrides={"state_dir": str(tmp_path), "start_delay_max_s": 0})
    state = State(tmp_path)
    with requests.Session() as session:
        client = HubClient(session, 5)
        answer = enroll_agent(client, state, hub_url=canned_hub.url + "/", token="et_demo", room="R-101",
                              hardware={"hostname": "sim-101", "machine_id": "m-101", "macs": [],
                                        "display_serials": []}, os_name="Windows 10 (10.0.19045)", now=T0)
        assert answer.outcome.value == "ok"
        assert state.enrollment().hub_url == canned_hub.url and state.enrollment().key == "ak_secret"
        assert canned_hub.seen[0].body["hardware"]["hostname"] == "sim-101"
        spool = Spool(state.spool_path, settings.spool_max_reports, settings.spool_max_bytes)
        agent = Agent(settings, state, spool, client, CountingProbes(), clock=Clock(), rng=random.Random(9))
        assert agent.cycle(T0).status == "sent" and len(canned_hub.held) == 1
        spool.close()
