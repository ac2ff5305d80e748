"""A fault-injecting TCP proxy on loopback, for agents talking to a real hub through a bad network."""
from __future__ import annotations

import random
import select
import socket
import struct
import threading
import time
from dataclasses import dataclass


@dataclass
class Faults:
    """Chances per connection (drop) or per answer (reset), and a delay per chunk forwarded."""
    latency_s: float = 0.0
    drop: float = 0.0            # close the agent's connection before anything reaches the hub
    reset_answer: float = 0.0    # the hub answered (it has committed): reset instead of forwarding


class FaultProxy:
    def __init__(self, target: tuple[str, int], faults: Faults, seed: int = 1):
        self.target, self.faults = target, faults
        self.rng = random.Random(seed)
        self.counts = {"connections": 0, "dropped": 0, "answers_reset": 0}
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self._stop = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self) -> None:
        self._stop.set()
        self.listener.close()

    def _chance(self, p: float) -> bool:
        return p > 0 and self.rng.random() < p

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            self.counts["connections"] += 1
            if self._chance(self.faults.drop):
                self.counts["dropped"] += 1
                reset(client)
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=10)
            except OSError:
                reset(client)
                continue
            threading.Thread(target=self._relay, args=(client, upstream), daemon=True).start()

    def _relay(self, client: socket.socket, upstream: socket.socket) -> None:
        """Both directions in one thread, so a reset is never raced by a recv blocked elsewhere."""
        try:
            while True:
                readable, _, _ = select.select([client, upstream], [], [], 30)
                if not readable:
                    break
                for source in readable:
                    chunk = source.recv(65536)
                    if not chunk:
                        raise EOFError
                    if self.faults.latency_s:
                        time.sleep(self.faults.latency_s)
                    if source is upstream and self._chance(self.faults.reset_answer):
                        self.counts["answers_reset"] += 1
                        raise ResetError
                    (upstream if source is client else client).sendall(chunk)
        except ResetError:
            reset(client)
            upstream.close()
            return
        except (EOFError, OSError):
            pass
        client.close()
        upstream.close()


class ResetError(Exception):
    pass


def free_port() -> int:
    """A loopback port free now, so a restarted hub can take the same one (agents keep its URL)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def reset(sock: socket.socket) -> None:
    """Close with a TCP reset (linger 0), as a NAT box or a flaky link does."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    finally:
        sock.close()
