"""Recording in a broadcast room: the room's recorder started and stopped on the schedule, hub or no hub.

A duty of its own, beside the report loop (pyCA's habit: one module per duty, each
with a ``run`` that waits on the stop event). It runs only when ``recorder_start``
is set. Each tick it refreshes the schedule when due (schedule.py), then, for every
session: at its start (or at once, when the agent (re)starts inside the window) it
runs the start command; at its end the stop command. What was started is written to
``recordings.json`` *before* the command runs, so a crash or a restart never starts a
session twice (at worst one whose start was cut short is reported failed, not run
again). The state of each recording rides on the next report (``body.recordings``).

Two kinds of recorder (``recorder_mode``):
- ``runs_until_end``: the start command is the recording (ffmpeg). It must keep running
  until the session's end; an exit before then is a failure. At the end the stop
  command runs if set, and the process is then ended (SIGTERM, then kill).
- ``returns``: the start command tells the room's recorder to start and returns (a
  vendor CLI); a non-zero status is a failure. At the end the stop command runs.
The recorder runs in its own process group, so stopping or updating the agent never
cuts a lesson's recording; an agent that restarts finds its recorder by pid.
"""
from __future__ import annotations

import json
import logging
import math
import os
import re
import shlex
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from string import Formatter
from typing import Callable, Dict, List, Optional, Tuple

import psutil

from agents.client import HubClient, Outcome
from agents.clock import from_iso, to_iso, utc_now
from agents.schedule import ScheduleCache, Slot, fetch
from agents.state import State

log = logging.getLogger(__name__)

RECORDINGS_FILE = "recordings.json"
PLACEHOLDERS = ("session_id", "title", "start", "end", "remaining_s")
MODES = ("runs_until_end", "returns")
KEEP = timedelta(days=7)           # how long a finished or failed recording is remembered
REPORT_AHEAD = timedelta(days=2)   # scheduled sessions are reported this far ahead
EARLY_GRACE = timedelta(seconds=5)  # an exit this close to the end is the recording's end, not a failure
IDLE_WAIT_S = 5.0                  # longest sleep, so a refresh_schedule command is served soon
WATCH_WAIT_S = 1.0                 # how often a running recorder is checked for an early exit


def check_command(name: str, template: str) -> None:
    """Raise ValueError when a command template uses a placeholder the agent does not fill."""
    try:
        fields = [f for _, f, _, _ in Formatter().parse(template) if f is not None]
    except ValueError as exc:
        raise ValueError(f"{name}: {exc} (write {{{{ and }}}} for a literal brace)") from None
    for found in fields:
        if found not in PLACEHOLDERS:
            raise ValueError(f"{name}: unknown placeholder {{{found}}}; use "
                             + ", ".join("{%s}" % p for p in PLACEHOLDERS))


def command_line(template: str, slot: Slot, now: datetime) -> List[str]:
    """The command's arguments for one session. Placeholders are filled after splitting, so a
    title with spaces or quotes stays one argument and can never add another."""
    values = {"session_id": slot.id, "title": slot.title, "start": to_iso(slot.start), "end": to_iso(slot.end),
              "remaining_s": str(max(1, math.ceil((slot.end - now).total_seconds())))}
    return [arg.format_map(values) for arg in shlex.split(template, posix=sys.platform != "win32")]


@dataclass(frozen=True)
class Record:
    """What the agent did about one session, kept across restarts."""
    state: str                     # recording | finished | failed
    at: str                        # when it entered that state
    end: str                       # the session's end, to know when to forget it
    reason: str = ""
    pid: Optional[int] = None
    pid_created: Optional[float] = None


@dataclass(frozen=True)
class RecorderSettings:
    start: str
    stop: str
    mode: str
    command_timeout_s: float
    refresh_s: float

    @classmethod
    def from_settings(cls, settings) -> "RecorderSettings":
        return cls(settings.recorder_start, settings.recorder_stop, settings.recorder_mode,
                   settings.recorder_command_timeout_s, settings.schedule_refresh_s)


