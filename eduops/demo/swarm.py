"""The demo's swarm: a few hundred classroom agents running the real agent code over real HTTP.

Only the probes are simulated, as classroom life: terminals switch on for the first
period and off after the last (a few are left on overnight), some never report after
enrolling, some schools have flaky Wi-Fi, a few machines have a wrong clock, and one
pair shares a cloned disk image. Each broadcast room's terminal is its recorder machine and runs
the real recorder duty too, with a simulated camera (recorders.py).
"""
from __future__ import annotations

import functools
import heapq
import logging
import random
import threading
import time
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import requests
import sqlite_utils
from requests.adapters import HTTPAdapter

from agents import config as agent_config
from agents.client import HubClient, Outcome
from agents.enrollment import enroll
from agents.loop import Agent, make_report, unsupported_command
from agents.recorder import IDLE_WAIT_S, Recorder, RecorderSettings, WithRecordings
from agents.spool import Spool
from agents.state import State
from eduops import __version__
from eduops import db as dbmod
from eduops.audit import Actor
from eduops.config import Config
from eduops.delivery import recordings
from eduops.demo import recorders
from eduops.fleet import tokens
from scheduler.timetable import Timetable

log = logging.getLogger(__name__)

WORKERS = 8
RECHECK_OFF_S = 300.0  # how often a switched-off machine looks at the clock again
DEMO = Actor(None, "demo swarm")  # who makes the simulated agents' enrollment tokens, in the audit log


@dataclass(frozen=True)
class Classroom:
    """What the simulation needs to know about one terminal and its place."""
    terminal: str
    school: str
    room: str
    kind: str
    wifi_ssid: str
    wired: bool              # the room has a wired link
    flaky_wifi: bool         # the school's Wi-Fi comes and goes, weak at the back of the room
    left_on: bool            # nobody switches it off at night
    silent: bool             # enrolled, then never reports (unplugged, broken, re-imaged)
    clock_offset_s: float    # a wrong machine clock
    machine_id: str
    recorder: bool = False   # a broadcast room's recorder machine: always on, its clock kept right


@dataclass(frozen=True)
class Simulated:
    room: Classroom
    agent: Agent
    recorder: Recorder | None


class ClassroomLife:
    """A BodySource: what the agent's probes would see on this classroom's terminal."""

    def __init__(self, room: Classroom, rng: random.Random, booted: datetime):
        self.room = room
        self.rng = rng
        self.booted = booted

    def collect(self, now: datetime, hub_url: str | None) -> dict:
        r, rng = self.room, self.rng
        booted = self.booted if self.booted <= now else now - timedelta(hours=1)  # a backlog report
        signal = None
        if r.wifi_ssid and not (r.flaky_wifi and rng.random() < 0.5):
            signal = rng.randint(-88, -72) if r.flaky_wifi else rng.randint(-68, -48)
        place = zlib.crc32(r.room.encode())
        wifi = {"ssid": r.wifi_ssid, "bssid": "02:00:00:%02x:%02x:01" % (place >> 8 & 0xff, place & 0xff),
                "signal_dbm": signal, "connected": not r.wired} if signal is not None else None
        interfaces = [{"name": "eth0", "kind": "wired", "link_up": r.wired, "speed_mbps": 1000 if r.wired else None,
                       "addresses": ["10.%d.%d.10" % (place >> 8 & 0xff, place & 0xff)] if r.wired else []},
                      {"name": "wlan0", "kind": "wireless", "link_up": wifi is not None and not r.wired,
                       "speed_mbps": None, "addresses": []}]
        return {
            "host": {"hostname": r.terminal.lower(), "os": "Windows 10 22H2" if r.kind != "pc" else "UOS 20",
                     "boot_time": booted.isoformat(), "agent_version": __version__},
            "resources": {"cpu_percent": round(rng.uniform(3, 45), 1), "memory_percent": round(rng.uniform(30, 80), 1),
                          "memory_total_mb": 8192, "disk_percent": round(rng.uniform(20, 90), 1),
                          "disk_total_gb": 237.0, "uptime_s": int((now - booted).total_seconds())},
            "displays": [{"name": "HDMI-A-1", "connected": True, "screen_on": True, "serial": None}],
            "software": [{"name": "EasiNote", "running": rng.random() < 0.7}],
            "network": {"interfaces": interfaces, "wifi": wifi,
                        "gateway": {"address": "10.0.0.1", "rtt_ms": round(rng.uniform(0.5, 4), 1),
                                    "loss_percent": 0.0},
                        "hub": {"rtt_ms": round(rng.uniform(8, 60), 1),
                                "loss_percent": 5.0 if r.flaky_wifi and not r.wired else 0.0},
                        "dns": {"servers": ["10.0.0.1"], "resolve_ok": True}},
        }


