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
from typing import Any, Mapping


class ConfigError(ValueError):
    """A configuration value is missing or out of bounds; the message names the key."""


def _setting(default: Any, help: str, lo: float | None = None, hi: float | None = None,
             choices: tuple[str, ...] | None = None) -> Any:
    return field(default=default, metadata={"help": help, "min": lo, "max": hi, "choices": choices})


@dataclass(frozen=True)
class Config:
    db_path: Path = _setting(Path("eduops.db"), "SQLite database file of the hub.")
    host: str = _setting("127.0.0.1", "Address the hub listens on.")
    port: int = _setting(8080, "TCP port the hub listens on; 0 picks a free one.", 0, 65535)
    threads: int = _setting(16, "Worker threads of the WSGI server.", 1, 256)
    secret_key: str | None = _setting(
        None, "Key that signs session cookies. Required for `eduops hub`; demo and test generate one.")
    log_level: str = _setting("INFO", "Logging level.", choices=("DEBUG", "INFO", "WARNING", "ERROR"))
    max_body_bytes: int = _setting(
        1_048_576, "Largest request body accepted, in bytes; larger bodies get 413.", 1024, 64 * 1_048_576)
    timezone: str = _setting("Asia/Shanghai", "Time zone in which pages show times; storage is UTC.")
    county_name: str = _setting("会泽县", "County name shown on pages and in metrics.")
    demo: bool = _setting(False, "Serve demo data and its banner (set by `eduops demo`).")
    session_idle_minutes: int = _setting(
        240, "Minutes without a request after which a signed-in session ends.", 5, 7 * 24 * 60)
    session_max_hours: int = _setting(
        12, "Hours after signing in when a session ends, however active.", 1, 30 * 24)
    login_window_minutes: int = _setting(
        15, "Minutes during which failed sign-ins count toward the limits below.", 1, 24 * 60)
    login_max_failures_per_account: int = _setting(
        5, "Failed sign-ins per username within the window; further tries get 429 until it passes.", 1, 100)
    login_max_failures_per_address: int = _setting(
        20, "Failed sign-ins per client address within the window; further tries get 429 until it passes.",
        1, 10_000)
    trusted_proxy: str | None = _setting(
        None, "Address of the reverse proxy whose X-Forwarded-For and X-Forwarded-Proto headers the hub "
        "believes (the client's address for rate limits; HTTPS for Secure cookies).")
    coverage_window_days: int = _setting(
        7, "Observation window of coverage, in days: a terminal counts as working when it reported "
           "within it, and a network as present when an agent saw it on one of its days.", 1, 90)
    coverage_wifi_min_dbm: int = _setting(
        -75, "Weakest Wi-Fi signal, in dBm, that counts as usable wireless coverage of a class.", -100, -30)

    def replace(self, **changes: Any) -> "Config":
        return load(overrides=dataclasses.asdict(self) | changes)


SETTINGS = {f.name: f for f in dataclasses.fields(Config)}


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
