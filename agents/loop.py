"""The agent's loop. One `Agent.cycle(now)` makes a report when one is due, commits it to the
spool and sends the backlog in batches; `run` repeats cycles until its stop event is set.

Politeness at county scale: a random start delay, the hub's interval with jitter, and
capped exponential backoff with full jitter after failures (on top of Retry-After), so
20,000 agents coming back from an outage spread over minutes, not one second.
"""
from __future__ import annotations

import logging
import random
import threading
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable, Protocol, Tuple

from agents import __version__
from agents.client import Answer, HubClient, Outcome
from agents.clock import from_iso, to_iso, utc_now
from agents.config import SETTINGS, Settings
from agents.i18n import _
from agents.spool import Spool
from agents.state import Enrollment, State

log = logging.getLogger(__name__)

INTERVAL_BOUNDS = (SETTINGS["interval_s"].metadata["min"], SETTINGS["interval_s"].metadata["max"])
# Statuses a hub refusal can carry that are the fault of one report, not of the agent.
REPORT_FAULTS = (400, 413)


class BodySource(Protocol):
    """What makes a report body: the real SystemProbes, or a simulation in the demo."""

    def collect(self, now: datetime, hub_url: str | None) -> dict: ...


CommandHandler = Callable[[dict], Tuple[str, str]]


def make_report(body: dict, now: datetime) -> dict:
    """A new report (protocol v1) made at ``now``; the spool gives it its sequence number."""
    return {"id": str(uuid.uuid4()), "agent_time": to_iso(now), "body": body}


def unsupported_command(command: dict) -> tuple[str, str]:
    """Acknowledge a command this agent cannot carry out, so it does not wait in the hub's queue."""
    return "failed", f"eduops-agent {__version__} cannot do {command.get('kind')!r}"


def jittered(interval_s: float, fraction: float, rng: random.Random) -> float:
    return interval_s * (1 + rng.uniform(-fraction, fraction))


def backoff(failures: int, base_s: float, cap_s: float, rng: random.Random) -> float:
    """Full jitter: uniform in [0, min(cap, base * 2^(failures-1))]."""
    return rng.uniform(0, min(cap_s, base_s * 2 ** min(max(failures - 1, 0), 32)))


def retry_delay(failures: int, retry_after_s: float | None, base_s: float, cap_s: float,
                rng: random.Random) -> float:
    """Retry-After (at most the cap) plus the jittered backoff, so a hub that tells every
    agent the same Retry-After does not get them all back in the same second."""
    return min(retry_after_s or 0.0, cap_s) + backoff(failures, base_s, cap_s, rng)


@dataclass(frozen=True)
class CycleResult:
    status: str       # "sent" | "waiting" | "retry" | "refused" | "revoked" | "not_enrolled" | "stopped"
    reported: bool    # a new report was made and spooled in this cycle
    sent: int         # reports the hub acknowledged in this cycle
    dropped: int      # reports dropped in this cycle: spool full, or refused by the hub
    pending: int      # reports still in the spool
    next_in_s: float  # seconds until cycle() should run again
    message: str = ""


