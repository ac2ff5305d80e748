"""The hub's server in process: what it sets up before it serves."""
from __future__ import annotations

import gc
import os
import signal
import threading

import requests

from eduops import server


class FreezeProbe:
    """A service that, once the hub answers, notes how many objects the collector no longer walks,
    then stops the hub the way an operator does (SIGTERM, which waitress ends its loop on)."""

    def __init__(self, url: str):
        self.url, self.frozen = url, -1

    def start(self) -> None:
        threading.Thread(target=self._probe, daemon=True).start()

    def _probe(self) -> None:
        try:
            requests.get(self.url + "/healthz", timeout=10)  # answered once server.run() has begun
            self.frozen = gc.get_freeze_count()
        finally:
            os.kill(os.getpid(), signal.SIGTERM)

    def stop(self) -> None:
        pass


def test_what_start_up_made_is_out_of_the_collectors_reach_while_serving(hub_config):
    # Every full collection would walk the app's tens of thousands of start-up objects again,
    # a pause of every request thread (the ingest's p99, docs/reliability.md).
    gc.unfreeze()
    probes: list[FreezeProbe] = []
    previous = signal.getsignal(signal.SIGTERM)
    try:
        server.serve(hub_config.replace(port=0), lambda url: probes.append(FreezeProbe(url)) or probes)
    finally:
        signal.signal(signal.SIGTERM, previous)
        gc.unfreeze()
    assert probes[0].frozen > 10_000
