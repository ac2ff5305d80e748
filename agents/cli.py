"""`eduops-agent`: enroll, run, once, status. Exit codes: 0 fine, 1 failed, 2 bad usage or
configuration, 75 the hub could not be reached (try again later)."""
from __future__ import annotations

import argparse
import json
import logging
import signal
import sqlite3
import sys
import threading
from dataclasses import asdict
from pathlib import Path
from urllib.parse import urlsplit

import requests

from agents import __version__, config, enrollment, loop, recorder
from agents.client import HubClient, Outcome
from agents.clock import from_iso, utc_now
from agents.probes.system import SystemProbes
from agents.spool import Spool, peek_status
from agents.state import State, StateError

log = logging.getLogger("agents")

HUB_EXAMPLE = "--hub http://10.53.0.5:8080 --token et_3kQ9... --room R-530326-0001-101"
CONNECTION_KEYS = ("state_dir", "http_timeout_s", "ca_bundle", "log_level", "log_file")
COMMANDS = {
    "enroll": ("Join the fleet: exchange an enrollment token from school IT staff for this "
               "machine's own agent key, kept in the state directory.",
               f"eduops-agent enroll {HUB_EXAMPLE}", CONNECTION_KEYS),
    "run": ("Report to the hub until stopped (Ctrl-C or the service manager). Reports are kept "
            "in the spool while the hub is unreachable or before enrollment.",
            "eduops-agent run --config /etc/eduops-agent/agent.toml", tuple(config.SETTINGS)),
    "once": ("Print, as JSON, the report this machine would send now, without sending it and "
             "without needing enrollment.", "eduops-agent once > report.json", tuple(config.SETTINGS)),
    "status": ("Show enrollment, the last successful send, and the spooled, sent and dropped counts. "
               "Exits 0 when enrolled and accepted by the hub, else 1.",
               "eduops-agent status --json", ("state_dir",)),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="eduops-agent", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="EduOps classroom agent: reports this terminal's health to the county hub.",
        epilog="Examples:\n" + "\n".join(f"  {example}" for _, example, _ in COMMANDS.values()))
    parser.add_argument("--version", action="version", version=f"eduops-agent {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (summary, example, keys) in COMMANDS.items():
        sub = commands.add_parser(name, help=summary, description=f"{summary}\n\nExample:\n  {example}",
                                  formatter_class=argparse.RawDescriptionHelpFormatter)
        if name == "enroll":
            sub.add_argument("--hub", required=True, help="The hub's address. Example: --hub http://10.53.0.5:8080")
            sub.add_argument("--token", required=True,
                             help="Enrollment token for this school, from IT staff. Example: --token et_3kQ9...")
            sub.add_argument("--room", required=True,
                             help="Code of the room this machine stands in, as in the inventory. "
                                  "Example: --room R-530326-0001-101")
        if name == "status":
            sub.add_argument("--json", action="store_true", help="Print the status as JSON. Example: --json")
        sub.add_argument("--config", type=Path, default=None,
                         help=f"TOML settings file (default {config.default_config_path()} when it exists). "
                              "Example: --config /etc/eduops-agent/agent.toml")
        for key in keys:
            meta = config.SETTINGS[key].metadata
            flag = config.flag_of(key)
            sub.add_argument(flag, dest=key, default=argparse.SUPPRESS, metavar=key.upper(),
                             help=f"{meta['help']} Setting `{key}`. Example: {flag} {meta['example']}"
                             .replace("%", "%%"))
    return parser


def load_settings(args: argparse.Namespace) -> config.Settings:
    path = args.config
    if path is None and config.default_config_path().exists():
        path = config.default_config_path()
    return config.load(path, {key: getattr(args, key) for key in config.SETTINGS if hasattr(args, key)})


def configure_logging(settings: config.Settings) -> None:
    handlers: list[logging.Handler] = [logging.StreamHandler()]
    if settings.log_file:
        # Imported here: half a megabyte of resident memory, only for agents that log to a file.
        from logging.handlers import RotatingFileHandler
        handlers.append(RotatingFileHandler(
            settings.log_file, maxBytes=1_000_000, backupCount=3, encoding="utf-8"))
    logging.basicConfig(level=settings.log_level, handlers=handlers,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def enroll(args: argparse.Namespace, settings: config.Settings) -> int:
    hub = urlsplit(args.hub)
    if hub.scheme not in ("http", "https") or not hub.hostname:
        print(f"--hub: {args.hub!r} is not an http:// or https:// address. Example: --hub http://10.53.0.5:8080",
              file=sys.stderr)
        return 2
    state = State(settings.state_dir)
    probes = SystemProbes.from_settings(settings)
    with requests.Session() as session:
        answer = enrollment.enroll(HubClient(session, settings.http_timeout_s, settings.ca_bundle), state,
                                   hub_url=args.hub, token=args.token, room=args.room,
                                   hardware=probes.hardware(), os_name=probes.os_name(), now=utc_now())
    if answer.outcome is not Outcome.OK:
        print(f"enrollment failed: {answer.message}", file=sys.stderr)
        return 75 if answer.outcome is Outcome.RETRY else 1
    enrolled = state.enrollment()
    print(f"Enrolled as {enrolled.agent_id}: school {enrolled.school}, room {enrolled.room}, "
          f"terminal {enrolled.terminal or 'not in the inventory yet'}.\n"
          f"The key is kept in {state.dir}. Start the service to report (see docs/agent.md).")
    return 0


def run(args: argparse.Namespace, settings: config.Settings) -> int:
    state = State(settings.state_dir)
    state.create()
    spool = Spool(state.spool_path, settings.spool_max_reports, settings.spool_max_bytes)
    stop = threading.Event()
    for name in ("SIGTERM", "SIGINT", "SIGBREAK"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), lambda *_: stop.set())
    enrolled = state.enrollment()
    log.info("eduops-agent %s starting: %s; %d report(s) kept", __version__,
             f"agent {enrolled.agent_id} in room {enrolled.room}, hub {enrolled.hub_url}"
             + (" (key REVOKED: enroll again)" if enrolled.revoked else "")
             if enrolled else "not enrolled yet", spool.status().pending)
    with requests.Session() as session, requests.Session() as recorder_session:
        client = HubClient(session, settings.http_timeout_s, settings.ca_bundle)
        probes, on_command, duty = SystemProbes.from_settings(settings), loop.unsupported_command, None
        if settings.recorder_start:  # a broadcast room's recorder: its own duty, on its own thread
            rec = recorder.Recorder(recorder.RecorderSettings.from_settings(settings), state,
                                    HubClient(recorder_session, settings.http_timeout_s, settings.ca_bundle),
                                    stop=stop)
            probes, on_command = recorder.WithRecordings(probes, rec), rec.handler(on_command)
            duty = threading.Thread(target=recorder.run, args=(rec,), name="recorder")
            duty.start()
        agent = loop.Agent(settings, state, spool, client, probes, on_command=on_command, stop=stop)
        loop.run(agent)
        if duty:
            duty.join()
    spool.close()
    log.info("eduops-agent stopped")
    return 0


def once(args: argparse.Namespace, settings: config.Settings) -> int:
    try:
        enrolled = State(settings.state_dir).enrollment()
    except StateError:  # no access to the state directory: measure everything but the hub
        enrolled = None
    now = utc_now()
    body = SystemProbes.from_settings(settings).collect(now, enrolled.hub_url if enrolled else None)
    # seq 0: this report is only shown, never spooled, so it takes no sequence number.
    print(json.dumps({**loop.make_report(body, now), "seq": 0}, ensure_ascii=False, indent=2))
    return 0


def local(moment: str | None) -> str:
    return from_iso(moment).astimezone().strftime("%Y-%m-%d %H:%M:%S %z") if moment else "never"


def status(args: argparse.Namespace, settings: config.Settings) -> int:
    state = State(settings.state_dir)
    try:
        enrolled = state.enrollment()
        spooled = peek_status(state.spool_path)
    except (StateError, sqlite3.Error) as exc:
        print(f"cannot read the agent's state in {state.dir}: {exc}", file=sys.stderr)
        return 1
    counts = asdict(spooled) if spooled else {"pending": 0, "pending_bytes": 0, "spooled": 0, "sent": 0,
                                              "dropped": 0, "last_success": None, "last_attempt": None,
                                              "last_error": None}
    record = {k: v for k, v in asdict(enrolled).items() if k != "key"} if enrolled else {}
    info = {"version": __version__, "state_dir": str(state.dir), "enrolled": enrolled is not None,
            "revoked": bool(enrolled and enrolled.revoked), **record, **counts}
    if args.json:
        print(json.dumps(info, ensure_ascii=False, indent=2))
    else:
        print(describe(info))
    return 0 if enrolled and not enrolled.revoked else 1


def describe(info: dict) -> str:
    if not info["enrolled"]:
        enrolled = f"no: run `eduops-agent enroll {HUB_EXAMPLE}`"
    else:
        enrolled = (f"yes, {info['agent_id']} in room {info['room']} (school {info['school']}, terminal "
                    f"{info['terminal'] or 'unknown'}), hub {info['hub_url']}, since {local(info['enrolled_at'])}")
    lines = [f"eduops-agent {info['version']}, state in {info['state_dir']}", f"Enrolled:     {enrolled}"]
    if info["revoked"]:
        lines.append(f"Key:          REVOKED by the hub at {local(info['revoked_at'])}; reports are kept "
                     "until the machine is enrolled again")
    lines += [f"Last success: {local(info['last_success'])}",
              f"Last attempt: {local(info['last_attempt'])}"
              + (f" failed: {info['last_error']}" if info["last_error"] else ""),
              f"Spool:        {info['pending']} report(s) waiting ({info['pending_bytes'] / 1024:.0f} KiB); "
              f"spooled {info['spooled']}, sent {info['sent']}, dropped {info['dropped']}"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings(args)
    except config.ConfigError as exc:
        print(f"eduops-agent: configuration: {exc}", file=sys.stderr)
        return 2
    try:
        configure_logging(settings)
    except OSError as exc:
        print(f"eduops-agent: configuration: log_file: cannot open {settings.log_file}: {exc.strerror}",
              file=sys.stderr)
        return 2
    command = {"enroll": enroll, "run": run, "once": once, "status": status}[args.command]
    try:
        return command(args, settings)
    except StateError as exc:
        print(f"eduops-agent: {exc}", file=sys.stderr)
        return 1
