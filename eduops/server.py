"""Serve the hub: one process, a threaded production WSGI server, and the hub's background services.

The hub owns its scheduled jobs, so it must run as exactly one process; waitress
gives us many threads in that one process.
"""
from __future__ import annotations

import gc
import json
import logging
import signal
import threading
from datetime import datetime
from typing import Callable, Protocol

import waitress
from waitress.channel import HTTPChannel
from waitress.task import ErrorTask, ThreadedTaskDispatcher
from waitress.utilities import Error

from flask import Flask

from eduops import db as dbmod
from eduops import errors
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


class JsonErrorTask(ErrorTask):
    """waitress refuses some requests before the app sees them (a body over four times the app's limit,
    headers over ``max_request_header_size``, malformed HTTP). It cannot always tell the path (a header
    it refuses is never parsed), so it answers every one of them in the hub's JSON error shape, which is
    what the API documents and what a person can still read in a browser."""

    max_body_bytes = 0  # the app's limit, set per server by create_server

    def execute(self) -> None:
        error = self.request.error
        code, message = errors.server_refusal(error.code, self.max_body_bytes, error.body)
        body = json.dumps({"error": code, "message": message}).encode()
        self.status = f"{error.code} {error.reason}"
        self.response_headers.append(("Content-Type", "application/json"))
        if error.code == 503:
            self.response_headers.append(("Retry-After", str(SHED_RETRY_AFTER_S)))
        self.set_close_on_finish()
        self.content_length = len(body)
        self.write(body)


# Agents retry with their spool, so in a reconnect storm they are the ones to wait: once this many
# requests per worker thread are queued, agent requests are answered 503 at once (without the app),
# which keeps the queue, and so every answer's latency, bounded. People's pages still queue.
SHED_QUEUE_PER_THREAD = 4
SHED_PATHS = ("/api/v1/reports", "/api/v1/enroll")
SHED_RETRY_AFTER_S = 30


class Overloaded(Error):
    code = 503
    reason = "Service Unavailable"


class SheddingDispatcher(ThreadedTaskDispatcher):
    # waitress warns "Task queue depth is N" for every task that finds the threads busy, writing the line
    # from its one I/O thread while it holds the lock the worker threads take their next task under: at
    # 32 connections on 16 threads, a line per request and a tenth of the time the interpreter lock was
    # held (py-spy). The queue's depth is what shedding acts on (and what the ingest histogram shows),
    # so the hub does not log it.
    queue_logger = logging.getLogger("eduops.server.queue")
    queue_logger.setLevel(logging.ERROR)

    def __init__(self, threads: int):
        super().__init__()
        self.max_queue = SHED_QUEUE_PER_THREAD * threads
        self.set_thread_count(threads)

    def add_task(self, task) -> None:
        # Called by waitress's I/O thread with the channel's request lock held; the channel's
        # first request is the one about to wait in the queue.
        request = task.requests[0] if isinstance(task, HTTPChannel) and task.requests else None
        if (len(self.queue) >= self.max_queue and request is not None and request.error is None
                and request.path.startswith(SHED_PATHS)):
            request.error = Overloaded(f"{len(self.queue)} requests are waiting")
        super().add_task(task)


def create_server(app: Flask, config: Config):
    # Behind the county's reverse proxy, believe it (and only it) about the client's address and scheme.
    proxy = {"trusted_proxy": config.trusted_proxy,
             "trusted_proxy_headers": {"x-forwarded-for", "x-forwarded-proto"}} if config.trusted_proxy else {}
    # Flask answers bodies over the limit with a JSON 413; waitress stops the absurd before they
    # fill memory or disk (it buffers a whole request before the app sees it).
    # waitress takes its task dispatcher only through _dispatcher (named a test shim there).
    server = waitress.create_server(app, host=config.host, port=config.port, threads=config.threads,
                                    max_request_body_size=4 * config.max_body_bytes, ident="eduops",
                                    _dispatcher=SheddingDispatcher(config.threads), **proxy)

    class Task(JsonErrorTask):
        max_body_bytes = config.max_body_bytes

    class HubChannel(HTTPChannel):
        error_task_class = Task

        def writable(self) -> bool:
            # While a task runs, its own thread sends what it writes (waitress's write_soon), and the task's
            # end pulls the trigger for anything left. waitress calls the channel writable meanwhile as soon
            # as its buffer holds a byte: while the task's thread held the buffer's lock (in the middle of
            # its send), the I/O thread's select returned at once, again and again, each time giving the
            # interpreter lock away (about 200 empty loops per report at 4 connections, 25 at 16: most of the
            # hub's CPU time below 32 connections, docs/fleet.md). Past the high watermark the task waits for
            # the I/O thread to drain the buffer, so then it is writable.
            if self.requests and not (self.will_close or self.close_when_flushed):
                return self.total_outbufs_len > self.adj.outbuf_high_watermark
            return super().writable()

    server.channel_class = HubChannel
    return server


def serve(config: Config, services: Callable[[str], list[Service]] = lambda url: [],
          clock: Callable[[], datetime] = utcnow) -> None:
    """Serve until SIGTERM or Ctrl-C on ``clock``; ``services`` gets the hub's URL once the port is bound."""
    version = prepare_database(config)
    app = create_app(config, clock)
    server = create_server(app, config)
    url = f"http://{config.host}:{server.effective_port}"
    started = services(url)

    def stop(signum: int, _frame: object) -> None:
        raise SystemExit(f"stopping on signal {signum}")

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, stop)
    for service in started:
        service.start()
    # What start-up made (modules, the app, its templates and schemas: about 95,000 objects) lives as
    # long as the process. Left to the collector, every full collection walks all of it again: a
    # 50-80 ms pause of every thread under load, the largest part of the ingest's p99. Frozen, a full
    # collection walks only what was made since.
    gc.freeze()
    try:
        # Announced inside the try: a signal right after the announcement must still stop cleanly.
        log.info("EduOps hub serving on %s (database %s, schema %d)", url, config.db_path, version)
        server.run()
    finally:
        for service in reversed(started):
            service.stop()
        log.info("EduOps hub stopped")
