"""The hub's server in process: what it sets up before it serves."""
from __future__ import annotations

import gc
import os
import signal
import socket
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


def test_a_channel_is_not_polled_for_writing_while_its_task_sends_its_own_answer(hub_config):
    # waitress's own rule (writable once a byte is buffered) had the I/O thread's select return at once,
    # again and again, while the task's thread held the buffer in the middle of its send.
    hub = server.create_server(lambda environ, start_response: [], hub_config.replace(port=0))
    near, far = socket.socketpair()
    channel = hub.channel_class(hub, near, ("127.0.0.1", 1), hub.adj)
    try:
        channel.requests, channel.total_outbufs_len = [object()], 300
        assert not channel.writable()
        channel.total_outbufs_len = hub.adj.outbuf_high_watermark + 1  # the task waits for the I/O thread
        assert channel.writable()
        channel.requests, channel.total_outbufs_len = [], 300  # the task has ended: the rest goes out
        assert channel.writable()
    finally:
        far.close()
        channel.close()
        hub.close()


def test_an_answer_larger_than_the_buffers_still_arrives_whole(hub_config):
    chunk = b"x" * (1 << 20)

    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "application/octet-stream")])
        return (chunk for _ in range(8))

    hub = server.create_server(app, hub_config.replace(port=0))
    hub.adj.outbuf_high_watermark = 2 << 20  # the task waits for the I/O thread to drain, twice over
    thread = threading.Thread(target=hub.run, daemon=True)
    thread.start()
    try:
        answer = requests.get(f"http://127.0.0.1:{hub.effective_port}/", timeout=20)
        assert answer.status_code == 200 and len(answer.content) == 8 * len(chunk)
    finally:
        hub.task_dispatcher.shutdown()
        hub.close()
