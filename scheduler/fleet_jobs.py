"""The fleet's scheduled jobs as plain functions of (db, now, parameters, store).

``scheduler/`` imports nothing from ``eduops/``: the storage functions a job needs
come in as ``store`` (the hub passes its fleet storage module), so a job is the rule
and the storage layer keeps every SQL statement. ``scheduler/runner.py`` runs them.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from scheduler.states import AgentClock, StatePolicy, judge


class FleetStore(Protocol):
    """What the fleet jobs need from storage (eduops.fleet.store provides it)."""

    def agents_to_judge(self, db: Any) -> list[AgentClock]: ...
    def record_verdicts(self, db: Any, changes: list[tuple[AgentClock, str]], proposals: list[str],
                        now: datetime) -> int: ...
    def delete_reports_received_before(self, db: Any, cutoff: datetime, limit: int) -> int: ...
    def delete_history_before(self, db: Any, cutoff: datetime) -> int: ...
    def expire_commands(self, db: Any, now: datetime) -> int: ...


def sweep_terminal_states(db: Any, now: datetime, policy: StatePolicy, store: FleetStore) -> dict[str, int]:
    """Move every agent to the state its silence calls for; propose long-silent ones for retirement."""
    changes, proposals = [], []
    for agent in store.agents_to_judge(db):
        verdict = judge(agent, now, policy)
        if verdict.state != agent.state:
            changes.append((agent, verdict.state))
        if verdict.propose_retirement:
            proposals.append(agent.id)
    return {"changed": store.record_verdicts(db, changes, proposals, now), "proposed": len(proposals)}


@dataclass(frozen=True)
class RetentionPolicy:
    raw_reports: timedelta        # raw reports older than this go (agent_days keeps their sum)
    history: timedelta            # state changes and finished commands older than this go
    chunk: int = 10_000           # rows per transaction, so ingest never waits long
    max_chunks: int = 50          # per run, so a run (and a shutdown waiting for it) stays short


def apply_retention(db: Any, now: datetime, policy: RetentionPolicy, store: FleetStore) -> dict[str, int]:
    """Delete raw reports and history past their keeping time, a chunk per transaction."""
    deleted = 0
    for _ in range(policy.max_chunks):
        removed = store.delete_reports_received_before(db, now - policy.raw_reports, policy.chunk)
        deleted += removed
        if removed < policy.chunk:
            break
    return {"reports_deleted": deleted, "history_deleted": store.delete_history_before(db, now - policy.history)}


def expire_commands(db: Any, now: datetime, store: FleetStore) -> dict[str, int]:
    """Pending commands past their expiry are marked expired; agents no longer receive them."""
    return {"expired": store.expire_commands(db, now)}