class Agent:
    """One agent. Everything it touches is passed in, so the demo can run hundreds in one process."""

    def __init__(self, settings: Settings, state: State, spool: Spool, client: HubClient,
                 probes: BodySource, *, clock: Callable[[], datetime] = utc_now,
                 rng: random.Random | None = None, on_command: CommandHandler = unsupported_command,
                 stop: threading.Event | None = None):
        self.settings = settings
        self.state = state
        self.spool = spool
        self.client = client
        self.probes = probes
        self.clock = clock
        self.rng = rng or random.Random()
        self.on_command = on_command
        self.stop = stop or threading.Event()  # set it to end run() and any backlog being sent
        self.interval_s = settings.interval_s  # until the hub sets its own
        self.failures = 0
        self._report_due: datetime | None = None  # None: make a report at the next cycle
        self._send_after: datetime | None = None  # None: send whenever something is spooled
        self._last_now: datetime | None = None
        self._last_status = ""
        self._delivered = False  # the hub acknowledged reports since this process started
        self._trouble = 0        # failed or refused sends since the last delivery

    def start_delay(self) -> float:
        return self.rng.uniform(0, self.settings.start_delay_max_s)

    def cycle(self, now: datetime | None = None) -> CycleResult:
        """Make a report if one is due, commit it to the spool, then send the backlog if allowed."""
        now = now or self.clock()
        self._follow_clock(now)
        enrollment = self.state.enrollment()
        reported, dropped = False, 0
        if self._report_due is None or now >= self._report_due:
            body = self.probes.collect(now, enrollment.hub_url if enrollment else None)
            dropped = self.spool.add(make_report(body, now))[1]
            if dropped:
                log.warning(_("spool full: dropped the %d oldest report(s)"), dropped)
            reported = True
            self._report_due = now + timedelta(seconds=jittered(self.interval_s, self.settings.jitter, self.rng))
        sent, message = 0, ""
        if enrollment is None:
            status = "not_enrolled"
        elif enrollment.revoked:
            status = "revoked"
        elif self._send_after is not None and now < self._send_after:
            status = "waiting"
        else:
            status, sent, refused, message = self._flush(enrollment, now)
            dropped += refused
        self._note_status(status, enrollment, sent)
        wake = min(self._report_due, self._send_after or self._report_due)
        return CycleResult(status, reported, sent, dropped, self.spool.status().pending,
                           max(0.0, (wake - now).total_seconds()), message)

    def after_crash(self) -> float:
        """Delay before the next cycle after cycle() raised: the same backoff as a failed send."""
        self.failures += 1
        return backoff(self.failures, self.settings.backoff_base_s, self.settings.backoff_cap_s, self.rng)

    def _flush(self, enrollment: Enrollment, now: datetime) -> tuple[str, int, int, str]:
        """Send the spool oldest first, in batches, until it is empty or the hub says stop."""
        sent = refused = 0
        size = self.settings.batch_size
        while batch := self.spool.oldest(size):
            if self.stop.is_set():
                return "stopped", sent, refused, ""
            answer = self.client.send_reports(enrollment.hub_url, enrollment.key,
                                              [r.text for r in batch], to_iso(self.clock()))
            if answer.outcome is Outcome.OK:
                results = answer.data["results"] if isinstance(answer.data["results"], list) else []
                held = [r["id"] for r in results
                        if isinstance(r, dict) and r.get("status") in ("accepted", "duplicate")]
                removed = self.spool.acknowledge(held, to_iso(now))
                sent += removed
                self._on_success(answer, enrollment, now)
                if removed == 0:  # never loop on a hub that holds none of what it was sent
                    return "retry", sent, refused, self._fail(
                        now, f"hub acknowledged none of {len(batch)} report(s)", None)
            elif answer.outcome is Outcome.RETRY:
                return "retry", sent, refused, self._fail(now, answer.message, answer.retry_after_s)
            elif answer.outcome is Outcome.REENROLL:
                self.state.mark_revoked(to_iso(now))
                self.spool.record_failure(to_iso(now), answer.message)
                return "revoked", sent, refused, answer.message
            elif answer.status in REPORT_FAULTS and len(batch) > 1:
                size = max(1, len(batch) // 2)  # halve until the report at fault is alone
            elif answer.status in REPORT_FAULTS:
                refused += self.spool.discard([batch[0].id])
                self.spool.record_failure(to_iso(now), answer.message)
                log.error(_("the hub refused report %s for good, dropped it: %s"), batch[0].id, answer.message)
            else:
                # The agent itself is at fault (wrong hub URL, another school's room): keep every
                # report, ask rarely, and let status show the hub's message until someone fixes it.
                self._send_after = now + timedelta(seconds=self.settings.backoff_cap_s)
                self.spool.record_failure(to_iso(now), answer.message)
                return "refused", sent, refused, answer.message
        return "sent", sent, refused, ""

    def _on_success(self, answer: Answer, enrollment: Enrollment, now: datetime) -> None:
        self.failures = 0
        self._send_after = None
        hub_interval = answer.data.get("next_report_in_s")
        if isinstance(hub_interval, (int, float)) and not isinstance(hub_interval, bool):
            self.interval_s = min(max(float(hub_interval), INTERVAL_BOUNDS[0]), INTERVAL_BOUNDS[1])
            self._report_due = now + timedelta(seconds=jittered(self.interval_s, self.settings.jitter, self.rng))
        for command in answer.data.get("commands") or []:
            if isinstance(command, dict) and isinstance(command.get("id"), str):
                self._carry_out(command, enrollment, now)

    def _carry_out(self, command: dict, enrollment: Enrollment, now: datetime) -> None:
        try:
            expired = from_iso(command["expires_at"]) < now if command.get("expires_at") else False
        except (TypeError, ValueError):
            expired = False
        status, detail = ("failed", "expired before the agent received it") if expired \
            else self.on_command(command)
        answer = self.client.ack_command(enrollment.hub_url, enrollment.key, command["id"], status, detail)
        if answer.outcome is not Outcome.OK:
            log.warning(_("could not acknowledge command %s: %s"), command["id"], answer.message)

    def _fail(self, now: datetime, message: str, retry_after_s: float | None) -> str:
        self.failures += 1
        delay = retry_delay(self.failures, retry_after_s, self.settings.backoff_base_s,
                            self.settings.backoff_cap_s, self.rng)
        self._send_after = now + timedelta(seconds=delay)
        self.spool.record_failure(to_iso(now), message)
        log.warning(_("%s; reports are kept, next try in %.0f s"), message, delay)
        return message

    def _follow_clock(self, now: datetime) -> None:
        """If the clock went back (a time sync), move the plans back too rather than fall silent."""
        if self._last_now is not None and now < self._last_now:
            shift = self._last_now - now
            self._report_due = self._report_due and self._report_due - shift
            self._send_after = self._send_after and self._send_after - shift
        self._last_now = now

    def _note_status(self, status: str, enrollment: Enrollment | None, sent: int) -> None:
        """Say what changed, once: the first delivery, each recovery, and each new kind of trouble."""
        if status in ("retry", "refused", "revoked"):
            self._trouble += 1
        if status == "sent" and not self._delivered:
            self._delivered = True
            self._trouble = 0
            log.info(_("delivering: the hub at %s acknowledged %d report(s) from agent %s in room %s; "
                       "it shows this terminal online"), enrollment.hub_url, sent, enrollment.agent_id,
                     enrollment.room)
        elif status == "sent" and self._trouble:
            log.info(_("delivering again after %d failed attempt(s): %d report(s) from the spool "
                       "acknowledged"), self._trouble, sent)
            self._trouble = 0
        if status == self._last_status:
            return
        if status == "revoked":
            log.error(_("the hub no longer accepts this agent's key (revoked or unknown); reports are "
                        "kept until it is enrolled again: eduops-agent enroll --hub %s --token TOKEN --room %s"),
                      enrollment.hub_url, enrollment.room)
        elif status == "not_enrolled":
            log.warning(_("not enrolled yet: reports are kept until `eduops-agent enroll` is run"))
        self._last_status = status


def run(agent: Agent) -> None:
    """Report until ``agent.stop`` is set; every wait returns as soon as it is."""
    stop = agent.stop
    delay = agent.start_delay()
    log.info(_("first report in %.0f s (a random wait, so that machines switched on together "
               "do not report together)"), delay)
    if stop.wait(delay):
        return
    while not stop.is_set():
        try:
            delay = agent.cycle().next_in_s
        except Exception:  # the top of the loop: log with a traceback, back off, carry on
            delay = agent.after_crash()
            log.exception(_("cycle failed; next try in %.0f s"), delay)
        if stop.wait(delay):
            return
