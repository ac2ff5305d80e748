"""Serve the hub: one process, a threaded production WSGI server, and the hub's background services.

The hub owns its scheduled jobs, so it must run as exactly one process; waitress
gives us many threads in that one process.
"""
from __future__ import annotations

import logging
import signal
import threading
from datetime import datetime
from typing import Callable, Protocol

import waitress

from eduops import db as dbmod
from eduops.app import create_app
from eduops.clock import utcnow
from eduops.config import Config

log = logging.getLogger(__name__)


class Service(Protocol):
    """Something that runs beside the web server for the hub's lifetime (jobs, the demo swarm)."""

    def start(self) -> None: ...
    def stop(self) -> None: ...


def prepare_database(config: Config) -> int:
    """Create or upgrade the database file; return its schema version."""
    database = dbmod.connect(config.db_path)
    try:
        return dbmod.migrate(database)
    finally:
        database.conn.close()


def serve(config: Config, services: Callable[[str], list[Service]] = lambda url: [],
          clock: Callable[[], datetime] = utcnow) -> None:
    """Serve until SIGTERM or Ctrl-C on ``clock``; ``services`` gets the hub's URL once the port is bound."""
    version = prepare_database(config)
    app = create_app(config, clock)
    # Behind the county's reverse proxy, believe it (and only it) about the client's address and scheme.
    proxy = {"trusted_proxy": config.trusted_proxy,
             "trusted_proxy_headers": {"x-forwarded-for", "x-forwarded-proto"}} if config.trusted_proxy else {}
    server = waitress.create_server(app, host=config.host, port=config.port, threads=config.threads,
                                    # Flask answers bodies over the limit with a JSON 413;
                                    # waitress only stops the absurd before they fill memory.
                                    max_request_body_size=4 * config.max_body_bytes, ident="eduops", **proxy)
    url = f"http://{config.host}:{server.effective_port}"
    started = services(url)

    def stop(signum: int, _frame: object) -> None:
        raise SystemExit(f"stopping on signal {signum}")

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, stop)
    for service in started:
        service.start()
    try:
        # Announced inside the try: a signal right after the announcement must still stop cleanly.
        log.info("EduOps hub serving on %s (database %s, schema %d)", url, config.db_path, version)
        server.run()
    finally:
        for service in reversed(started):
            service.stop()
        log.info("EduOps hub stopped")
