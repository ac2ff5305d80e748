"""The hub's HTTP client (protocol v1): enroll, send a batch of reports, acknowledge a command.

Every call has a timeout and ends in an `Answer` whose outcome tells the loop
what to do: OK; RETRY (network failure, 5xx, 429, 503, or an answer that is not
the hub's, such as a captive portal's page) with backoff and Retry-After;
REENROLL (401 with ``reenroll``); REFUSED (any other 4xx: the same request would
fail the same way, so it is not retried as it is; the loop drops a report the hub
found bad (400, 413) and keeps reports when the agent itself is refused).
"""
from __future__ import annotations

import enum
import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Callable, Mapping

import requests

from agents import __version__
from agents.clock import utc_now
from agents.i18n import _


class Outcome(enum.Enum):
    OK = "ok"
    RETRY = "retry"
    REENROLL = "reenroll"
    REFUSED = "refused"


@dataclass(frozen=True)
class Answer:
    outcome: Outcome
    status: int | None          # HTTP status; None when no answer arrived
    message: str                # one line a person can act on
    error: str | None = None    # the hub's error code, or "network"
    data: dict = field(default_factory=dict)
    retry_after_s: float | None = None


def parse_retry_after(value: str | None, server_now: datetime) -> float | None:
    """Retry-After as seconds or an HTTP date, measured against the hub's own clock."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        return max(0.0, (parsedate_to_datetime(value) - server_now).total_seconds())
    except (TypeError, ValueError):
        return None


def classify(status: int, headers: Mapping[str, str], content: bytes, now: datetime,
             expect: str | None = None) -> Answer:
    """Turn one HTTP answer into what the agent should do; ``expect`` is a key an OK body must hold."""
    try:
        data = json.loads(content) if content else {}
    except ValueError:
        data = None
    if not isinstance(data, dict):
        data = None
    if 200 <= status < 300:
        if data is None or (expect and expect not in data):
            return Answer(Outcome.RETRY, status, _("the answer to a {status} is not the hub's "
                          "(a proxy or captive portal in the way?)").format(status=status), "unexpected_answer")
        return Answer(Outcome.OK, status, "ok", data=data)
    data = data or {}
    error = data.get("error") if isinstance(data.get("error"), str) else None
    said = data.get("message") if isinstance(data.get("message"), str) else ""
    message = _("hub answered {status}").format(status=status) + (f" {error}" if error else "") \
        + (f": {said}" if said else "")
    if status == 429 or status >= 500:
        server_now = now
        if headers.get("Date"):
            try:
                server_now = parsedate_to_datetime(headers["Date"])
            except (TypeError, ValueError):
                pass
        return Answer(Outcome.RETRY, status, message, error, data,
                      parse_retry_after(headers.get("Retry-After"), server_now))
    if status == 401 and data.get("reenroll") is True:
        return Answer(Outcome.REENROLL, status, message, error, data)
    if 400 <= status < 500:
        return Answer(Outcome.REFUSED, status, message, error, data)
    return Answer(Outcome.RETRY, status, _("unexpected answer {status} from the hub "
                  "(a proxy or captive portal in the way?)").format(status=status), "unexpected_answer")


def describe_failure(exc: requests.RequestException, timeout_s: float) -> str:
    """A short reason for a failed request, without urllib3's internals."""
    if isinstance(exc, requests.Timeout):
        return _("no answer within {seconds:g} s").format(seconds=timeout_s)
    if isinstance(exc, requests.exceptions.SSLError):
        return _("TLS certificate not trusted (set ca_bundle to the county's CA file)")
    reason = re.search(r"\[Errno -?\d+\] ([^'\")]+)", str(exc))
    return reason.group(1).strip() if reason else type(exc).__name__


class HubClient:
    """Talks to one hub at a time; the session (connection pool) is passed in."""

    def __init__(self, session: requests.Session, timeout_s: float, ca_bundle: str = "",
                 clock: Callable[[], datetime] = utc_now):
        self.session = session
        self.timeout_s = timeout_s
        self.verify: str | bool = ca_bundle or True
        self.clock = clock

    def enroll(self, hub_url: str, payload: dict) -> Answer:
        body = json.dumps(payload, ensure_ascii=False).encode()
        return self._post(hub_url, "/api/v1/enroll", body, None, "agent_key")

    def send_reports(self, hub_url: str, key: str, reports: list[str], sent_at: str) -> Answer:
        """POST a batch; ``reports`` are the spooled JSON texts, joined without decoding."""
        body = ('{"sent_at":%s,"reports":[%s]}' % (json.dumps(sent_at), ",".join(reports))).encode()
        return self._post(hub_url, "/api/v1/reports", body, key, "results")

    def ack_command(self, hub_url: str, key: str, command_id: str, status: str, detail: str) -> Answer:
        body = json.dumps({"status": status, "detail": detail}, ensure_ascii=False).encode()
        return self._post(hub_url, f"/api/v1/commands/{command_id}/ack", body, key, None)

    def _post(self, hub_url: str, path: str, body: bytes, key: str | None, expect: str | None) -> Answer:
        headers = {"Content-Type": "application/json", "User-Agent": f"eduops-agent/{__version__}"}
        if key:
            headers["Authorization"] = f"Bearer {key}"
        try:
            response = self.session.post(hub_url.rstrip("/") + path, data=body, headers=headers,
                                         timeout=self.timeout_s, verify=self.verify, allow_redirects=False)
        except requests.RequestException as exc:
            return Answer(Outcome.RETRY, None, _("cannot reach the hub at {hub}: {reason}").format(
                hub=hub_url, reason=describe_failure(exc, self.timeout_s)), "network")
        return classify(response.status_code, response.headers, response.content, self.clock(), expect)