def switched_on(room: Classroom, timetable: Timetable, now: datetime) -> bool:
    """On from the first period to the end of the last on school days; some are never switched off."""
    if room.left_on:
        return True
    local = now.astimezone(timetable.tz)
    first, last = timetable.periods[0][0], timetable.periods[-1][1]
    midnight = datetime.combine(local.date(), datetime.min.time(), timetable.tz)
    school_day = timetable.expected_on(midnight + timedelta(minutes=first))
    return school_day and first <= local.hour * 60 + local.minute < last


def pick_classrooms(db: sqlite_utils.Database, count: int, rng: random.Random,
                    home_school: str | None = None) -> list[Classroom]:
    """Every broadcast room's terminal, then the home school's terminals (up to half the count), then
    terminals spread over the county at random: the demo's IT staff work at the home school, so
    their terminals page and their school's coverage are alive."""
    rows = db.execute("""
        SELECT t.code, t.school_code, t.room_code, t.kind, s.wifi_ssid, r.wired_planned, r.kind = 'broadcast'
        FROM terminals t JOIN rooms r ON r.code = t.room_code JOIN schools s ON s.code = t.school_code
        ORDER BY t.code""").fetchall()
    broadcast = [row for row in rows if row[6]]
    home = [row for row in rows if not row[6] and row[1] == home_school]
    others = [row for row in rows if not row[6] and row[1] != home_school]
    chosen = broadcast[:count]
    chosen += home[:max(0, min(count // 2, count - len(chosen)))]
    chosen += rng.sample(others, max(0, min(count - len(chosen), len(others))))
    flaky = {row[1] for row in chosen if rng.random() < 0.15}
    rooms = [Classroom(terminal=code, school=school, room=room, kind=kind, wifi_ssid=ssid or "",
                       wired=bool(wired) and rng.random() > 0.05, flaky_wifi=school in flaky,
                       left_on=rng.random() < 0.1 or bool(is_broadcast), silent=not is_broadcast and rng.random() < 0.04,
                       clock_offset_s=0.0 if is_broadcast or rng.random() >= 0.03
                       else rng.choice([-1, 1]) * rng.uniform(120, 900),
                       machine_id=f"demo-{code}", recorder=bool(is_broadcast))
             for code, school, room, kind, ssid, wired, is_broadcast in chosen]
    if len(rooms) >= 2:  # a cloned disk image: two machines claim one machine id
        rooms[-1] = Classroom(**{**rooms[-1].__dict__, "machine_id": rooms[-2].machine_id})
    return rooms


class Swarm:
    """A server.Service running the simulated agents against the hub at ``hub_url``."""

    def __init__(self, config: Config, hub_url: str, count: int, state_root: Path, seed: int = 9,
                 home_school: str | None = None):
        self.config = config
        self.home_school = home_school
        self.hub_url = hub_url
        self.count = count
        self.state_root = state_root
        self.rng = random.Random(seed)
        self.stop_event = threading.Event()
        self.timetable = Timetable.parse(config.timezone, config.class_hours, config.school_days, config.holidays)
        self.session = requests.Session()
        self.session.mount("http://", HTTPAdapter(pool_connections=1, pool_maxsize=WORKERS))
        self._thread = threading.Thread(target=self._run, name="demo-swarm", daemon=True)

    def start(self) -> None:
        # Hundreds of agents in one process: their routine INFO lines would drown the hub's own log.
        logging.getLogger("agents").setLevel(logging.WARNING)
        self._thread.start()

    def stop(self) -> None:
        self.stop_event.set()
        self._thread.join(timeout=15)

    def _agents(self) -> list[Simulated]:
        """Enroll every simulated agent through the hub's real enrollment endpoint."""
        database = dbmod.connect(self.config.db_path)
        try:
            rooms = pick_classrooms(database, self.count, self.rng, self.home_school)
            now = datetime.now(timezone.utc)
            secrets = {school: tokens.create_token(database, school, now, timedelta(hours=1), None, DEMO).secret
                       for school in sorted({r.school for r in rooms})}
            past = recordings.sessions_recorded_in(database, {r.room for r in rooms if r.recorder},
                                                   *recorders.past_window(now))
        finally:
            database.conn.close()
        failed_id = past[-1]["id"] if past else None  # the newest of the made-up past failed
        made = []
        for room in rooms:
            if self.stop_event.is_set():
                break
            state = State(self.state_root / room.terminal)
            state.create()
            settings = agent_config.load(overrides={
                "state_dir": str(state.dir), "start_delay_max_s": 60.0,
                **(recorders.recorder_settings(self.state_root / "recordings", room.room) if room.recorder else {})})
            clock = skewed_clock(room.clock_offset_s)
            client = HubClient(self.session, settings.http_timeout_s, clock=clock)
            answer = enroll(client, state, hub_url=self.hub_url, token=secrets[room.school], room=room.room,
                            hardware={"hostname": room.terminal.lower(), "machine_id": room.machine_id,
                                      "macs": [], "display_serials": []},
                            os_name="Windows 10 22H2", now=clock())
            if answer.outcome is not Outcome.OK:
                log.warning("demo agent %s could not enroll: %s", room.terminal, answer.message)
                continue
            booted = clock() - timedelta(minutes=self.rng.randint(5, 300))
            life = ClassroomLife(room, random.Random(room.terminal), booted)
            spool = Spool(state.spool_path, settings.spool_max_reports, settings.spool_max_bytes)
            if spool.status().spooled == 0 and not room.silent:
                self._remember_last_week(spool, life, clock())
            recorder, probes, on_command = None, life, unsupported_command
            if room.recorder:
                recorders.remember_last_week(state, [s for s in past if s["room_code"] == room.room], failed_id)
                recorder = Recorder(RecorderSettings.from_settings(settings), state, client, clock=clock,
                                    stop=self.stop_event)
                probes, on_command = WithRecordings(life, recorder), recorder.handler(unsupported_command)
            made.append(Simulated(room, Agent(settings, state, spool, client, probes, clock=clock,
                                              rng=random.Random(room.terminal), on_command=on_command,
                                              stop=self.stop_event), recorder))
        return made

    def _remember_last_week(self, spool: Spool, life: ClassroomLife, now: datetime) -> None:
        """A new demo agent starts with an hourly report for each class hour of the past week in its
        spool, as if the hub had been unreachable: it sends them as a backlog through the real path,
        and the hub keeps their original times, so observed coverage has a week behind it at once."""
        moment = now - timedelta(days=7)
        while moment < now - timedelta(hours=1):
            if switched_on(life.room, self.timetable, moment):
                spool.add(make_report(life.collect(moment, self.hub_url), moment))
            moment += timedelta(hours=1)

    def _run(self) -> None:
        try:
            simulated = self._agents()
        except Exception:  # the top of the swarm's thread: the hub keeps serving without it
            log.exception("demo swarm failed to start")
            return
        log.info("demo swarm: %d simulated agents reporting to %s", len(simulated), self.hub_url)
        installing = set(range(len(simulated)))  # on while IT staff install the agent, whatever the hour

        def report(n: int) -> float:
            sim = simulated[n]
            try:
                if n in installing or switched_on(sim.room, self.timetable, datetime.now(timezone.utc)):
                    installing.discard(n)
                    return sim.agent.cycle().next_in_s
                return RECHECK_OFF_S
            except Exception:  # one agent's fault must not stop the others
                log.exception("demo agent %s failed a cycle", sim.room.terminal)
                return sim.agent.after_crash()

        def record(recorder: Recorder) -> float:
            try:
                return recorder.tick()
            except Exception:  # the top of the duty, as recorder.run: log it, carry on
                log.exception("demo recording tick failed")
                return IDLE_WAIT_S

        machines = [n for n, sim in enumerate(simulated) if sim.recorder]
        first = {n: report(n) for n in machines}  # the recorder machines report first, then their sessions are booked
        if machines and not self.stop_event.is_set():
            try:  # after their machines reported, so the readiness check finds them online
                log.info("demo swarm: %d short recordings booked in the broadcast rooms", recorders.book_show(
                    self.config, [(simulated[n].room.room, simulated[n].room.school) for n in machines]))
            except Exception:  # the recorders still record what the term booked
                log.exception("demo swarm could not book its recorders' sessions")
        duties = [functools.partial(report, n) for n in range(len(simulated))]
        duties += [functools.partial(record, simulated[n].recorder) for n in machines]
        now = time.monotonic()
        due = [(now + first.get(n, sim.agent.start_delay()), n) for n, sim in enumerate(simulated)
               if not sim.room.silent]
        due += [(now, n) for n in range(len(simulated), len(duties))]
        heapq.heapify(due)
        lock = threading.Lock()

        def run(n: int) -> None:
            wait = duties[n]()
            with lock:
                heapq.heappush(due, (time.monotonic() + max(wait, 0.1 if n >= len(simulated) else 1.0), n))

        with ThreadPoolExecutor(WORKERS, thread_name_prefix="demo-agent") as pool:
            while not self.stop_event.is_set():
                with lock:
                    ready = []
                    while due and due[0][0] <= time.monotonic():
                        ready.append(heapq.heappop(due)[1])
                    next_at = due[0][0] if due else time.monotonic() + 1
                for n in ready:
                    pool.submit(run, n)
                self.stop_event.wait(max(0.05, min(1.0, next_at - time.monotonic())))
        recorders.stop_recorders(simulated[n].recorder for n in machines)
        for sim in simulated:
            sim.agent.spool.close()


def skewed_clock(offset_s: float):
    return lambda: datetime.now(timezone.utc) + timedelta(seconds=offset_s)
