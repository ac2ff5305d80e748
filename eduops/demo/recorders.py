"""The demo's recorders: each broadcast room's simulated terminal runs the real recorder duty.

agents/schedule.py and agents/recorder.py run as on a broadcast room's recorder machine: the
room's schedule fetched with its ETag and kept on disk, each session started and ended on time,
its state sent in the agent's reports. Only the camera is simulated: the recorder command is
Python itself, writing a small file per session under the demo's data directory and running
until the session's end, as ``ffmpeg -t {remaining_s}`` would. The recorders run in their own
process groups (so a real agent's restart never cuts a lesson), which Ctrl-C on the demo does not
reach: the swarm ends them when it stops, and each also ends when the demo's process is gone.
"""
from __future__ import annotations

import json
import shlex
import subprocess
import sys
from dataclasses import asdict
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterable

from agents.clock import from_iso, to_iso
from agents.recorder import KEEP, RECORDINGS_FILE, Record, Recorder
from agents.state import State
from eduops import db as dbmod
from eduops.config import Config
from eduops.demo.bookings import book_recorder_show

# No braces in it: the recorder fills {placeholders} in every argument of the command.
CAMERA = """
import os, signal, sys, time
path, seconds = sys.argv[1], float(sys.argv[2])
parent = os.getppid()
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
with open(path, "a") as out:
    out.write("simulated recording started " + time.strftime("%Y-%m-%d %H:%M:%S") + "\\n")
end = time.monotonic() + seconds
try:
    while time.monotonic() < end and os.getppid() == parent:
        time.sleep(0.5)
finally:
    with open(path, "a") as out:
        out.write("stopped " + time.strftime("%Y-%m-%d %H:%M:%S") + "\\n")
"""
# What the made-up past's one failure says, in the words agents/recorder.py would use.
FAILED = "the recorder exited early (status 1): simulated camera: no picture on HDMI-A-1 (demo)"


def recorder_settings(folder: Path, room: str) -> dict[str, Any]:
    """The agent settings of a simulated recorder machine: its recordings go to ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    target = str(folder / f"{room}-session-{{session_id}}.txt")
    return {"recorder_start": shlex.join([sys.executable, "-c", CAMERA, target, "{remaining_s}"]),
            "recorder_mode": "runs_until_end", "recorder_command_timeout_s": 10.0}


def remember_last_week(state: State, sessions: Iterable[dict[str, Any]], failed_id: int | None) -> None:
    """A new recorder machine remembers recording its room's sessions of the past week (one of them
    failed), as if it had been there: it reports them with its first report, through the real path.
    A machine that already has recordings keeps its own."""
    if state.read_file(RECORDINGS_FILE) is not None:
        return
    records = {}
    for s in sessions:
        start, end = from_iso(s["starts_at"]), from_iso(s["ends_at"])
        records[str(s["id"])] = (Record("failed", to_iso(start + (end - start) / 3), to_iso(end), FAILED)
                                 if s["id"] == failed_id else Record("finished", to_iso(end), to_iso(end)))
    state.write_file(RECORDINGS_FILE, json.dumps({sid: asdict(r) for sid, r in records.items()}, indent=1) + "\n")


def past_window(now: datetime) -> tuple[datetime, datetime]:
    """The sessions a recorder machine still remembers: those that ended within its KEEP."""
    return now - KEEP + timedelta(hours=1), now


def stop_recorders(recorders: Iterable[Recorder], timeout_s: float = 5.0) -> None:
    """End the simulated cameras still recording (the demo is stopping, and they with it)."""
    running = [p for r in recorders for p in r.processes.values() if p.poll() is None]
    for process in running:
        process.terminate()
    for process in running:
        try:
            process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def book_show(config: Config, rooms: list[tuple[str, str]]) -> int:
    """Book the recorders' short sessions (bookings.book_recorder_show) in the demo's database now."""
    database = dbmod.connect(config.db_path)
    try:
        return book_recorder_show(database, datetime.now(timezone.utc), config, rooms)
    finally:
        database.conn.close()
