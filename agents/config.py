"""Agent settings: declared once with types, bounds, defaults, help and an example.

Defaults < the TOML file (``--config``, or the platform's default file when it
exists) < command-line flags. Loaded and validated once per process, then passed
explicitly. The same declarations build the CLI flags and are checked against
agents/agent.example.toml and docs/agent.md by the tests.
"""
import dataclasses
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Mapping, Optional, Tuple

from agents import tomlfile

from agents.recorder import check_command


class ConfigError(ValueError):
    """A setting is unknown, of the wrong type or out of bounds; the message names the key."""


def _default_dir() -> Path:
    if sys.platform == "win32":
        return Path(os.environ.get("PROGRAMDATA", r"C:\ProgramData"), "EduOps", "agent")
    return Path("/var/lib/eduops-agent")


def default_config_path() -> Path:
    """Where the agent looks for its TOML file when no ``--config`` is given."""
    if sys.platform == "win32":
        return _default_dir() / "agent.toml"
    return Path("/etc/eduops-agent/agent.toml")


def _setting(default: Any, help: str, example: str, lo: Optional[float] = None, hi: Optional[float] = None,
             choices: Optional[Tuple[str, ...]] = None, flag: Optional[str] = None) -> Any:
    meta = {"help": help, "example": example, "min": lo, "max": hi, "choices": choices, "flag": flag}
    if isinstance(default, (list, tuple)):
        return field(default_factory=lambda: tuple(default), metadata=meta)
    return field(default=default, metadata=meta)


@dataclass(frozen=True)
class Settings:
    state_dir: Path = _setting(
        _default_dir(), "Directory holding the agent key, its identity and the report spool.",
        "/var/lib/eduops-agent")
    interval_s: float = _setting(
        60.0, "Seconds between reports until the hub sets its own interval.", "60", 10, 3600,
        flag="--interval")
    jitter: float = _setting(
        0.1, "Random spread applied to every interval, as a fraction (0.1 means plus or minus 10%).",
        "0.1", 0, 0.5)
    start_delay_max_s: float = _setting(
        60.0, "Longest random wait before the first report, so machines switched on together "
        "do not report together.", "60", 0, 3600)
    backoff_base_s: float = _setting(
        5.0, "First retry window in seconds after a failed send; it doubles with each failure.",
        "5", 0.1, 600)
    backoff_cap_s: float = _setting(
        300.0, "Longest retry window in seconds, also the longest Retry-After the agent honours.",
        "300", 1, 86400)
    batch_size: int = _setting(
        100, "Most reports sent in one request when the spool holds a backlog.", "100", 1, 1000)
    spool_max_reports: int = _setting(
        10080, "Most reports kept while the hub is unreachable (10080 is a week at one a minute); "
        "the oldest are dropped first.", "10080", 100, 1_000_000)
    spool_max_bytes: int = _setting(
        50_000_000, "Most bytes of reports kept while the hub is unreachable; the oldest are dropped first.",
        "50000000", 1_000_000, 10_000_000_000)
    http_timeout_s: float = _setting(
        15.0, "Seconds to wait for the hub on any request before giving up and retrying later.",
        "15", 1, 120)
    ca_bundle: str = _setting(
        "", "PEM file of the certificate authority that signed the hub's HTTPS certificate; "
        "empty uses the system's.", "/etc/eduops-agent/county-ca.pem")
    teaching_software: Tuple[str, ...] = _setting(
        ("EasiNote",), "Process names of teaching software to report as running or not "
        "(EasiNote is Seewo's 希沃白板); .exe is optional.", "EasiNote,ClassIn")
    probe_timeout_s: float = _setting(
        2.0, "Seconds each network probe (ping, connect, DNS lookup, iw, netsh) may take.", "2", 0.2, 10)
    ping_count: int = _setting(
        3, "Probes sent to the gateway and the hub to measure round-trip time and loss.", "3", 1, 10)
    dns_check_name: str = _setting(
        "", "Host name looked up to check DNS works; empty uses the hub's host name.", "hub.county.edu.cn")
    log_level: str = _setting("INFO", "Logging level.", "INFO",
                              choices=("DEBUG", "INFO", "WARNING", "ERROR"))
    log_file: str = _setting(
        "", "File to log to as well as standard error, rotated at 1 MB (needed on Windows, "
        "where a scheduled task has no console); empty logs to standard error only.",
        r"C:\ProgramData\EduOps\agent\agent.log")
    # Recording, for the agent of a broadcast room's recorder machine (agents/recorder.py).
    recorder_start: str = _setting(
        "", "Command that starts recording a session, with placeholders {session_id}, {title}, {start}, "
        "{end} and {remaining_s}; empty: this agent records nothing and fetches no schedule.",
        "ffmpeg -nostdin -i rtsp://10.1.2.9/main -t {remaining_s} -c copy /srv/rec/{session_id}.mp4")
    recorder_stop: str = _setting(
        "", "Command run at a session's end, with the same placeholders; empty: a recorder still running "
        "is ended (SIGTERM).", "seewo-rec stop --session {session_id}")
    recorder_mode: str = _setting(
        "runs_until_end", "runs_until_end: the start command is the recording and must run until the "
        "session's end; returns: it starts the room's recorder and exits, non-zero meaning it failed.",
        "runs_until_end", choices=("runs_until_end", "returns"))
    recorder_command_timeout_s: float = _setting(
        30.0, "Seconds a command that returns (start in returns mode, stop) may take before it counts "
        "as failed, and a recorder is given to end after SIGTERM before it is killed.", "30", 1, 600)
    schedule_refresh_s: float = _setting(
        300.0, "Seconds between fetches of the room's recording schedule (an unchanged one costs a 304).",
        "300", 30, 86400)


