"""Start real `eduops` processes on loopback for end-to-end tests."""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests

LISTENING = re.compile(r"serving on (http://[\d.]+:\d+)")


class HubProcess:
    """A real hub process (`eduops hub` or `eduops demo`) on a free loopback port."""

    def __init__(self, db_path: Path, command: str = "hub", extra_args: tuple[str, ...] = (),
                 env: dict[str, str] | None = None):
        self.db_path = db_path
        args = [sys.executable, "-m", "eduops", command, "--db", str(db_path), "--port", "0", *extra_args]
        full_env = {**os.environ, "EDUOPS_SECRET_KEY": "test-secret-key-not-for-production", **(env or {})}
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     env=full_env, text=True)
        self.lines: list[str] = []
        self.url = self._wait_for_url()

    def _wait_for_url(self, timeout: float = 60) -> str:
        found = threading.Event()
        url: list[str] = []

        def pump() -> None:
            for line in self.proc.stdout:  # keep draining so the hub never blocks on a full pipe
                self.lines.append(line)
                match = LISTENING.search(line)
                if match and not url:
                    url.append(match.group(1))
                    found.set()
            found.set()

        threading.Thread(target=pump, daemon=True).start()
        if not found.wait(timeout) or not url:
            self.proc.kill()
            raise RuntimeError("hub did not start:\n" + "".join(self.lines))
        return url[0]

    def get(self, path: str, **kw) -> requests.Response:
        return requests.get(self.url + path, timeout=10, **kw)

    def post(self, path: str, **kw) -> requests.Response:
        return requests.post(self.url + path, timeout=10, **kw)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 10) -> float:
        """Send ``sig`` and wait for the process to end; return how long it took."""
        started = time.monotonic()
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise
        return time.monotonic() - started

    @property
    def output(self) -> str:
        return "".join(self.lines)
