"""Every answer under /api/ is the documented JSON error shape, whichever layer refuses (defect 3)."""
from __future__ import annotations

import json
import socket

import pytest

from tests.support.hubprocess import HubProcess

pytestmark = pytest.mark.e2e  # starts real hub processes


def raw_request(url: str, data: bytes) -> tuple[int, dict[str, str], dict]:
    """Send raw bytes, read the whole answer (the hub closes after a refusal); status, headers, JSON body."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        try:
            sock.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the hub may answer and close before it has read everything we meant to send
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    head, _, body = b"".join(chunks).partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), headers, json.loads(body)


@pytest.fixture(scope="module")
def small_hub(tmp_path_factory):
    hub = HubProcess(tmp_path_factory.mktemp("refusals") / "hub.db", env={"EDUOPS_MAX_BODY_BYTES": "100000"})
    yield hub
    hub.stop()
    assert "Traceback" not in hub.output


def test_a_body_beyond_four_times_the_limit_is_refused_by_waitress_in_the_json_shape(small_hub):
    head = (b"POST /api/v1/reports HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 500000\r\n\r\n")
    status, headers, body = raw_request(small_hub.url, head + b"{" * 1000)
    assert status == 413
    assert headers["Content-Type"] == "application/json"
    assert body["error"] == "too_large" and "100000 bytes" in body["message"]


def test_a_body_between_the_limit_and_four_times_it_is_refused_by_the_app_in_the_same_shape(small_hub):
    head = (b"POST /api/v1/reports HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 200000\r\nConnection: close\r\n\r\n")
    status, _headers, body = raw_request(small_hub.url, head + b" " * 200000)
    assert status == 413 and body["error"] == "too_large" and "100000 bytes" in body["message"]


def test_oversized_headers_are_refused_in_the_json_shape(small_hub):
    # just over waitress's max_request_header_size (256 KiB), so it has read everything when it answers
    head = b"GET /api/v1/terminals HTTP/1.1\r\nHost: x\r\nCookie: " + b"a" * 262_144 + b"\r\n\r\n"
    status, headers, body = raw_request(small_hub.url, head)
    assert status == 431
    assert headers["Content-Type"] == "application/json"
    assert body["error"] == "headers_too_large" and body["message"]


def test_a_malformed_request_is_refused_in_the_json_shape(small_hub):
    status, _headers, body = raw_request(
        small_hub.url, b"POST /api/v1/reports HTTP/1.1\r\nHost: x\r\nContent-Length: nope\r\n\r\n")
    assert status == 400 and body["error"] == "bad_request" and body["message"]