# Real types, not `from __future__ import annotations`: _kind reads them (typing's Tuple for Python 3.8).
SETTINGS: Dict[str, dataclasses.Field] = {f.name: f for f in dataclasses.fields(Settings)}


def flag_of(name: str) -> str:
    """The command-line flag of a setting (``--interval`` for ``interval_s``, else ``--state-dir`` style)."""
    return SETTINGS[name].metadata["flag"] or "--" + name.replace("_", "-")


def _kind(name: str) -> str:
    return {Path: "path", float: "number", int: "whole number", str: "text"}.get(
        SETTINGS[name].type, "list of names")


def _coerce(name: str, raw: Any) -> Any:
    kind = _kind(name)
    try:
        if kind == "list of names":
            items = raw.split(",") if isinstance(raw, str) else raw
            if not isinstance(items, (list, tuple)) or not all(isinstance(i, str) for i in items):
                raise ValueError
            value: Any = tuple(i.strip() for i in items if i.strip())
        elif isinstance(raw, bool):
            raise ValueError
        elif kind == "whole number":
            if isinstance(raw, float) and not raw.is_integer():
                raise ValueError
            value = int(raw)
        elif kind == "number":
            value = float(raw)
        elif not isinstance(raw, (str, Path)):
            raise ValueError
        else:
            value = Path(raw) if kind == "path" else str(raw)
    except (TypeError, ValueError):
        raise ConfigError(f"{name}: {raw!r} is not a valid {kind}") from None
    meta = SETTINGS[name].metadata
    if meta["min"] is not None and value < meta["min"]:
        raise ConfigError(f"{name}: {value} is below the minimum {meta['min']}")
    if meta["max"] is not None and value > meta["max"]:
        raise ConfigError(f"{name}: {value} is above the maximum {meta['max']}")
    if meta["choices"] and value not in meta["choices"]:
        raise ConfigError(f"{name}: {value!r} is not one of {', '.join(meta['choices'])}")
    return value


def read_toml(path: Path) -> Dict[str, Any]:
    try:
        values = tomlfile.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"config file {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"config file {path}: not UTF-8 text (save it as UTF-8)") from None
    except tomlfile.TomlError as exc:
        raise ConfigError(f"config file {path}: {exc}") from None
    unknown = sorted(set(values) - set(SETTINGS))
    if unknown:
        raise ConfigError(f"{unknown[0]}: unknown setting in {path} (known: {', '.join(SETTINGS)})")
    return values


def load(path: Optional[Path] = None, overrides: Optional[Mapping[str, Any]] = None) -> Settings:
    """Build the settings: defaults < TOML file < overrides (command-line flags, as text or values)."""
    values: Dict[str, Any] = read_toml(path) if path is not None else {}
    values.update({k: v for k, v in (overrides or {}).items() if v is not None})
    unknown = sorted(set(values) - set(SETTINGS))
    if unknown:
        raise ConfigError(f"{unknown[0]}: unknown setting")
    settings = Settings(**{name: _coerce(name, raw) for name, raw in values.items()})
    if settings.backoff_cap_s < settings.backoff_base_s:
        raise ConfigError(f"backoff_cap_s: {settings.backoff_cap_s} is below backoff_base_s "
                          f"{settings.backoff_base_s}")
    for name in ("recorder_start", "recorder_stop"):
        try:
            check_command(name, getattr(settings, name))
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
    return settings
