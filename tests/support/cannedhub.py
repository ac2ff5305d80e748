"""A tiny real HTTP server on 127.0.0.1 speaking protocol v1 with canned answers, for testing the
agent's client and loop before the hub exists. Unscripted requests get the protocol's normal
answers: enrollment issues a key; a report batch is acknowledged report by report, as
``duplicate`` for ids already held (the hub's exactly-once rule); command acks are accepted."""
from __future__ import annotations

import json
import threading
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable

CUT = "cut"  # a scripted answer: read the request, act on it, then close without answering


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class Canned:
    status: int
    body: Any = None
    headers: dict[str, str] | None = None
    raw: bytes | None = None


class CannedHub:
    def __init__(self, interval_s: float = 60.0):
        self.seen: list[Seen] = []
        self.held: list[str] = []                    # report ids committed, in arrival order
        self.script: deque[Canned | str | Callable[[Seen], Canned]] = deque()
        self.commands: list[dict] = []               # handed out with every report answer
        self.interval_s = interval_s
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def then(self, *answers: Canned | str | Callable[[Seen], Canned]) -> "CannedHub":
        self.script.extend(answers)
        return self

    def report_ids(self) -> list[list[str]]:
        """The ids of every batch received, in order."""
        return [[r["id"] for r in s.body["reports"]] for s in self.seen if s.path == "/api/v1/reports"]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def accept(self, request: Seen) -> Canned:
        """The protocol's normal answer to a request."""
        if request.path == "/api/v1/enroll":
            return Canned(201, {"agent_id": "ag_1", "agent_key": "ak_secret", "school": "S530326-0001",
                                "room": request.body["room"], "terminal": None,
                                "report_interval_s": self.interval_s, "protocol": 1})
        if request.path == "/api/v1/reports":
            results = []
            for report in request.body["reports"]:
                status = "duplicate" if report["id"] in self.held else "accepted"
                if status == "accepted":
                    self.held.append(report["id"])
                results.append({"id": report["id"], "status": status})
            return Canned(200, {"results": results, "next_report_in_s": self.interval_s,
                                "commands": self.commands})
        return Canned(200, {})

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = raw
                request = Seen("POST", self.path, dict(self.headers), body)
                with hub.lock:
                    hub.seen.append(request)
                    scripted = hub.script.popleft() if hub.script else None
                    if scripted == CUT:
                        hub.accept(request)  # committed, but the answer never leaves
                        self.close_connection = True
                        self.connection.shutdown(2)
                        return
                    answer = (scripted(request) if callable(scripted) else scripted) or hub.accept(request)
                payload = answer.raw if answer.raw is not None else (
                    json.dumps(answer.body).encode() if answer.body is not None else b"")
                try:
                    self.send_response(answer.status)
                    for name, value in (answer.headers or {"Content-Type": "application/json"}).items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the agent stopped waiting (its timeout), as tests of timeouts intend

            def log_message(self, *args: Any) -> None:
                pass

        return Handler
