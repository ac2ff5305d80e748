"""Terminal state from silence: plain rules over plain data, so every case can be tested.

- online: heard within one report period (the server interval plus its jitter).
- stale: during class hours, one or more periods missed, fewer than the offline threshold.
- offline: during class hours, ``offline_after_missed`` periods or more missed.
- expected_off: silent outside class hours (evenings, weekends, holidays): as it should be.
- retired: a person decided so; only a new enrollment brings the agent back.

Missed periods are counted from the later of the last report and the start of the
current class period, so a terminal switched off overnight is not offline at 07:30:01.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from scheduler.timetable import Timetable

STATES = ("online", "stale", "offline", "expected_off", "retired")


@dataclass(frozen=True)
class StatePolicy:
    interval_s: float
    jitter: float                 # the server interval varies by up to this fraction
    offline_after_missed: int
    retire_after: timedelta       # silence after which retirement is proposed
    timetable: Timetable

    @property
    def period_s(self) -> float:
        """The longest an on-time agent may stay silent between two reports."""
        return self.interval_s * (1 + self.jitter)


@dataclass(frozen=True)
class AgentClock:
    id: str
    state: str
    last_seen: datetime           # newest report, or enrollment when it never reported
    retire_proposed: bool = False


@dataclass(frozen=True)
class Verdict:
    state: str
    propose_retirement: bool


def missed_periods(last_seen: datetime, now: datetime, policy: StatePolicy) -> int:
    """Report periods missed during the current class period (0 outside class hours)."""
    start = policy.timetable.period_start(now)
    if start is None:
        return 0
    silent = (now - max(last_seen, start)).total_seconds()
    return max(0, math.floor(silent / policy.period_s))


def judge(agent: AgentClock, now: datetime, policy: StatePolicy) -> Verdict:
    """The state an agent should be in at ``now``, and whether to propose retiring it."""
    silent_for = now - agent.last_seen
    propose = (agent.state != "retired" and not agent.retire_proposed
               and silent_for >= policy.retire_after)
    if agent.state == "retired":
        return Verdict("retired", False)
    if silent_for.total_seconds() < policy.period_s:
        return Verdict("online", propose)
    if not policy.timetable.expected_on(now):
        return Verdict("expected_off", propose)
    missed = missed_periods(agent.last_seen, now, policy)
    if missed >= policy.offline_after_missed:
        return Verdict("offline", propose)
    if missed >= 1:
        return Verdict("stale", propose)
    return Verdict(agent.state, propose)  # a class period just began: give it one period to report
