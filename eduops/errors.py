"""Errors answer JSON under /api and HTML elsewhere; an unexpected one is logged with its traceback."""
from __future__ import annotations

import logging
import sqlite3
from typing import Any

from flask import Flask, jsonify, render_template, request
from flask_babel import gettext as _
from pydantic import BaseModel, ConfigDict, Field
from werkzeug.exceptions import HTTPException

from eduops import db as dbmod
from eduops.ctx import storage_health

log = logging.getLogger(__name__)


class ApiError(Exception):
    """A precise client error: status, a short code, and a sentence a person can act on."""

    def __init__(self, status: int, error: str, message: str, **extra: Any):
        super().__init__(message)
        self.status, self.error, self.message, self.extra = status, error, message, extra


class DomainError(Exception):
    """A refusal by meaning, raised by storage and rules; the edges (API, pages, CLI) translate it.

    ``message`` is a sentence a person can act on; ``details`` go into the JSON answer as they are
    (a booking conflict lists its conflicts and suggested slots there).
    """

    status = 400
    code = "invalid"

    def __init__(self, message: str, *, code: str | None = None, **details: Any):
        super().__init__(message)
        self.message, self.details = message, details
        if code:
            self.code = code


class Invalid(DomainError):
    status, code = 400, "invalid"


class Forbidden(DomainError):
    status, code = 403, "forbidden"


class NotFound(DomainError):
    status, code = 404, "not_found"


class Conflict(DomainError):
    status, code = 409, "conflict"


class ErrorAnswer(BaseModel):
    """The JSON shape of every refusal under /api/, for the OpenAPI document."""
    model_config = ConfigDict(strict=True, extra="ignore")

    error: str = Field(description="A short code, such as invalid or unauthorized.")
    message: str = Field(description="A sentence a person can act on.")
    details: list[dict[str, str]] | None = Field(
        default=None, description="For invalid: each field at fault as {path, problem}.")
    reenroll: bool | None = Field(default=None, description="For 401: the key is unknown or revoked; enroll again.")


# Short codes for the HTTP errors Flask and Werkzeug raise themselves.
_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
          405: "method_not_allowed", 413: "too_large", 415: "unsupported_media_type", 431: "headers_too_large",
          429: "busy", 503: "busy"}


def too_large_message(limit: int) -> str:
    return f"The request body is larger than the hub's limit of {limit} bytes; send less at once."


def server_refusal(status: int, max_body_bytes: int, detail: str) -> tuple[str, str]:
    """The code and message of a refusal the WSGI server makes before the app runs (see server.py)."""
    if status == 413:
        return "too_large", too_large_message(max_body_bytes)
    if status == 431:
        return "headers_too_large", ("The request headers are larger than the hub accepts; send fewer or "
                                     "shorter headers (clear the hub's cookies in a browser).")
    if status == 500:
        return "internal", INTERNAL
    if status == 503:
        return "busy", f"The hub is busy ({detail}); send again after the Retry-After seconds."
    return _CODES.get(status, "bad_request"), f"The hub could not read this HTTP request ({detail}); fix the client."


STORAGE_RETRY_AFTER_S = 30


def storage_refusal(problem: str) -> ApiError:
    """The 503 for a request the hub could not store: nothing of it was kept, so send it again later."""
    # People meet it on pages too (signing in writes a session), so it is translated.
    return ApiError(503, "storage_unavailable", _(
        "The hub cannot write its database (%(problem)s); nothing of this request was stored. Try again after "
        "%(seconds)d seconds; the county technology centre is alerted.", problem=problem,
        seconds=STORAGE_RETRY_AFTER_S), retry_after=STORAGE_RETRY_AFTER_S)


INTERNAL = ("The hub failed on this request; the fault is logged. "
            "Try again later and tell the county technology centre if it persists.")


def refusal(exc: Exception, health: dbmod.StorageHealth, where: str) -> tuple[int, dict[str, Any], dict[str, str]]:
    """The status, JSON body and headers of the API's answer to ``exc``, wherever the request was
    handled (the Flask app, or a route answered below it: eduops/bare.py). A storage fault (disk full)
    opens or continues an episode; anything unexpected is logged with its traceback."""
    if isinstance(exc, sqlite3.Error) and (problem := dbmod.storage_fault(exc)):
        health.failed(problem)  # logs once per episode
        exc = storage_refusal(problem)
    if isinstance(exc, ApiError):
        headers = {"Retry-After": str(int(exc.extra["retry_after"]))} if "retry_after" in exc.extra else {}
        return exc.status, {"error": exc.error, "message": exc.message, **exc.extra}, headers
    if isinstance(exc, DomainError):
        return exc.status, {"error": exc.code, "message": exc.message, **exc.details}, {}
    log.exception("unhandled error on %s", where)
    return 500, {"error": "internal", "message": INTERNAL}, {}


def _answer(status: int, body: dict[str, Any], headers: dict[str, str] | None = None):
    if request.path.startswith("/api/"):
        return jsonify(body), status, headers or {}
    return render_template("error.html", status=status, message=body["message"]), status, headers or {}


def init_app(app: Flask) -> None:
    @app.errorhandler(Exception)
    def refused(exc: Exception):  # ApiError, DomainError, a storage fault, or a bug
        return _answer(*refusal(exc, storage_health(), f"{request.method} {request.path}"))

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        status = exc.code or 500
        message = exc.description or exc.name
        if status == 413:
            message = too_large_message(app.config["MAX_CONTENT_LENGTH"])
        return _answer(status, {"error": _CODES.get(status, "error"), "message": message},
                       dict(exc.get_headers()) if status == 405 else None)
