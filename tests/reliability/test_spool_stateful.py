"""A Hypothesis state machine over the agent's spool: reports added, batches taken and acknowledged
(with replays and ids the spool never had), refused for good, the process restarted at any point,
under count and byte bounds. At every step the spool holds exactly what a plain model says: the
newest reports that fit, in order, each pending, sent or dropped exactly once."""
from __future__ import annotations

import json
import tempfile
import uuid
from pathlib import Path

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from agents.spool import Spool

WHEN = "2026-11-29T06:00:00.000Z"


class SpoolMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self.dir = tempfile.TemporaryDirectory()
        self.path = Path(self.dir.name) / "spool.db"
        self.max_reports, self.max_bytes = 5, 1200
        self.spool = Spool(self.path, self.max_reports, self.max_bytes)
        self.pending: dict[str, tuple[int, int]] = {}   # id -> (seq, bytes), oldest first
        self.seq = self.sent = self.dropped = 0
        self.in_flight: list[str] = []                 # the last batch taken, as a sender holds it
        self.settled: set[int] = set()                 # seqs the hub acknowledged or refused for good

    def teardown(self):
        self.spool.close()
        self.dir.cleanup()

    @rule(padding=st.integers(0, 400), text=st.text(max_size=20))
    def add(self, padding, text):
        report = {"id": str(uuid.uuid4()), "agent_time": WHEN, "body": {"note": text, "pad": "x" * padding}}
        spooled, dropped = self.spool.add(report)
        self.seq += 1
        assert spooled["seq"] == self.seq
        size = len(json.dumps({**report, "seq": self.seq}, ensure_ascii=False, separators=(",", ":")).encode())
        self.pending[report["id"]] = (self.seq, size)
        expected = 0
        while self.pending and (len(self.pending) > self.max_reports or
                                sum(b for _, b in self.pending.values()) > self.max_bytes):
            del self.pending[next(iter(self.pending))]
            expected += 1
        assert dropped == expected
        self.dropped += expected

    @rule(limit=st.integers(1, 4))
    def take_batch(self, limit):
        batch = self.spool.oldest(limit)
        assert [r.id for r in batch] == list(self.pending)[:limit]
        self.in_flight = [r.id for r in batch]

    @precondition(lambda self: self.in_flight)
    @rule(data=st.data(), replay=st.booleans(), unknown=st.booleans())
    def hub_acknowledges(self, data, replay, unknown):
        held = data.draw(st.lists(st.sampled_from(self.in_flight), unique=True))
        ids = held + (held if replay else []) + ([str(uuid.uuid4())] if unknown else [])
        removed = self.spool.acknowledge(ids, WHEN)
        still = [i for i in held if i in self.pending]
        assert removed == len(still)
        for i in still:
            self.settled.add(self.pending.pop(i)[0])
        self.sent += len(still)

    @precondition(lambda self: self.in_flight)
    @rule()
    def hub_refuses_the_first_for_good(self):
        first = self.in_flight[0]
        assert self.spool.discard([first]) == (1 if first in self.pending else 0)
        if first in self.pending:
            self.settled.add(self.pending.pop(first)[0])
            self.dropped += 1

    @rule()
    def restart(self):
        self.spool.close()
        self.spool = Spool(self.path, self.max_reports, self.max_bytes)

    @invariant()
    def holds_exactly_the_model(self):
        kept = self.spool.oldest(100)
        assert [r.id for r in kept] == list(self.pending)
        assert [r.seq for r in kept] == [s for s, _ in self.pending.values()]
        status = self.spool.status()
        assert (status.pending, status.sent, status.dropped, status.spooled) == \
            (len(self.pending), self.sent, self.dropped, self.seq)
        assert status.pending_bytes == sum(b for _, b in self.pending.values()) <= self.max_bytes
        # Room is made by dropping the oldest: the newest report stays until the hub settles it
        # (acknowledging or refusing it before older ones is allowed: batches are acknowledged by id).
        if kept and self.seq not in self.settled:
            assert kept[-1].seq == self.seq


SpoolMachine.TestCase.settings = settings(max_examples=40, stateful_step_count=30, deadline=None)
test_the_spool_holds_exactly_what_the_model_says = SpoolMachine.TestCase
