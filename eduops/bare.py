"""Routes the hub answers below Flask, as plain WSGI: for the one hot path, an agent's report (every
terminal sends one a minute), Flask's request context, hooks and response objects cost more than the
work itself.

Flask's URL map still declares such a route, with the function that does its work (so the OpenAPI
document, the access matrix and the 405 for another method come from it as for any route); the
hub's ``wsgi_app`` (eduops/app.py) hands its requests to the route's WSGI handler before Flask sees
them. What every API answer needs is shared with the Flask side, not copied: the JSON error shape
(``errors.refusal``), the security headers (``auth.security_headers``) and the body limit's 413.
"""
from __future__ import annotations

import contextlib
import json
from http import HTTPStatus
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

import sqlite_utils

from eduops import auth
from eduops import db as dbmod
from eduops.errors import ApiError, too_large_message

StartResponse = Callable[..., Any]
WsgiHandler = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]
_REASONS = {status.value: f"{status.value} {status.phrase}" for status in HTTPStatus}


def body(environ: dict[str, Any], limit: int) -> bytes:
    """The request body, or the API's 413 when it is over ``limit`` bytes (waitress has already
    refused anything over four times the limit, and has read the rest: this never blocks)."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0  # waitress refuses a malformed Content-Length before the app sees it
    if length > limit:
        raise ApiError(413, "too_large", too_large_message(limit))
    return environ["wsgi.input"].read(length) if length else b""


@contextlib.contextmanager
def database(path: Path) -> Iterator[Callable[[], sqlite_utils.Database]]:
    """A connection opened only if the handler asks for one (the hot path needs none), closed at the end."""
    opened: list[sqlite_utils.Database] = []

    def get() -> sqlite_utils.Database:
        if not opened:
            opened.append(dbmod.connect(path))
        return opened[0]

    try:
        yield get
    finally:
        for db in opened:
            db.conn.close()


def answer(start_response: StartResponse, environ: dict[str, Any], status: int, document: dict[str, Any],
           headers: dict[str, str]) -> list[bytes]:
    """Send ``document`` as the JSON answer, with the headers every answer of the hub carries."""
    data = json.dumps(document, ensure_ascii=False).encode()
    head = [("Content-Type", "application/json"), ("Content-Length", str(len(data))), *headers.items()]
    head += auth.security_headers({name.lower() for name, _ in head}, environ.get("wsgi.url_scheme") == "https")
    start_response(_REASONS[status], head)
    return [data]
