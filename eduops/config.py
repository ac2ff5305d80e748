"""Hub configuration: declared once with types, bounds and defaults.

Defaults < TOML file (``--config``) < ``EDUOPS_*`` environment variables.
Loaded and validated once per process, then passed explicitly.
"""
from __future__ import annotations

import dataclasses
import os
import secrets
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

from scheduler import timetable


class ConfigError(ValueError):
    """A configuration value is missing or out of bounds; the message names the key."""


def _setting(default: Any, help: str, lo: float | None = None, hi: float | None = None,
             choices: tuple[str, ...] | None = None, check: Callable[[Any], Any] | None = None) -> Any:
    """One setting; ``check`` parses the value and raises ValueError saying what is wrong with it."""
    return field(default=default, metadata={"help": help, "min": lo, "max": hi, "choices": choices,
                                            "check": check})


@dataclass(frozen=True)
class Config:
    db_path: Path = _setting(Path("eduops.db"), "SQLite database file of the hub.")
    host: str = _setting("127.0.0.1", "Address the hub listens on.")
    port: int = _setting(8080, "TCP port the hub listens on; 0 picks a free one.", 0, 65535)
    # An agent's report holds its thread until the group commit that records it: the threads bound how
    # many reports one commit (one fsync) can take, and waiting threads cost little (docs/fleet.md).
    threads: int = _setting(32, "Worker threads of the WSGI server.", 1, 256)
    secret_key: str | None = _setting(
        None, "Key that signs session cookies. Required for `eduops hub`; demo and test generate one.")
    log_level: str = _setting("INFO", "Logging level.", choices=("DEBUG", "INFO", "WARNING", "ERROR"))
    max_body_bytes: int = _setting(
        1_048_576, "Largest request body accepted, in bytes; larger bodies get 413.", 1024, 64 * 1_048_576)
    timezone: str = _setting("Asia/Shanghai", "Time zone in which pages show times; storage is UTC.",
                             check=timetable.parse_zone)
    county_name: str = _setting("会泽县", "County name shown on pages and in metrics.")
    metrics_per_terminal: bool = _setting(
        False, "Also export one series per terminal on /metrics (its last report time); off by default "
        "because 20,000 terminals make 20,000 series.")
    demo: bool = _setting(False, "Serve demo data and its banner (set by `eduops demo`).")
    session_idle_minutes: int = _setting(
        240, "Minutes without a request after which a signed-in session ends.", 5, 7 * 24 * 60)
    session_max_hours: int = _setting(
        12, "Hours after signing in when a session ends, however active.", 1, 30 * 24)
    login_window_minutes: int = _setting(
        15, "Minutes during which failed sign-ins count toward the limits below.", 1, 24 * 60)
    login_max_failures_per_account: int = _setting(
        5, "Failed sign-ins to one username from one address within the window before each further try "
        "from there waits (1 s, doubling up to the window); other addresses are not slowed.", 1, 100)
    login_max_failures_per_address: int = _setting(
        20, "Failed sign-ins on usernames no account has, per client address within the window; then that "
        "address gets 429 for any name until the window passes.",
        1, 10_000)
    trusted_proxy: str | None = _setting(
        None, "Address of the reverse proxy whose X-Forwarded-For and X-Forwarded-Proto headers the hub "
        "believes (the client's address for rate limits; HTTPS for Secure cookies).")
    coverage_window_days: int = _setting(
        7, "Observation window of coverage, in days: a terminal counts as working when it reported "
           "within it, and a network as present when an agent saw it on one of its days.", 1, 90)
    coverage_wifi_min_dbm: int = _setting(
        -75, "Weakest Wi-Fi signal, in dBm, that counts as usable wireless coverage of a class.", -100, -30)
    # The fleet: enrollment, reports and terminal state.
    report_interval_s: int = _setting(
        60, "Seconds between an agent's reports, as the hub tells every agent.", 10, 3600)
    report_jitter: float = _setting(
        0.1, "Fraction by which each told interval varies at random, so agents never report in step.", 0, 0.5)
    offline_after_missed: int = _setting(
        3, "Report intervals a terminal may miss during class hours before it is offline "
        "(one missed interval makes it stale).", 1, 100)
    class_hours: str = _setting(
        "07:30-12:00,14:00-18:00", "When terminals are expected on, county-local time; outside these "
        "hours a silent terminal is `expected_off`, not offline.", check=timetable.parse_class_hours)
    school_days: str = _setting("mon,tue,wed,thu,fri", "Days with classes.", check=timetable.parse_school_days)
    holidays: str = _setting(
        "", "County-local dates without classes: days and ranges, such as "
        "`2026-10-01..2026-10-07,2027-01-15..2027-02-20`.", check=timetable.parse_holidays)
    retire_after_days: int = _setting(
        30, "Days of silence after which a terminal is proposed for retirement (IT staff confirm).", 1, 3650)
    clock_skew_warn_s: int = _setting(
        60, "Clock skew, in seconds, beyond which a terminal's clock is shown as wrong.", 1, 86400)
    raw_report_days: int = _setting(
        3, "Days raw reports are kept; the daily rollup (agent_days) keeps their sum for good.", 1, 366)
    history_days: int = _setting(
        400, "Days state changes and finished commands are kept.", 30, 3650)
    max_batch_reports: int = _setting(
        500, "Most reports in one batch; larger batches get 413 and the agent sends smaller ones.", 1, 10000)
    command_ttl_s: int = _setting(
        86400, "Seconds a queued command waits for its agent before it expires.", 60, 30 * 86400)
    enroll_token_days: int = _setting(
        7, "Days an enrollment token lasts unless `--expires` says otherwise.", 1, 365)

    # Sky classroom booking (docs/bookings.md).
    booking_hours: str = _setting(
        "07:30-18:00", "When sessions may run on school days, county-local time; a session lies inside one "
        "of these periods.", check=timetable.parse_class_hours)
    booking_setup_buffer_minutes: int = _setting(
        10, "Minutes kept free between two sessions in the same room or with the same host, for setting up.",
        0, 120)
    booking_min_minutes: int = _setting(10, "Shortest session, in minutes.", 1, 120)
    booking_max_minutes: int = _setting(
        240, "Longest session, in minutes (below 12 hours, which checks rely on).", 10, 600)
    terms: str = _setting(
        "", "School terms, county-local dates, such as `2026-09-01..2027-01-22,2027-02-20..2027-07-09`; a "
        "weekly series stays inside one term (none configured: no series).", check=timetable.parse_holidays)
    stream_mbps: float = _setting(
        4.0, "Bandwidth of one live stream, in Mbps: up at the source school, down at each receiving room's "
        "school.", 0.1, 1000)
    live_share: float = _setting(
        0.6, "Share of a school's uplink (uplink_mbps in the inventory) that live streams may use at once.",
        0.05, 1)
    county_stream_mbps: float = _setting(
        1000.0, "Egress of the county streaming server, in Mbps: every receiving stream at once must fit.",
        1, 1_000_000)
    approval_required: bool = _setting(
        True, "Sessions with a receiving room outside the source room's school wait for the county admin's "
        "approval.")
    approval_deadline_h: int = _setting(
        24, "Hours before its start when a session still waiting for approval expires and frees its slots.",
        0, 24 * 30)
    # Sky classroom delivery (docs/delivery.md).
    readiness_leads_minutes: str = _setting(
        "30,10", "Minutes before a session's start at which its rooms' readiness is checked (and people "
        "told about rooms not ready), comma-separated.", check=lambda text: parse_leads(text))
    schedule_days: int = _setting(
        7, "Days ahead a broadcast room's agent is given its recording schedule (GET /api/v1/schedule).", 1, 60)
    notify_retry_base_s: int = _setting(
        60, "Seconds before a failed robot message is tried again; the wait doubles with each failure "
        "(at most 6 hours).", 5, 3600)
    notify_max_attempts: int = _setting(
        8, "Attempts at sending a robot message before it is given up (and counted as such).", 1, 100)

    def replace(self, **changes: Any) -> "Config":
        return load(overrides=dataclasses.asdict(self) | changes)


