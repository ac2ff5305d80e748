"""A group robot for tests: a loopback HTTP server that keeps what Apprise's json:// target posts, and
the address of one that is dead."""
from __future__ import annotations

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Sink:
    """A loopback HTTP server that keeps every JSON body posted to it."""

    def __init__(self):
        self.received: list[dict] = []
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                sink.received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()
        self.url = f"json://127.0.0.1:{self.server.server_address[1]}/robot"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def dead_url() -> str:
    with socket.socket() as s:       # a port that was free a moment ago: nobody listens there
        s.bind(("127.0.0.1", 0))
        return f"json://127.0.0.1:{s.getsockname()[1]}/robot"
