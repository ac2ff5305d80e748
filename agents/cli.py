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
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import requests

from agents import __version__, config, enrollment, loop, recorder
from agents.client import HubClient, Outcome
from agents.clock import from_iso, utc_now
from agents.i18n import _
from agents.probes.system import SystemProbes
from agents.spool import Spool, peek_status
from agents.state import State, StateError

log = logging.getLogger("agents")

HUB_EXAMPLE = "--hub http://10.53.0.5:8080 --token et_3kQ9... --room R-530326-0001-101"
# How long after enrollment "Last success: never" is expected: the start delay, a report, a retry.
FIRST_REPORT_WAIT = timedelta(minutes=3)
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
        epilog="Examples:\n" + "\n".join(f"  {example}" for _summary, example, _keys in COMMANDS.values()))
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
        print(_("--hub: {hub!r} is not an http:// or https:// address. Example: --hub http://10.53.0.5:8080")
              .format(hub=args.hub), file=sys.stderr)
        return 2
    state = State(settings.state_dir)
    probes = SystemProbes.from_settings(settings)
    hardware = probes.hardware()
    with requests.Session() as session:
        answer = enrollment.enroll(HubClient(session, settings.http_timeout_s, settings.ca_bundle), state,
                                   hub_url=args.hub, token=args.token, room=args.room,
                                   hardware=hardware, os_name=probes.os_name(), now=utc_now())
    if answer.outcome is not Outcome.OK:
        closest = answer.data.get("closest") if answer.error == "unknown_room" else None
        if isinstance(closest, list) and closest:
            # Said by the agent rather than quoted from the hub, so that it is in the installer's language.
            reason = _("room {room} is not in the inventory of school {school}; its closest room codes are "
                       "{codes} (the hub's 注册令牌 page, Enrollment tokens, lists every room of the school with "
                       "its command)").format(room=args.room, school=answer.data.get("school"),
                                              codes=", ".join(map(str, closest)))
        else:
            reason = answer.message
        print(_("enrollment failed: {reason}").format(reason=reason), file=sys.stderr)
        if answer.status == 404:
            print(not_the_hub(args.hub), file=sys.stderr)
        return 75 if answer.outcome is Outcome.RETRY else 1
    enrolled = state.enrollment()
    print(_("Enrolled as {agent}: school {school}, room {room}.").format(
        agent=enrolled.agent_id, school=enrolled.school, room=enrolled.room))
    if enrolled.terminal:
        print(_("Terminal: {terminal} of the inventory.").format(terminal=enrolled.terminal))
    else:
        print(_("Terminal: not matched to a terminal of the inventory (the hub's pages say 未对应, "
                "\"not matched\"). The hub takes this machine for a terminal of room {room} whose asset tag "
                "equals its hostname ({hostname}), machine id or a display serial, or for the room's only "
                "terminal no other agent holds. To match it, set the hostname to the terminal's asset tag, "
                "or leave one terminal of the room free, then enroll again. Reports count for the room "
                "either way.").format(room=enrolled.room, hostname=hardware.get("hostname")))
    print(_("The key is kept in {dir}. Start the service to report (docs/agent.md, section 6); the hub "
            "shows the terminal online after the first report, within about a minute.").format(dir=state.dir))
    return 0


def not_the_hub(address: str) -> str:
    """What to try after a 404 from --hub: the hub's API is at its base address."""
    parts = urlsplit(address)
    base = f"{parts.scheme}://{parts.netloc}"
    if parts.path.strip("/"):
        return _("{address} is a page of the hub, not its base address: try --hub {base}").format(
            address=address, base=base)
    return _("no EduOps hub answers at {base}: check the address and port with the county's "
             "technology centre (the hub's /healthz page answers {{\"status\": \"ok\"}})").format(base=base)


def run(args: argparse.Namespace, settings: config.Settings) -> int:
    state = State(settings.state_dir)
    state.create()
    spool = Spool(state.spool_path, settings.spool_max_reports, settings.spool_max_bytes)
    stop = threading.Event()
    for name in ("SIGTERM", "SIGINT", "SIGBREAK"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), lambda *_: stop.set())
    enrolled = state.enrollment()
    if enrolled is None:
        who = _("not enrolled yet")
    else:
        who = _("agent {agent} in room {room}, hub {hub}").format(
            agent=enrolled.agent_id, room=enrolled.room, hub=enrolled.hub_url)
        if enrolled.revoked:
            who += _(" (key REVOKED: enroll again)")
    log.info(_("eduops-agent %s starting: %s; %d report(s) kept"), __version__, who, spool.status().pending)
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
    log.info(_("eduops-agent stopped"))
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
    return from_iso(moment).astimezone().strftime("%Y-%m-%d %H:%M:%S %z") if moment else _("never")


def status(args: argparse.Namespace, settings: config.Settings) -> int:
    state = State(settings.state_dir)
    try:
        enrolled = state.enrollment()
        spooled = peek_status(state.spool_path)
    except (StateError, sqlite3.Error) as exc:
        print(_("cannot read the agent's state in {dir}: {reason}").format(dir=state.dir, reason=exc),
              file=sys.stderr)
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
        enrolled = _("no: run `eduops-agent enroll {example}`").format(example=HUB_EXAMPLE)
    else:
        enrolled = _("yes, {agent} in room {room} (school {school}, terminal {terminal}), hub {hub}, "
                     "since {since}").format(agent=info["agent_id"], room=info["room"], school=info["school"],
                                             terminal=info["terminal"] or _("not matched (未对应)"),
                                             hub=info["hub_url"], since=local(info["enrolled_at"]))
    lines = [_("eduops-agent {version}, state in {dir}").format(version=info["version"], dir=info["state_dir"]),
             _("Enrolled:     {enrolled}").format(enrolled=enrolled)]
    if info["revoked"]:
        lines.append(_("Key:          REVOKED by the hub at {when}; reports are kept until the machine "
                       "is enrolled again").format(when=local(info["revoked_at"])))
    last_success = local(info["last_success"])
    if info["enrolled"] and not info["last_success"]:
        if utc_now() - from_iso(info["enrolled_at"]) < FIRST_REPORT_WAIT:
            last_success += _(" (normal in the first minutes: the first report waits up to "
                              "start_delay_max_s, 60 s by default, after the agent starts)")
        else:
            last_success += _(" (no report reached the hub yet: is the service running? See docs/agent.md, "
                              "section 7)")
    lines += [_("Last success: {when}").format(when=last_success),
              _("Last attempt: {when}").format(when=local(info["last_attempt"]))
              + (_(" failed: {reason}").format(reason=info["last_error"]) if info["last_error"] else ""),
              _("Spool:        {pending} report(s) waiting ({kib:.0f} KiB); spooled {spooled}, sent {sent}, "
                "dropped {dropped}").format(pending=info["pending"], kib=info["pending_bytes"] / 1024,
                                            spooled=info["spooled"], sent=info["sent"], dropped=info["dropped"])]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings(args)
    except config.ConfigError as exc:
        print(_("eduops-agent: configuration: {reason}").format(reason=exc), file=sys.stderr)
        return 2
    try:
        configure_logging(settings)
    except OSError as exc:
        print(_("eduops-agent: configuration: log_file: cannot open {file}: {reason}").format(
            file=settings.log_file, reason=exc.strerror), file=sys.stderr)
        return 2
    command = {"enroll": enroll, "run": run, "once": once, "status": status}[args.command]
    try:
        return command(args, settings)
    except StateError as exc:
        print(f"eduops-agent: {exc}", file=sys.stderr)
        return 1