SETTINGS = {f.name: f for f in dataclasses.fields(Config)}


def parse_leads(text: str) -> list[int]:
    """`30,10` as [30, 10]: whole minutes from 1 to 1440."""
    try:
        leads = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise ValueError(f"{text!r} is not a list of whole minutes such as 30,10") from None
    if not leads or not all(1 <= lead <= 1440 for lead in leads):
        raise ValueError(f"{text!r}: give one or more whole minutes from 1 to 1440, such as 30,10")
    return leads


def _coerce(name: str, raw: Any) -> Any:
    f = SETTINGS[name]
    kind = f.type.split(" |")[0] if isinstance(f.type, str) else f.type
    meta = f.metadata
    if raw is None:
        return None
    try:
        if kind == "bool":
            if isinstance(raw, bool):
                value: Any = raw
            elif str(raw).strip().lower() in ("1", "true", "yes", "on"):
                value = True
            elif str(raw).strip().lower() in ("0", "false", "no", "off"):
                value = False
            else:
                raise ValueError
        elif kind == "int":
            if isinstance(raw, bool) or (isinstance(raw, float) and not raw.is_integer()):
                raise ValueError
            value = int(raw)
        elif kind == "float":
            if isinstance(raw, bool):
                raise ValueError
            value = float(raw)
        elif kind == "Path":
            value = Path(raw)
        else:
            if not isinstance(raw, str):
                raise ValueError
            value = raw
    except (TypeError, ValueError):
        raise ConfigError(f"{name}: {raw!r} is not a valid {kind}") from None
    if meta["min"] is not None and value < meta["min"]:
        raise ConfigError(f"{name}: {value} is below the minimum {meta['min']}")
    if meta["max"] is not None and value > meta["max"]:
        raise ConfigError(f"{name}: {value} is above the maximum {meta['max']}")
    if meta["choices"] and value not in meta["choices"]:
        raise ConfigError(f"{name}: {value!r} is not one of {', '.join(meta['choices'])}")
    if meta["check"]:
        try:
            meta["check"](value)
        except ValueError as exc:
            raise ConfigError(f"{name}: {exc}") from None
    return value


def load(path: Path | None = None, env: Mapping[str, str] | None = None,
         overrides: Mapping[str, Any] | None = None) -> Config:
    """Build the configuration: defaults < TOML file < EDUOPS_* variables < overrides (CLI flags)."""
    values: dict[str, Any] = {}
    if path is not None:
        try:
            with open(path, "rb") as fh:
                from_file = tomllib.load(fh)
        except OSError as exc:
            raise ConfigError(f"config file {path}: {exc.strerror}") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"config file {path}: {exc}") from None
        unknown = sorted(set(from_file) - set(SETTINGS))
        if unknown:
            raise ConfigError(f"{unknown[0]}: unknown setting in {path}")
        values.update(from_file)
    env = os.environ if env is None else env
    for name in SETTINGS:
        key = "EDUOPS_" + name.upper()
        if key in env:
            values[name] = env[key]
    values.update({k: v for k, v in (overrides or {}).items() if v is not None})
    return Config(**{name: _coerce(name, raw) for name, raw in values.items()})


def with_generated_secret(config: Config) -> Config:
    """Demo and test modes generate a throwaway secret instead of refusing to start."""
    return config if config.secret_key else config.replace(secret_key=secrets.token_urlsafe(32))