def tail(path: str) -> str:
    """The last line a command wrote to its log, to say why it failed."""
    try:
        with open(path, "rb") as fh:
            fh.seek(max(0, os.path.getsize(path) - 4096))
            lines = [line.strip() for line in fh.read().decode("utf-8", "replace").splitlines() if line.strip()]
    except OSError:
        return ""
    return lines[-1][:200] if lines else ""


class Recorder:
    """Keeps the room's recordings in step with its schedule; everything it touches is passed in."""

    def __init__(self, settings: RecorderSettings, state: State, client: HubClient, *,
                 clock: Callable[[], datetime] = utc_now, stop: Optional[threading.Event] = None):
        self.settings = settings
        self.state = state
        self.client = client
        self.clock = clock
        self.stop = stop or threading.Event()
        self.cache = ScheduleCache(state)
        self.schedule = self.cache.load()
        self.records = self._load_records()
        self.processes: Dict[str, subprocess.Popen] = {}
        self._lock = threading.Lock()
        self._fetch_due: Optional[datetime] = None   # None: fetch at the next tick
        self._failures = 0
        self._warned_kind = False

    # The loop -----------------------------------------------------------------------------------

    def tick(self, now: Optional[datetime] = None) -> float:
        """Refresh the schedule if due, start and stop what is due; return seconds until the next tick."""
        now = now or self.clock()
        self._refresh(now)
        for slot in self.schedule.slots:
            if self.stop.is_set():
                break
            self._step(slot, now)
        self._forget(now)
        return self._next_wake(now)

    def handler(self, otherwise: Callable[[dict], Tuple[str, str]]) -> Callable[[dict], Tuple[str, str]]:
        """The report loop's command handler: refresh_schedule is this duty's, the rest ``otherwise``'s."""
        def on_command(command: dict) -> Tuple[str, str]:
            if command.get("kind") != "refresh_schedule":
                return otherwise(command)
            self._fetch_due = None
            return "done", "the schedule is fetched again within seconds"
        return on_command

    def report(self, now: datetime) -> List[dict]:
        """Recording states for the next report: what was done, and what is scheduled soon."""
        with self._lock:
            entries = [{"session_id": sid, "state": r.state, "reason": r.reason or None, "at": r.at}
                       for sid, r in self.records.items()]
            entries += [{"session_id": s.id, "state": "scheduled", "reason": None, "at": None}
                        for s in self.schedule.slots
                        if s.id not in self.records and now < s.end and s.start < now + REPORT_AHEAD]
        return entries[-32:]

    # The schedule -------------------------------------------------------------------------------

    def _refresh(self, now: datetime) -> None:
        if self._fetch_due is not None and now < self._fetch_due:
            return
        soon = [s.start for s in self.schedule.slots if now < s.start]
        if soon and min(soon) - now < timedelta(seconds=self.client.timeout_s + 2):
            return  # a hub that does not answer must never hold up a start: fetch after it
        enrollment = self.state.enrollment()
        if enrollment is None or enrollment.revoked:
            self._fetch_due = now + timedelta(seconds=self.settings.refresh_s)
            return
        answer = fetch(self.client, enrollment.hub_url, enrollment.key, self.schedule.etag)
        if answer.outcome is Outcome.OK:
            self._failures = 0
            if answer.status != 304:
                with self._lock:
                    self.schedule = self.cache.save(answer.data)
                log.info("schedule: %d session(s) to record in room %s", len(self.schedule.slots), enrollment.room)
                if self.schedule.room_kind not in (None, "broadcast") and not self._warned_kind:
                    log.warning("room %s is a %s room, not a broadcast room: it has nothing to record",
                                enrollment.room, self.schedule.room_kind)
                    self._warned_kind = True
            self._fetch_due = now + timedelta(seconds=self.settings.refresh_s)
        else:
            self._failures += 1
            delay = min(self.settings.refresh_s, 5 * 2 ** min(self._failures, 10))
            self._fetch_due = now + timedelta(seconds=delay)
            log.warning("schedule not refreshed (%s); recording goes on from the copy on disk, "
                        "next try in %.0f s", answer.message, delay)

    # Each session -------------------------------------------------------------------------------

    def _step(self, slot: Slot, now: datetime) -> None:
        record = self.records.get(slot.id)
        if record is None:
            if slot.start <= now < slot.end:
                self._start(slot, now)
            elif now >= slot.end and now - slot.end < KEEP:
                self._set(slot, "failed", now, "the agent was not running during the session")
        elif record.state == "recording":
            self._watch(slot, record, now)

    def _start(self, slot: Slot, now: datetime) -> None:
        # Written before the command runs: whatever happens next, this session never starts twice.
        self._set(slot, "recording", now)
        args = command_line(self.settings.start, slot, now)
        try:
            process = self._launch(slot, args, detach=True)
        except OSError as exc:
            self._set(slot, "failed", now, f"cannot run the start command {args[0]!r}: {exc.strerror or exc}")
            return
        self.processes[slot.id] = process
        try:
            created = psutil.Process(process.pid).create_time()
        except psutil.Error:
            created = None
        self._set(slot, "recording", now, pid=process.pid, pid_created=created)
        late = (now - slot.start).total_seconds()
        log.info("recording %s (%s) started%s", slot.id, slot.title,
                 f", {late:.0f} s into the session" if late >= 1 else "")

    def _watch(self, slot: Slot, record: Record, now: datetime) -> None:
        running, status = self._status(slot.id, record)
        if self.settings.mode == "runs_until_end":
            if now >= slot.end:
                self._finish(slot, now, running)
            elif not running and now < slot.end - EARLY_GRACE:
                self._set(slot, "failed", now, self._why("the recorder exited early", slot, status))
            elif not running:
                self._set(slot, "finished", now)
        elif running:  # returns: the start command has not returned yet
            if now - from_iso(record.at) > timedelta(seconds=self.settings.command_timeout_s):
                self._end_process(slot.id)
                self._set(slot, "failed", now, f"the start command did not return within "
                          f"{self.settings.command_timeout_s:g} s")
        elif status not in (0, None):
            self._set(slot, "failed", now, self._why("the start command failed", slot, status))
        elif now >= slot.end:
            self._finish(slot, now, False)

    def _finish(self, slot: Slot, now: datetime, running: bool) -> None:
        failure = ""
        if self.settings.stop:
            try:
                stopper = self._launch(slot, command_line(self.settings.stop, slot, now), detach=False)
                status = self._wait(stopper, self.settings.command_timeout_s)
            except OSError as exc:
                status, failure = None, f"cannot run the stop command: {exc.strerror or exc}"
            if status is None and not failure:
                failure = f"the stop command did not return within {self.settings.command_timeout_s:g} s"
            elif status:
                failure = self._why("the stop command failed", slot, status)
        if running:
            self._end_process(slot.id)
        self._set(slot, "failed" if failure else "finished", now, failure)
        log.info("recording %s (%s) %s", slot.id, slot.title, f"failed: {failure}" if failure else "finished")

    # Processes ----------------------------------------------------------------------------------

    def _log_path(self, session_id: str) -> str:
        return str(self.state.dir / ("recorder-" + re.sub(r"[^A-Za-z0-9_.-]", "_", session_id) + ".log"))

    def _launch(self, slot: Slot, args: List[str], detach: bool) -> subprocess.Popen:
        options: dict = {}
        if detach and sys.platform == "win32":
            options["creationflags"] = subprocess.CREATE_NEW_PROCESS_GROUP
        elif detach:
            options["start_new_session"] = True
        self.state.create()
        with open(self._log_path(slot.id), "ab") as output:
            return subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT,
                                    **options)

    def _status(self, session_id: str, record: Record) -> Tuple[bool, Optional[int]]:
        """(still running, exit status if known) of the session's recorder process."""
        process = self.processes.get(session_id)
        if process is not None:
            code = process.poll()
            return code is None, code
        if record.pid is None:
            return False, None
        try:  # started before the agent restarted: found by pid and start time, status unknown
            found = psutil.Process(record.pid)
            alive = found.create_time() == record.pid_created and found.status() != psutil.STATUS_ZOMBIE
        except psutil.Error:
            alive = False
        return alive, None

    def _wait(self, process: subprocess.Popen, timeout_s: float) -> Optional[int]:
        """Wait for a command, giving up on a stop or after ``timeout_s`` (then it is killed)."""
        deadline = time.monotonic() + timeout_s  # a real process takes real time, whatever the clock says
        while process.poll() is None and time.monotonic() < deadline and not self.stop.wait(0.1):
            pass
        if process.poll() is None:
            process.kill()
            process.wait()
            return None
        return process.returncode

    def _end_process(self, session_id: str) -> None:
        record = self.records[session_id]
        process = self.processes.pop(session_id, None)
        try:
            target = psutil.Process(process.pid if process else record.pid)
            if target.create_time() != record.pid_created:
                return
            target.terminate()
            target.wait(self.settings.command_timeout_s)
        except psutil.TimeoutExpired:
            target.kill()
        except (psutil.Error, TypeError):
            pass  # already gone
        if process:
            process.poll()

    def _why(self, what: str, slot: Slot, status: Optional[int]) -> str:
        said = tail(self._log_path(slot.id))
        return what + (f" (status {status})" if status is not None else "") + (f": {said}" if said else "")

    # Records ------------------------------------------------------------------------------------

    def _set(self, slot: Slot, state: str, now: datetime, reason: str = "", **process) -> None:
        with self._lock:
            old = self.records.get(slot.id)
            keep = {"pid": old.pid, "pid_created": old.pid_created} if old and not process else process
            self.records[slot.id] = Record(state, to_iso(now), to_iso(slot.end), reason, **keep)
            self._save()
        if state == "failed":
            log.error("recording %s (%s) failed: %s", slot.id, slot.title, reason)

    def _forget(self, now: datetime) -> None:
        old = [sid for sid, r in self.records.items()
               if r.state != "recording" and now - from_iso(r.end) > KEEP]
        if old:
            with self._lock:
                for sid in old:
                    del self.records[sid]
                    try:
                        os.remove(self._log_path(sid))
                    except OSError:
                        pass
                self._save()

    def _load_records(self) -> Dict[str, Record]:
        text = self.state.read_file(RECORDINGS_FILE)
        try:
            return {sid: Record(**fields) for sid, fields in json.loads(text).items()} if text else {}
        except (ValueError, TypeError, AttributeError):
            # Refusing to start would lose every recording to come; starting one twice is the lesser harm.
            log.error("%s is damaged; recordings already started may be started again",
                      self.state.dir / RECORDINGS_FILE)
            return {}

    def _save(self) -> None:
        self.state.write_file(RECORDINGS_FILE, json.dumps(
            {sid: asdict(r) for sid, r in self.records.items()}, indent=1) + "\n")

    def _next_wake(self, now: datetime) -> float:
        moments = [s.start for s in self.schedule.slots if now < s.start and s.id not in self.records]
        moments += [s.end for s in self.schedule.slots if now < s.end and s.id in self.records]
        if self._fetch_due and self._fetch_due > now:  # one held back before a start comes after it
            moments.append(self._fetch_due)
        wait = min([(m - now).total_seconds() for m in moments] + [IDLE_WAIT_S])
        if any(r.state == "recording" for r in self.records.values()):
            wait = min(wait, WATCH_WAIT_S)
        return max(0.0, wait)


class WithRecordings:
    """A report body source that adds the recording states to another's bodies."""

    def __init__(self, probes, recorder: Recorder):
        self.probes = probes
        self.recorder = recorder

    def collect(self, now: datetime, hub_url: Optional[str]) -> dict:
        return {**self.probes.collect(now, hub_url), "recordings": self.recorder.report(now)}


def run(recorder: Recorder) -> None:
    """Keep the recordings in step until ``recorder.stop`` is set."""
    while not recorder.stop.is_set():
        try:
            delay = recorder.tick()
        except Exception:  # the top of the duty's loop: log with a traceback, carry on
            log.exception("recording tick failed")
            delay = IDLE_WAIT_S
        if recorder.stop.wait(delay):
            return
